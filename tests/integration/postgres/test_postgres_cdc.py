"""A Postgres table mirrored through its logical replication slot (wal2json) into a
DuckDB target by `fduck stream`: the first copy, then seeded random inserts,
updates and deletes, against the table itself; the slot advanced only past what
the target holds; a consumer killed at random moments leaves the same mirror.
The table's `note` is often large enough to be stored out of line (TOAST), and
most updates leave it alone: their changes then do not carry it."""

from __future__ import annotations

import datetime
import os
import random
import re
import signal
import struct
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from tests.conftest import ProjectFactory, fduck, pg_profile

SOURCES = """
sources:
  - name: app
    type: postgres
    cdc: true
    schema: {schema}
    slot: {slot}
    connection: "{{{{ env_var('FDUCK_TEST_PG_DSN') }}}}"
    tables:
      - name: users
        key: [id]
        columns: {{id: bigint, name: varchar, score: double, seen_at: timestamp, note: varchar, amount: "decimal(38, 12)"}}
"""


@pytest.fixture
def app(make_project: ProjectFactory, pg_dsn: str, pg_schema: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str]]:
    slot = f"fd_test_{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("FDUCK_TEST_PG_DSN", pg_dsn)
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        con.execute(f"create schema {pg_schema}")
        con.execute(f"create table {pg_schema}.users (id bigint primary key, name text, score double precision, seen_at timestamp, "
                    "note text, amount numeric(38, 12))")
    root = make_project({"models/sources.yml": SOURCES.format(schema=pg_schema, slot=slot)})
    yield root, slot
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        con.execute("select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = %s", [slot])


def _change(con: psycopg.Connection[Any], schema: str, rng: random.Random, count: int) -> int:
    """`count` random statements; how many rows they changed (a delete of an absent key changes none)."""
    changed = 0
    for _ in range(count):
        key = rng.randrange(400)
        action = rng.random()
        if action < 0.2:
            changed += con.execute(f"delete from {schema}.users where id = %s", [key]).rowcount
        elif action < 0.3:  # the note alone: a new large value, a short one or none
            changed += con.execute(f"update {schema}.users set note = %s where id = %s", [_note(rng), key]).rowcount
        elif action < 0.4:  # a new row with its note
            changed += con.execute(f"insert into {schema}.users values (%s, 'new', 0.5, timestamp '2026-01-01', %s) "
                                   "on conflict (id) do nothing", [key, _note(rng)]).rowcount
        elif action < 0.45:  # a row's key changed (its note with it: a note left alone is unknown under the new key)
            moved = rng.randrange(400)
            changed += con.execute(f"update {schema}.users set id = %s, note = %s where id = %s and not exists "
                                   f"(select from {schema}.users where id = %s)", [moved, _note(rng), key, moved]).rowcount
        elif action < 0.5:  # an amount of more digits than a double holds
            changed += con.execute(f"update {schema}.users set amount = %s where id = %s",
                                   [Decimal(f"{rng.randrange(10**26)}.{rng.randrange(10**12):012d}") * rng.choice([1, -1]), key]).rowcount
        else:  # the others: an update leaves the note as it is
            changed += con.execute(f"insert into {schema}.users values (%s, %s, %s, timestamp '2026-01-01' + %s * interval '1 second') "
                        "on conflict (id) do update set name = excluded.name, score = excluded.score, seen_at = excluded.seen_at",
                        [key, rng.choice(["ann", "çé", None]), rng.choice([None, 1.5, -2.0]), rng.randrange(10**6)]).rowcount
    return changed


def _note(rng: random.Random) -> str | None:
    """Mostly 8 KB of random hex, which Postgres stores out of line (it barely compresses)."""
    return rng.choice([None, "short", rng.randbytes(4096).hex(), rng.randbytes(4096).hex()])


def _table(con: psycopg.Connection[Any], schema: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in con.execute(f"select id, name, score, seen_at, md5(note), amount from {schema}.users order by id").fetchall()]


def _mirror(root: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(root / "target/dev.duckdb"), read_only=True) as con:
        return con.execute("select id, name, score, seen_at, md5(note), amount from app.users order by id").fetchall()


def _confirmed(con: psycopg.Connection[Any], slot: str) -> int:
    row = con.execute("select (confirmed_flush_lsn - '0/0'::pg_lsn)::bigint from pg_replication_slots where slot_name = %s",
                      [slot]).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.slow
def test_the_mirror_follows_the_table(app: tuple[Path, str], pg_dsn: str, pg_schema: str) -> None:
    root, slot = app
    rng = random.Random(5)
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        _change(con, pg_schema, rng, 300)  # rows before the first run: the first copy brings them
        first = fduck("stream", "--until-idle", "2", cwd=root)
        assert first.returncode == 0, first.stderr
        assert _mirror(root) == _table(con, pg_schema)
        assert f"{len(_table(con, pg_schema))} rows landed" in first.stdout, first.stdout  # the copy's rows, and nothing else
        before = _confirmed(con, slot)
        with con.transaction():  # one transaction of many changes, and many of one each
            changed = _change(con, pg_schema, rng, 500)
        changed += _change(con, pg_schema, rng, 300)
        second = fduck("stream", "--until-idle", "2", cwd=root)
        assert second.returncode == 0, second.stderr
        assert _mirror(root) == _table(con, pg_schema)
        assert _confirmed(con, slot) > before  # the slot lets go of what the target holds
        assert f"{changed} rows landed" in second.stdout, second.stdout  # each change once: not the first copy again
        con.execute(f"truncate {pg_schema}.users")
        _change(con, pg_schema, rng, 50)
        third = fduck("stream", "--until-idle", "2", cwd=root)
        assert third.returncode == 0, third.stderr
        assert _mirror(root) == _table(con, pg_schema)


@pytest.mark.slow
def test_a_transaction_begun_before_an_applied_one_commits_lands_whole(app: tuple[Path, str], pg_dsn: str, pg_schema: str) -> None:
    """Changes of a transaction still open while a later-begun one commits and is applied
    come before that one's changes in the WAL: they are still to be applied, whole."""
    root, slot = app
    with psycopg.connect(pg_dsn, autocommit=True) as con, psycopg.connect(pg_dsn) as open_one:
        assert fduck("stream", "--until-idle", "1", cwd=root).returncode == 0  # the slot and the (empty) first copy
        open_one.execute(f"insert into {pg_schema}.users values (1, 'early', 1.0, timestamp '2026-01-01')")
        con.execute(f"insert into {pg_schema}.users values (2, 'between', 2.0, timestamp '2026-01-02')")
        middle = fduck("stream", "--until-idle", "1", cwd=root)
        assert middle.returncode == 0, middle.stderr
        assert _mirror(root) == [(2, "between", 2.0, datetime.datetime(2026, 1, 2), None, None)]
        open_one.execute(f"insert into {pg_schema}.users values (3, 'late', 3.0, timestamp '2026-01-03')")
        open_one.commit()
        last = fduck("stream", "--until-idle", "1", cwd=root)
        assert last.returncode == 0, last.stderr
        assert _mirror(root) == _table(con, pg_schema) and len(_table(con, pg_schema)) == 3
        assert "2 rows landed" in last.stdout, last.stdout
        # transactions without a change of the table are let go of at once
        con.execute("create temporary table unrelated (x int)")
        con.execute("insert into unrelated values (1)")
        before = _confirmed(con, slot)
        assert fduck("stream", "--until-idle", "1", cwd=root).returncode == 0
        assert _confirmed(con, slot) > before


@pytest.mark.slow
def test_a_killed_consumer_leaves_the_same_mirror(app: tuple[Path, str], pg_dsn: str, pg_schema: str) -> None:
    root, _ = app
    rng = random.Random(8)
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        _change(con, pg_schema, rng, 200)
        for _ in range(4):
            consumer = subprocess.Popen([sys.executable, "-m", "featureduck.cli", "stream"], cwd=root, env={**os.environ},
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with con.transaction():
                _change(con, pg_schema, rng, rng.randrange(500, 3000))
            time.sleep(rng.uniform(0.8, 2.5))
            consumer.send_signal(signal.SIGKILL)
            consumer.wait(timeout=10)
        final = fduck("stream", "--until-idle", "2", cwd=root)
        assert final.returncode == 0, final.stderr
        assert _mirror(root) == _table(con, pg_schema)


def test_a_changed_key_leaves_no_row_behind(app: tuple[Path, str], pg_dsn: str, pg_schema: str) -> None:
    """An update that changes a row's key deletes the old key's row, and a large value it
    leaves alone is the old key's. When the old key changed earlier in the same batch, the
    mirror cannot tell that value: a dead letter, and the old row is gone all the same."""
    root, _ = app
    rng = random.Random(1)
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        for key in (1, 2, 3):
            con.execute(f"insert into {pg_schema}.users values (%s, 'n', 1.0, timestamp '2026-01-01', %s)",
                        [key, rng.randbytes(4096).hex()])
        con.execute(f"update {pg_schema}.users set note = %s where id = 3", [rng.randbytes(4096).hex()])
        assert fduck("stream", "--until-idle", "1", cwd=root).returncode == 0
        con.execute(f"update {pg_schema}.users set id = 10 where id = 1")
        con.execute(f"update {pg_schema}.users set id = 20, name = 'moved' where id = 2")
        con.execute(f"update {pg_schema}.users set name = 'first' where id = 3")  # then moved in the same batch
        con.execute(f"update {pg_schema}.users set id = 30 where id = 3")
        result = fduck("stream", "--until-idle", "1", cwd=root)
        assert result.returncode == 0, result.stderr
        assert "1 dead letter" in result.stdout, result.stdout
        assert _mirror(root) == [row for row in _table(con, pg_schema) if row[0] != 30]
    with duckdb.connect(str(root / "target/dev.duckdb"), read_only=True) as db:
        letters = db.execute("select message_key, error from app.users__dead_letters").fetchall()
    assert letters == [('{"id":30}', "an update that leaves note as it was (an unchanged TOAST value), of a row whose old key changed "
                                     "earlier in the batch: the value is unknown, so the change is not applied")]


@pytest.mark.slow
def test_a_mirror_in_a_postgres_target_follows_the_table(make_project: ProjectFactory, pg_dsn: str, pg_schema: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The same on a Postgres target, whose SQL applies the changes (and fills in the values an update left out)."""
    slot, mirror = f"fd_test_{uuid.uuid4().hex[:10]}", f"{pg_schema}_mirror"  # the mirror's schema is dropped with pg_schema's
    monkeypatch.setenv("FDUCK_TEST_PG_DSN", pg_dsn)
    rng = random.Random(13)
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        con.execute(f"create schema {pg_schema}")
        con.execute(f"create table {pg_schema}.users (id bigint primary key, name text, score double precision, seen_at timestamp, "
                    "note text, amount numeric(38, 12))")
        root = make_project({"models/sources.yml": SOURCES.format(schema=pg_schema, slot=slot).replace("name: app", f"name: {mirror}"),
                             "profiles.yml": pg_profile(pg_schema)})
        try:
            for changes in (200, 400):  # the first copy's rows, then changes to apply
                with con.transaction():
                    _change(con, pg_schema, rng, changes)
                result = fduck("stream", "--target", "pg", "--until-idle", "2", cwd=root)
                assert result.returncode == 0, result.stderr
                held = con.execute(f"select id, name, score, seen_at, md5(note), amount from {mirror}.users order by id").fetchall()
                assert [tuple(r) for r in held] == _table(con, pg_schema)
        finally:
            con.execute("select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = %s", [slot])


def test_a_server_without_logical_decoding_is_a_clear_error(make_project: ProjectFactory, pg_dsn: str, pg_schema: str) -> None:
    root = make_project({"models/sources.yml": SOURCES.format(schema=pg_schema, slot="fd no such")})
    result = fduck("stream", "--until-idle", "1", cwd=root, env={"FDUCK_TEST_PG_DSN": pg_dsn})
    assert result.returncode != 0 and "cdc source 'app.users'" in result.stderr and "sources.yml" in result.stderr


def test_a_declared_column_the_table_lacks_is_an_error_and_makes_no_slot(make_project: ProjectFactory, pg_dsn: str,
                                                                         pg_schema: str) -> None:
    slot = f"fd_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        con.execute(f"create schema {pg_schema}")
        con.execute(f"create table {pg_schema}.users (id bigint primary key, name text, score double precision, seen_at timestamp, "
                    "note text, amount numeric(38, 12))")
        root = make_project({"models/sources.yml": SOURCES.format(schema=pg_schema, slot=slot).replace("note: varchar", "nots: varchar")})
        result = fduck("stream", "--until-idle", "1", cwd=root, env={"FDUCK_TEST_PG_DSN": pg_dsn})
        assert result.returncode == 2, result.stdout
        assert f"models/sources.yml:9: cdc source 'app.users': 'nots' is not a column of {pg_schema}.users" in result.stderr, result.stderr
        assert "note" in result.stderr  # did you mean
        assert not con.execute("select 1 from pg_replication_slots where slot_name = %s", [slot]).fetchall()


TYPED = """
sources:
  - name: app
    type: postgres
    cdc: true
    schema: {schema}
    slot: {slot}
    connection: "{{{{ env_var('FDUCK_TEST_PG_DSN') }}}}"
    tables:
      - name: typed
        key: [id]
        columns: {{id: bigint, small: smallint, flag: boolean, real_n: real, double_n: double, amount: "decimal(20, 5)",
                   name: varchar, code: "varchar(4)", day: date, stamp: timestamp, stamp_tz: timestamp, of_day: time, data: blob,
                   doc: json, uid: uuid, ints: "integer[]", names: "varchar[]", of_day_tz: time, span: interval,
                   stamps: "timestamp[]", blobs: "blob[]"}}
"""
TYPED_TABLE = ("id bigint primary key, small smallint, flag boolean, real_n real, double_n double precision, amount numeric(20, 5), "
               "name text, code varchar(4), day date, stamp timestamp, stamp_tz timestamptz, of_day time, data bytea, doc jsonb, uid uuid, "
               "ints integer[], names text[], of_day_tz timetz, span interval, stamps timestamptz[], blobs bytea[]")

TYPED_COLUMNS = re.findall(r"(?:^|, )(\w+) ", TYPED_TABLE)


def _typed_row(rng: random.Random, key: int) -> tuple[Any, ...]:
    def maybe(value: Any) -> Any:
        return None if rng.random() < 0.15 else value

    return (key, maybe(rng.randrange(-32768, 32768)), maybe(rng.random() < 0.5), maybe(rng.choice([1.5, -0.25, 3.0e38])),
            maybe(rng.uniform(-1e12, 1e12)), maybe(Decimal(f"{rng.randrange(-10**15, 10**15)}.{rng.randrange(10**5):05d}")),
            maybe(rng.choice(["ann", "çé 😀", 'quote " and \\ back', "{a,b}", ""])), maybe(rng.choice(["ab", "abcd"])),
            maybe(datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randrange(-40000, 20000))),
            maybe(datetime.datetime(2026, 1, 1) + datetime.timedelta(microseconds=rng.randrange(-10**15, 10**15))),
            maybe(datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(microseconds=rng.randrange(10**14))),
            maybe(datetime.time(rng.randrange(24), rng.randrange(60), rng.randrange(60), rng.randrange(10**6))),
            maybe(rng.randbytes(rng.randrange(0, 12))), maybe(psycopg.types.json.Jsonb({"k": rng.randrange(100), "s": "x"})),
            maybe(uuid.UUID(int=rng.getrandbits(128))), maybe([rng.choice([None, *range(-5, 5)]) for _ in range(rng.randrange(0, 4))]),
            maybe(rng.choice([["a", "b c"], [], ["q\"uote", "com,ma"], ["it's", "a'b,c'd", "back\\", "NULL", None, "new\nline", "{x}"]])),
            maybe(datetime.time(rng.randrange(24), rng.randrange(60), tzinfo=datetime.timezone(datetime.timedelta(
                minutes=rng.choice([0, 60, -300, 330]))))),
            maybe(rng.choice(["1 year 2 mons 3 days 04:05:06.78", "-1 years -2 mons +3 days -04:05:06.5", "00:00:00.000001", "-40 days",
                              "2000 hours"])),
            maybe([datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(microseconds=rng.randrange(10**14))
                   for _ in range(rng.randrange(0, 3))]),
            maybe([rng.choice([None, rng.randbytes(rng.randrange(0, 5))]) for _ in range(rng.randrange(0, 3))]))


def _typed_table(con: psycopg.Connection[Any], schema: str, zoned: bool = True) -> list[tuple[Any, ...]]:
    """The rows of the table (its stamp_tz in UTC without a zone, as the mirror declares it) or of a mirror."""
    utc = " at time zone 'UTC'" if zoned else ""
    in_utc = (f", (of_day_tz at time zone 'UTC')::time, {_SPAN_PARTS}, case when stamps is null then null else coalesce((select "
              "array_agg(s at time zone 'UTC' order by n) from unnest(stamps) with ordinality u(s, n)), '{}') end, blobs") if zoned else \
        f", of_day_tz, {_SPAN_PARTS}, stamps, blobs"
    rows = con.execute(f"select id, small, flag, real_n, double_n, amount, name, code, day, stamp, stamp_tz{utc}, of_day, "
                       f"data, doc::text, uid, ints, names{in_utc} from {schema}.typed order by id").fetchall()
    def single(value: float | None) -> float | None:  # a real as the 4 bytes both hold, widened
        return None if value is None else struct.unpack("f", struct.pack("f", value))[0]

    return [(*r[:3], single(r[3]), *r[4:12], None if r[12] is None else bytes(r[12]), *r[13:18], *_span(r[18:21]), r[21],
             None if r[22] is None else [None if b is None else bytes(b) for b in r[22]]) for r in rows]


# an interval's months, days and microseconds, as both servers read them (a timedelta would count a month 30 days)
_SPAN_PARTS = ("date_part('year', span) * 12 + date_part('month', span), date_part('day', span), "
               "(date_part('hour', span) * 3600 + date_part('minute', span) * 60) * 1000000 + date_part('microseconds', span)")


def _span(parts: Sequence[Any]) -> tuple[int | None, ...]:
    return tuple(None if p is None else int(p) for p in parts)


def _typed_mirror(root: Path, con: psycopg.Connection[Any], schema: str | None) -> list[tuple[Any, ...]]:
    """The mirror's rows: in the DuckDB target, or in the Postgres one's `schema`."""
    if schema is not None:
        return _typed_table(con, schema, zoned=False)
    with duckdb.connect(str(root / "target/dev.duckdb"), read_only=True) as duck:
        rows = duck.execute("select id, small, flag, real_n, double_n, amount, name, code, day, stamp, stamp_tz, of_day, data, "
                            f"doc::varchar, uid, ints, names, of_day_tz, {_SPAN_PARTS}, stamps, blobs "
                            "from app.typed order by id").fetchall()
    return [(*r[:18], *_span(r[18:21]), *r[21:]) for r in rows]


@pytest.mark.slow
@pytest.mark.parametrize("target", ["dev", "pg"])
def test_each_type_is_mirrored_as_the_table_holds_it(make_project: ProjectFactory, pg_dsn: str, pg_schema: str,
                                                     monkeypatch: pytest.MonkeyPatch, target: str) -> None:
    """Every type wal2json writes as text of its own (bytea's hex, arrays' braces, jsonb)
    reads back as the value the table holds: in the first copy and in the changes after,
    whatever the connection's own settings for how values are written."""
    slot = f"fd_test_{uuid.uuid4().hex[:10]}"
    odd = "-c DateStyle=SQL,DMY -c extra_float_digits=0 -c bytea_output=escape -c TimeZone=Asia/Kolkata"
    monkeypatch.setenv("FDUCK_TEST_PG_DSN", psycopg.conninfo.make_conninfo(pg_dsn, options=odd))
    rng = random.Random(9)
    placeholders = ", ".join(["%s"] * len(TYPED_COLUMNS))
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        con.execute(f"create schema {pg_schema}")
        con.execute(f"create table {pg_schema}.typed ({TYPED_TABLE})")
        mirror = f"{pg_schema}_mirror" if target == "pg" else None  # dropped with pg_schema
        sources = TYPED.format(schema=pg_schema, slot=slot)
        root = make_project({"models/sources.yml": sources.replace("name: app", f"name: {mirror}") if mirror else sources,
                             "profiles.yml": pg_profile(pg_schema)})
        try:
            for key in range(100):
                con.execute(f"insert into {pg_schema}.typed values ({placeholders})", _typed_row(rng, key))
            first = fduck("stream", "--target", target, "--until-idle", "2", cwd=root)
            assert first.returncode == 0, first.stderr
            assert "dead letter" not in first.stdout, first.stdout
            assert "p0@1;" not in first.stdout, first.stdout  # after the copy, the slot's position: the lag counts from it
            assert _typed_mirror(root, con, mirror) == _typed_table(con, pg_schema)
            for key in range(50, 150):
                con.execute(f"insert into {pg_schema}.typed values ({placeholders}) on conflict (id) do update set " +
                            ", ".join(f"{c} = excluded.{c}" for c in TYPED_COLUMNS[1:]),
                            _typed_row(rng, key))
            second = fduck("stream", "--target", target, "--until-idle", "2", cwd=root)
            assert second.returncode == 0, second.stderr
            assert "dead letter" not in second.stdout, second.stdout
            assert _typed_mirror(root, con, mirror) == _typed_table(con, pg_schema)
        finally:
            con.execute("select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = %s", [slot])
