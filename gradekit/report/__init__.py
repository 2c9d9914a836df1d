"""Outputs of a grading run: terminal tables, JSON, a CSV gradebook, Gradescope results."""

from .files import write_csv, write_gradescope, write_json
from .terminal import print_report, summary_line

__all__ = ["print_report", "summary_line", "write_csv", "write_gradescope", "write_json"]
