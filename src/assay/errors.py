"""One error hierarchy for the whole package.

Each error carries the process exit code the command line uses for it, so the CLI can turn any
``AssayError`` into one clear line without a traceback.
"""

from __future__ import annotations


class AssayError(Exception):
    """Anything Assay reports to a user as one line; exit code 1."""

    exit_code = 1


class InputError(AssayError):
    """Bad input: a programme file, an export, an argument. Exit code 2.

    ``where`` names the file and, when known, the line: ``assay.yaml:12``; the problem names
    the field.
    """

    exit_code = 2

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        super().__init__(f"{where}: {problem}")


class VerificationError(AssayError):
    """Evidence failed verification. Exit code 3."""

    exit_code = 3
