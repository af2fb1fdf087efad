"""One protocol for every progress event a command reports, and a silent one.

Each lower layer asks only for its part (runner: models; testing: tests;
online: views); a reporter of this protocol is all of them, so a command
takes one reporter whatever it runs.
"""

from __future__ import annotations

from typing import Protocol

from featureduck.online.materialize import Materialized, ViewProgress
from featureduck.runner.results import NodeResult, RunReporter
from featureduck.testing.definitions import DataTest
from featureduck.testing.execute import TestProgress, TestResult


class Reporter(RunReporter, TestProgress, ViewProgress, Protocol):
    """What a command tells as it goes; the CLI's console implements it."""

    def source_staged(self, source: str, relation: str, rows: int | None) -> None:
        """A file source loaded into the target (rows None: unchanged since)."""

    def plan(self, total: int) -> None:
        """How many nodes and tests the command will report in all (`build` tells it,
        so its seeds, models and tests share one numbering)."""


class SilentReporter:
    """Says nothing: the Python API's default."""

    def plan(self, total: int) -> None:
        pass

    def source_staged(self, source: str, relation: str, rows: int | None) -> None:
        pass

    def node_started(self, index: int, total: int, name: str, materialized: str, relation: str) -> None:
        pass

    def node_finished(self, index: int, total: int, result: NodeResult) -> None:
        pass

    def test_started(self, index: int, total: int, test: DataTest) -> None:
        pass

    def test_finished(self, index: int, total: int, result: TestResult) -> None:
        pass

    def view_materialized(self, done: Materialized) -> None:
        pass
