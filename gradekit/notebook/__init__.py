"""Notebooks as submissions: a notebook's code cells joined into one module the worker
imports (``convert``), and the self-check a student runs from a cell (``check``, shown by
``verdict``)."""
