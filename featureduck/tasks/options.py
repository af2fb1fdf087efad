"""What each command is asked to do, as frozen keyword-only records.

The CLI and the Python API build these; a task reads them and nothing else
of how it was called.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from featureduck.errors import UsageError

if TYPE_CHECKING:
    from featureduck.exports.files import FileOptions


def _as_tuple(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


@dataclass(frozen=True, kw_only=True)
class Selector:
    """dbt's node selection: `--select`, `--exclude` and `--state`."""

    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    state: Path | None = None

    @classmethod
    def of(
        cls, select: str | Iterable[str] | None = None, exclude: str | Iterable[str] | None = None, state: str | Path | None = None,
    ) -> Selector:
        return cls(select=_as_tuple(select), exclude=_as_tuple(exclude), state=Path(state) if state else None)

    @property
    def narrows(self) -> bool:
        """Something was asked for: without it a command acts on everything."""
        return bool(self.select or self.exclude or self.state)


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """`fduck run`, `fduck snapshot` and `fduck build`."""

    selector: Selector = field(default_factory=Selector)
    threads: int | None = None  # None: the target's
    full_refresh: bool = False
    use_cache: bool = True  # skip models unchanged since their last build (runner.fingerprints)
    snapshots: bool = False  # `fduck snapshot`: build the selected snapshots, not the models (`fduck build`: both)
    fail_fast: bool = False  # the first failure stops the run: nothing more starts, the rest is skipped

    @property
    def command(self) -> str:
        return "snapshot" if self.snapshots else "run"


@dataclass(frozen=True, kw_only=True)
class ShowOptions:
    """`fduck show`: a model, or an inline query in the project's dialect (refs allowed)."""

    model: str | None = None
    inline: str | None = None
    limit: int = 5  # dbt's default


@dataclass(frozen=True, kw_only=True)
class TestOptions:
    selector: Selector = field(default_factory=Selector)
    threads: int | None = None
    fail_fast: bool = False  # the first failing test stops the others not yet started


@dataclass(frozen=True, kw_only=True)
class ExportOptions:
    """A model's relation, or a query's rows, to a file."""

    out: Path
    file: FileOptions
    model: str | None = None
    query: str | None = None  # in the project's dialect; refs and sources allowed

    def __post_init__(self) -> None:
        if (self.model is None) == (self.query is None):
            raise UsageError("export a model or a --query, one of them")


@dataclass(frozen=True, kw_only=True)
class BackupOptions:
    selector: Selector = field(default_factory=Selector)
    directory: Path | None = None  # default: backups/ in the project


@dataclass(frozen=True, kw_only=True)
class RestoreOptions:
    selector: Selector = field(default_factory=Selector)
    snapshot: str | None = None  # by id; else the newest at or before `at`; else the newest
    at: datetime.datetime | None = None  # UTC
    directory: Path | None = None


@dataclass(frozen=True, kw_only=True)
class ProfileOptions:
    models: tuple[str, ...]
    threshold: float = 0.25  # flag what moved by more than this fraction
    keep: bool = True  # store this profile in the history


@dataclass(frozen=True, kw_only=True)
class MaterializeOptions:
    views: tuple[str, ...] = ()  # default: every online view
    full: bool = False  # recompute from every row, replacing the online values
    start: datetime.datetime | None = None  # Feast's window: the newest row per entity stamped in [start, end] (UTC)
    end: datetime.datetime | None = None  # alone: incremental up to it (Feast's materialize-incremental END)


@dataclass(frozen=True, kw_only=True)
class StreamOptions:
    sources: tuple[str, ...] = ()  # `source`, `source.table` or `source:source.table`; default: every stream source
    until_idle: float | None = None  # stop after this many seconds without a message; None: until interrupted
    reset: bool = False  # forget the recorded offsets and the landed rows, and read every source from its first message
