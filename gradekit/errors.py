"""The errors gradekit reports to a person: one line, naming the file and the problem."""

from __future__ import annotations


class GradekitError(Exception):
    """An error with a message fit for the terminal as it is, with no traceback."""


class SubmissionError(GradekitError):
    """A submission (or plugin) could not be loaded or registered what it should not."""

    def __init__(self, location: str, problem: str) -> None:
        self.location = location
        self.problem = problem
        super().__init__(f"{location}: {problem}")


class RegistrationError(GradekitError):
    """A plugin's ``gradekit_register`` put something wrong in the registry."""
