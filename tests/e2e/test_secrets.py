"""No command prints a password: every command and failure mode runs with a
distinctive one in the profile and the sources, and all output and every file
the commands leave behind are searched for it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, fduck

SECRET = "Zq9Probe7Secret"
WRONG = "Zq9Wrong7Secret"


def _profiles(pg_dsn: str) -> str:
    server = pg_dsn.rsplit("@", 1)[-1]  # host:port/db of the test server
    host, port = server.split("/")[0].split(":")
    return f"""
default:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: target/dev.duckdb
      online_store: {{type: postgres, dsn: "postgresql://postgres:{WRONG}@{server}"}}
    wrong: {{type: postgres, dsn: "postgresql://postgres:{WRONG}@{server}", schema: secrets_probe}}
    parts: {{type: postgres, host: {host}, port: {port}, user: postgres, password: {WRONG}, dbname: postgres, schema: secrets_probe}}
    malformed: {{type: postgres, dsn: "host={host} password {SECRET} user=postgres", schema: secrets_probe}}
    malformed_uri: {{type: postgres, dsn: "postgresql://postgres:{SECRET}@{server}?sslmode=%zz{SECRET}", schema: secrets_probe}}
    bad_online:
      type: duckdb
      path: target/dev.duckdb
      online_store: {{type: postgres, dsn: "host={host} {SECRET} password"}}
"""


def test_no_command_prints_a_password(tmp_path: Path, pg_dsn: str) -> None:
    root = tmp_path / "shop"
    shutil.copytree(REPO_ROOT / "project_template", root)
    (root / "profiles.yml").write_text(_profiles(pg_dsn))
    server = pg_dsn.rsplit("@", 1)[-1]
    (root / "sources" / "app.yml").write_text(
        "sources:\n  - name: app\n    type: postgres\n"
        f"    connection: \"host={server.split(':')[0]} user=postgres password={SECRET} dbname=postgres\"\n"
        "    tables:\n      - {name: events, timestamp_field: ts}\n"
    )
    (root / "models" / "app_events.sql").write_text("select * from {{ source('app', 'events') }}\n")
    (root / "entities.csv").write_text("customer_id,event_timestamp\n1,2024-01-01\n")
    commands = [
        ["debug"], ["ls"], ["compile"], ["run"], ["run", "--debug"], ["test"], ["build"], ["seed"],
        ["export", "app_events", "--out", str(tmp_path / "x.csv")], ["profile", "app_events"], ["explain", "app_events"],
        ["materialize"], ["freshness"], ["backup"],
    ]
    for target in ("wrong", "parts", "malformed", "malformed_uri", "bad_online"):
        commands += [["debug", "--target", target], ["run", "--target", target], ["run", "--target", target, "--debug"],
                     ["materialize", "--target", target], ["test", "--target", target]]
    outputs = []
    for command in commands:
        result = fduck(*command, "--project-dir", str(root))
        outputs.append((command, result.stdout + result.stderr))
        assert "internal error" not in result.stdout + result.stderr or "--debug" in command, (command, result.stderr)
    leaks = [command for command, output in outputs if SECRET in output or WRONG in output]
    assert leaks == [], leaks
    written = [p for p in root.rglob("*") if p.is_file() and p.suffix in (".json", ".sql", ".txt", ".log", ".csv", ".yml")
               and p.name not in ("profiles.yml", "app.yml")]
    assert written, "the commands wrote no artifacts"
    assert [p for p in written if SECRET in p.read_text(errors="replace") or WRONG in p.read_text(errors="replace")] == []


@pytest.mark.parametrize("text", [
    f"postgresql://u:{SECRET}@h:5432/d", f"host=h password={SECRET} user=u", f"host=h password='{SECRET}'",
    f'{{"password": "{SECRET}"}}', f"mysql://u:{SECRET}@h/d",
])
def test_connection_strings_are_masked_in_any_text(text: str) -> None:
    from featureduck.utils.secrets import mask_secrets

    assert SECRET not in mask_secrets(f"error: cannot connect with {text}: refused")
