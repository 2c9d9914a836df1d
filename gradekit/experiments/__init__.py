"""The lecture's experiments as commands: ``gradekit experiment NAME``.

Each experiment is a module here with ``SUMMARY`` (one line), ``add_arguments(parser)``
and ``run(args, console) -> int``; ``EXPERIMENTS`` maps the command name to the module.
"""

from __future__ import annotations

EXPERIMENTS: dict[str, str] = {
    "init-stats": "init_stats",
    "optimizers": "optimizers",
    "learning-rate": "learning_rate",
    "dropout": "dropout",
    "hparam-search": "hparam_search",
    "transfer": "transfer",
    "pretext": "pretext",
}
"""Command name -> module of ``gradekit.experiments``, e.g. ``"init-stats": "init_stats"``."""
