"""Feast habits: `POST /get-online-features` in Feast's request and response shape over
a real server on loopback, and `materialize --start-time/--end-time` windows."""

from __future__ import annotations

from pathlib import Path

import pytest

from featureduck.api import Project
from tests.conftest import ProjectFactory, fduck
from tests.integration.online.test_serving import _request, _server

FEATURES = """
entities:
  - {name: user, join_keys: [user_id]}
  - {name: user_device, join_keys: [user_id, device]}
feature_views:
  - {name: stats, entity: user, model: stats, timestamp_field: ts, online: true,
     features: [{name: clicks, dtype: bigint}, {name: score, dtype: double}, {name: note, dtype: varchar}]}
  - {name: devices, entity: user_device, model: devices, timestamp_field: ts, online: true, features: [{name: seen, dtype: bigint}]}
  - {name: aged, entity: user, model: stats, timestamp_field: ts, ttl: 1d, online: true, features: [{name: score, dtype: double}]}
"""
# user u has a row on each of 2024-01-01, -02 and -03; its clicks are u * 10 + the day's number
STATS = """{{ config(materialized='table') }}
select u as user_id, timestamp '2024-01-01' + to_days(k) as ts, u * 10 + k + 1 as clicks, u / 4 as score,
       case when u = 2 then null else 'n' || u end as note
from range(5) as a(u), range(3) as b(k)
"""
DEVICES = """{{ config(materialized='table') }}
select * from (values (1, 'ios', timestamp '2024-01-01', 5), (1, 'web', timestamp '2024-01-02', 7)) as t(user_id, device, ts, seen)
"""


@pytest.fixture
def project(make_project: ProjectFactory) -> Path:
    root = make_project({"features/f.yml": FEATURES, "models/stats.sql": STATS, "models/devices.sql": DEVICES})
    assert fduck("run", cwd=root).returncode == 0
    return root


@pytest.mark.slow
def test_get_online_features_answers_in_feasts_shape(project: Path) -> None:
    assert fduck("materialize", cwd=project).returncode == 0
    with _server(project) as base:
        status, answer = _request(base + "/get-online-features", {
            "features": ["stats:clicks", "stats:note", "devices:seen", "aged:score"],
            "entities": {"user_id": [1, 2, 999], "device": ["web", "ios", "tv"]},
        })
        assert status == 200, answer
        assert answer["metadata"] == {"feature_names": ["user_id", "device", "clicks", "note", "seen", "score"]}
        results = answer["results"]
        assert results[0] == {"values": [1, 2, 999], "statuses": ["PRESENT"] * 3, "event_timestamps": ["1970-01-01T00:00:00Z"] * 3}
        assert results[1]["values"] == ["web", "ios", "tv"]
        assert results[2] == {"values": [13, 23, None], "statuses": ["PRESENT", "PRESENT", "NOT_FOUND"],
                              "event_timestamps": ["2024-01-03T00:00:00Z", "2024-01-03T00:00:00Z", "1970-01-01T00:00:00Z"]}
        assert results[3]["values"] == ["n1", None, None] and results[3]["statuses"] == ["PRESENT", "NULL_VALUE", "NOT_FOUND"]
        assert results[4] == {"values": [7, None, None], "statuses": ["PRESENT", "NOT_FOUND", "NOT_FOUND"],
                              "event_timestamps": ["2024-01-02T00:00:00Z", "1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"]}
        # older than the view's ttl (1 day, read now): no value, as a training set would have none
        assert results[5]["values"] == [None, None, None] and results[5]["statuses"][:2] == ["OUTSIDE_MAX_AGE"] * 2
        status, answer = _request(base + "/get-online-features", {"features": ["stats:clicks", "aged:score"],
                                                               "entities": {"user_id": [4]}, "full_feature_names": True})
        assert status == 200 and answer["metadata"]["feature_names"] == ["user_id", "stats__clicks", "aged__score"]
        assert answer["results"][1]["values"] == [43]
        bad = {
            "same names from two views": ({"features": ["stats:score", "aged:score"], "entities": {"user_id": [4]}}, 422),
            "a feature service": ({"feature_service": "svc", "entities": {"user_id": [4]}}, 422),
            "an unknown feature": ({"features": ["stats:nope"], "entities": {"user_id": [4]}}, 422),
            "an unknown view": ({"features": ["nope:x"], "entities": {"user_id": [4]}}, 404),
            "lists of two lengths": ({"features": ["devices:seen"], "entities": {"user_id": [1, 2], "device": ["ios"]}}, 422),
            "a join key missing": ({"features": ["devices:seen"], "entities": {"user_id": [1]}}, 422),
            "not view:feature": ({"features": ["clicks"], "entities": {"user_id": [1]}}, 422),
            "a key of the wrong type": ({"features": ["stats:clicks"], "entities": {"user_id": ["abc"]}}, 422),
        }
        for what, (body, expected) in bad.items():
            status, answer = _request(base + "/get-online-features", body)
            assert (status, what) == (expected, what) and answer["error"], answer
        assert _request(base + "/get-online-features", {"features": ["devices:seen"], "entities": {"user_id": [1]}})[1] == {
            "error": "feature view 'devices' is keyed by user_id, device: \"entities\" lacks device"}


def online_clicks(root: Path, user: int) -> tuple[int | None, str | None]:
    found = Project.load(root).get_online_features("stats", [{"user_id": user}])[0]
    return (found["features"]["clicks"], found["feature_ts"]) if found["features"] else (None, None)


@pytest.mark.slow
def test_materialize_windows_as_feast(project: Path) -> None:
    up_to = fduck("materialize", "-s", "stats", "--end-time", "2024-01-02", cwd=project)  # materialize-incremental END
    assert up_to.returncode == 0, up_to.stderr
    assert "stats@1: 5 rows (full, up to 2024-01-02T00:00:00.000000)" in up_to.stdout
    assert online_clicks(project, 3)[0] == 32
    assert "(since 2024-01-02T00:00:00.000000)" in fduck("materialize", "-s", "stats", cwd=project).stdout
    assert online_clicks(project, 3)[0] == 33
    assert fduck("materialize", "-s", "stats", "--full", "--end-time", "2024-01-01 00:00", cwd=project).returncode == 0
    assert online_clicks(project, 3)[0] == 31  # --full: exactly the rows up to the end time
    window = fduck("materialize", "-s", "stats", "--start-time", "2024-01-02", "--end-time", "2024-01-02T23:59:59Z",
                   cwd=project)
    assert "stats@1: 5 rows (stamped 2024-01-02T00:00:00.000000 to 2024-01-02T23:59:59.000000)" in window.stdout, window.stdout
    assert online_clicks(project, 3)[0] == 32
    # a window in the past never replaces a newer online value
    assert fduck("materialize", "-s", "stats", "--start-time", "2024-01-01", "--end-time", "2024-01-01", cwd=project).returncode == 0
    assert online_clicks(project, 3)[0] == 32
    refused = {
        ("--full", "--start-time", "2024-01-01"): "it takes an --end-time, not a --start-time",
        ("--start-time", "2024-01-03", "--end-time", "2024-01-01"): "--start-time 2024-01-03T00:00:00.000000 is after --end-time",
        ("--end-time", "soon"): "'soon' is not a time",
    }
    for args, message in refused.items():
        result = fduck("materialize", *args, cwd=project)
        assert result.returncode == 2 and message in result.stderr, result.stderr


@pytest.mark.slow
def test_a_window_past_the_watermark_warns_of_the_gap(project: Path) -> None:
    assert fduck("materialize", "-s", "stats", "--end-time", "2024-01-01", cwd=project).returncode == 0
    gap = fduck("materialize", "-s", "stats", "--start-time", "2024-01-03", cwd=project)
    assert gap.returncode == 0 and online_clicks(project, 1)[0] == 13
    assert ("rows stamped after 2024-01-01T00:00:00.000000 and before 2024-01-03T00:00:00.000000 were not loaded" in gap.stderr)
