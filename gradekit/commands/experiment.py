"""``gradekit experiment NAME``: the lecture's experiments, one subcommand per entry of
``gradekit.experiments.EXPERIMENTS`` (the single table of them)."""

from __future__ import annotations

import argparse
import importlib

from ..experiments import EXPERIMENTS


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``gradekit experiment`` and a subcommand per experiment of the table."""
    p = sub.add_parser(
        "experiment",
        help="run one of the lecture's experiments with the reference or a submission",
        description="The lecture's experiments: each prints a table; --plot FILE saves the "
        "figure. --submission FILE runs a submission's components in the sandbox.",
    )
    names = p.add_subparsers(dest="experiment", required=True, metavar="NAME")
    for name, module_name in EXPERIMENTS.items():
        module = importlib.import_module(f"gradekit.experiments.{module_name}")
        q = names.add_parser(name, help=module.SUMMARY, description=module.SUMMARY)
        module.add_arguments(q)
        q.set_defaults(run=module.run)
