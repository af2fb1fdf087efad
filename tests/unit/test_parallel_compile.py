"""The forked fan-out gives exactly what the sequential compile gives."""

from __future__ import annotations

import pytest

from featureduck.api import Project
from featureduck.compiler import parallel
from featureduck.errors import SqlSyntaxError
from tests.conftest import ProjectFactory


def _files() -> dict[str, str]:
    files = {
        "models/base.sql": "select range as id from range(3)",
        "models/eph.sql": "{{ config(materialized='ephemeral') }} select id from {{ ref('base') }}",
        "models/broken.sql": "select 1 as a,\n  (2 as b\nfrom {{ ref('base') }}",
    }
    for i in range(40):
        files[f"models/m{i}.sql"] = f"select id + {i} as v from {{{{ ref('{'eph' if i % 2 else 'base'}') }}}}"
    return files


def test_fan_out_matches_sequential(make_project: ProjectFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(_files())
    sequential = Project.load(root).compile(use_cache=False)
    monkeypatch.setattr(parallel, "MIN_MODELS_PER_WORKER", 5)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 3)
    # other tests may leave threads behind (a Spark session's gateway); none touch the compile
    monkeypatch.setattr(parallel.threading, "active_count", lambda: 1)
    assert parallel._worker_count(40) == 3
    fanned = Project.load(root).compile(use_cache=False)
    assert {n: m.sql for n, m in fanned.models.items()} == {n: m.sql for n, m in sequential.models.items()}
    assert "__fduck__cte__eph" in fanned.models["m1"].sql
    error = fanned.errors["broken"]  # raised by sqlglot in a worker, pickled back with its location
    assert isinstance(error, SqlSyntaxError)
    assert str(error) == str(sequential.errors["broken"])
    assert str(error).startswith("models/broken.sql:")
