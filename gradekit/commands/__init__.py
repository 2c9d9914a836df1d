"""Subcommands of ``gradekit`` that live in modules of their own (see ``cli.SUBCOMMANDS``)."""
