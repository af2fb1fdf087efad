from __future__ import annotations

import re

import pydantic
import pytest

from featureduck.api import Project
from featureduck.errors import ProjectError, YamlError
from featureduck.utils.validation import validate_shape
from featureduck.utils.yaml_loader import load_yaml_text
from tests.conftest import ProjectFactory


class Inner(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    name: str
    size: int = 0


class Outer(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    items: list[Inner] = []


def test_loader_records_key_and_item_lines() -> None:
    data = load_yaml_text("a: 1\nitems:\n  - name: x\n  - name: y\n    size: 3\n", "f.yml")
    assert data.line_of("items") == 2
    assert data["items"].item_lines == [3, 4]
    assert data["items"][1].line_of("size") == 5


def test_syntax_error_names_file_line_and_column() -> None:
    with pytest.raises(YamlError) as err:
        load_yaml_text("a: [1, 2\nb: 3\n", "models/schema.yml")
    assert str(err.value).startswith("models/schema.yml:")
    assert err.value.location is not None and err.value.location.line == 2


def test_unknown_key_points_at_its_line_with_suggestion() -> None:
    data = load_yaml_text("items:\n  - name: x\n  - name: y\n    sise: 3\n", "f.yml")
    with pytest.raises(YamlError) as err:
        validate_shape(Outer, data, "f.yml")
    text = str(err.value)
    assert text.startswith("f.yml:4: unknown key 'items.1.sise'")
    assert "did you mean 'size'?" in text


def test_wrong_type_names_key_and_line() -> None:
    data = load_yaml_text("items:\n  - name: x\n    size: lots\n", "f.yml")
    with pytest.raises(YamlError) as err:
        validate_shape(Outer, data, "f.yml")
    assert str(err.value).startswith("f.yml:3: 'items.0.size'")


def test_missing_key_points_at_the_mapping() -> None:
    data = load_yaml_text("items:\n  - size: 1\n", "f.yml")
    with pytest.raises(YamlError, match=r"f.yml:2: missing required key 'items.0.name'"):
        validate_shape(Outer, data, "f.yml")


def test_duplicate_keys_are_an_error_with_both_lines() -> None:
    with pytest.raises(YamlError, match=r"f.yml:3:\d+: invalid YAML: duplicate key 'a' \(first at line 1\)"):
        load_yaml_text("a: 1\nb: 2\na: 3\n", "f.yml")


@pytest.mark.parametrize(("meta", "message"), [
    ("{external_location: \"read_csv('x.csv')\"}", "external_location \"read_csv('x.csv')\" is a reader call"),
    ("{external_location: 'data/{table}.csv'}", "names 'table', not {name} or {identifier}"),
])
def test_a_dbt_duckdb_external_location_it_cannot_read_is_named(make_project: ProjectFactory, meta: str, message: str) -> None:
    root = make_project({"models/src.yml": f"sources:\n  - name: files\n    meta: {meta}\n    tables:\n      - name: events\n"})
    with pytest.raises(ProjectError, match=re.escape(message)):
        Project.load(root)


def test_a_dbt_duckdb_external_location_is_the_source_file(make_project: ProjectFactory) -> None:
    root = make_project({"models/src.yml": "sources:\n  - name: files\n    meta: {external_location: 'data/{name}.parquet'}\n"
                                           "    tables:\n      - name: events\n"})
    table = Project.load(root).definition.sources[("files", "events")]
    assert (table.path, table.format) == ("data/events.parquet", "parquet")


def test_two_feature_views_kept_in_one_online_table_are_refused(make_project: ProjectFactory) -> None:
    """`clicks` version 2 and `clicks_v2` version 1 would both be `online_clicks_v2`:
    their rows would overwrite each other's, so the project does not load."""
    views = ("entities:\n  - {name: user, join_keys: [user_id]}\nfeature_views:\n"
             "  - {name: clicks, version: 2, entity: user, model: m, timestamp_field: ts, online: true, features: [{name: n}]}\n"
             "  - {name: clicks_v2, entity: user, model: m, timestamp_field: ts, online: true, features: [{name: n}]}\n")
    root = make_project({"models/m.sql": "select 1 as user_id, now() as ts, 2 as n", "models/views.yml": views})
    with pytest.raises(ProjectError, match=r"feature view 'clicks_v2' version 1 and 'clicks' version 2 \(in .*views.yml.*\) "
                                           r"would be kept in one online table, online_clicks_v2") as raised:
        Project.load(root)
    assert "views.yml" in str(raised.value)
    Project.load(make_project({"models/m.sql": "select 1 as user_id, now() as ts, 2 as n",
                               "models/views.yml": views.replace("name: clicks_v2", "name: clicks_2")}))
