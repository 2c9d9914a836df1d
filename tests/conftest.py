"""Plugins for the whole suite: pytester drives the self-check's runs (tests/selfcheck).

pytest accepts ``pytest_plugins`` only in a top-level conftest, hence here.
"""

pytest_plugins = ["pytester"]
