"""The exception tree: every user-facing error knows where it came from.

Messages read like a compiler's (`models/orders.sql:12:5: unknown ref 'ordrs'`)
and may carry a hint line. The CLI prints them without a traceback and exits
with `exit_code`; anything that is not a FeatureDuckError is an internal error.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceLocation:
    """A place in a project file; line and col are 1-based, None when unknown."""

    file: str
    line: int | None = None
    col: int | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)


class FeatureDuckError(Exception):
    """Base of every error a user can cause; exit code 2 means invalid input."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        location: SourceLocation | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint

    def __reduce__(self) -> tuple[type[FeatureDuckError], tuple[str, SourceLocation | None, str | None]]:
        """Pickle with location and hint (errors travel back from compile workers)."""
        return (self.__class__, (self.message, self.location, self.hint))

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        if self.hint:
            text += f"\nhint: {self.hint}"
        return text


class ProjectError(FeatureDuckError):
    """The project file, a YAML file or the folder layout is invalid."""


class YamlError(ProjectError):
    """A YAML file does not parse or does not have the expected shape."""


class ProfileError(FeatureDuckError):
    """profiles.yml is missing, invalid, or names an env var that is not set."""


class UsageError(FeatureDuckError):
    """The command line is invalid (bad selector, unknown option value)."""


class CompilationError(FeatureDuckError):
    """A model cannot be rendered or compiled; fails that model only."""

    exit_code = 1


class TemplateError(CompilationError):
    """Jinja failed: syntax, undefined names, a bad ref() or source() call."""


class SqlSyntaxError(CompilationError):
    """The rendered SQL does not parse in the project dialect."""


class UnsupportedSqlError(CompilationError):
    """The target dialect cannot faithfully express a construct."""


class CycleError(CompilationError):
    """Models reference each other in a loop."""


class DatabaseError(FeatureDuckError):
    """The engine refused a statement, or the database is locked/unreachable."""

    exit_code = 1


class ConnectionFailure(DatabaseError):
    """The target database cannot be opened (locked, unreachable, bad path)."""

    exit_code = 2


class HookError(FeatureDuckError):
    """A pre-/post-hook or run hook that failed: the command fails, naming the hook."""

    exit_code = 1


class BuildError(FeatureDuckError):
    """A build refused for what the data holds (a snapshot query giving a key twice):
    nothing is replaced, and the node's result names why."""

    exit_code = 1


class StreamError(FeatureDuckError):
    """A stream cannot go on without losing or repeating messages (an offset the broker
    no longer holds, another consumer moved the recorded offsets): it stops, and what
    the target holds stays as the last committed batch left it."""

    exit_code = 1
