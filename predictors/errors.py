"""Errors raised by the predictors package.

::

    PredictorError
     ├── RecordError      (ValueError)  a malformed eval record: file, line and field
     └── ArtifactError                  a missing, corrupt or incompatible artifact
"""

from __future__ import annotations


class PredictorError(Exception):
    """Base class of every error raised by ``predictors``."""


class RecordError(PredictorError, ValueError):
    """An eval record failed validation; the message names file, line and field."""

    def __init__(self, source: str, line: int, field: str, problem: str) -> None:
        self.source = source
        self.line = line
        self.field = field
        self.problem = problem
        super().__init__(f"{source}:{line}: field {field!r}: {problem}")


class ArtifactError(PredictorError):
    """A trained artifact could not be loaded; the message names the file and problem."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")
