"""The backup folder: content-addressed Parquet objects and one manifest per snapshot.

    <dir>/objects/<sha256>.parquet      one relation's rows; its name is its checksum
    <dir>/snapshots/<id>.json           what a snapshot holds: per relation its kind,
                                        columns (DuckDB types), rows, object and the
                                        fingerprint it was built from

Objects are shared between snapshots, so a relation unchanged since the last
snapshot costs nothing more. Plain files: the folder can be copied, synced to
object storage or restored on another machine and engine.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from featureduck.project.ids import NodeKind
from featureduck.errors import UsageError

_CHUNK = 1 << 20


@dataclass(frozen=True)
class RelationEntry:
    name: str  # the model's or seed's name
    kind: NodeKind  # model | snapshot | seed
    materialized: str
    relation: str  # where it was, as the engine named it
    identifier: str  # its table name there
    columns: list[tuple[str, str]]  # (name, DuckDB type)
    rows: int
    object: str  # sha256 of the Parquet file
    bytes: int
    fingerprint: str | None  # runner.fingerprints at backup time; None: always copied
    sql_checksum: str | None  # of the SQL it was built from (models)


@dataclass
class Snapshot:
    id: str
    created_at: str  # ISO, UTC
    project: str
    target: str
    engine: str
    relations: dict[str, RelationEntry] = field(default_factory=dict)
    copied: int = 0  # objects this snapshot wrote (the rest were already there)

    @property
    def created(self) -> datetime.datetime:
        return datetime.datetime.fromisoformat(self.created_at)

    @property
    def bytes(self) -> int:
        return sum(entry.bytes for entry in self.relations.values())


class BackupStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.objects = root / "objects"
        self.snapshots = root / "snapshots"

    def object_path(self, checksum: str) -> Path:
        return self.objects / f"{checksum}.parquet"

    def add_object(self, staged: Path) -> tuple[str, int, bool]:
        """Move a written Parquet file in under its checksum (dropping it if already
        there); its checksum, its size and whether it is new."""
        checksum = file_checksum(staged)
        size = staged.stat().st_size
        self.objects.mkdir(parents=True, exist_ok=True)
        destination = self.object_path(checksum)
        if destination.exists():
            staged.unlink()
            return checksum, size, False
        staged.replace(destination)
        return checksum, size, True

    def new_id(self, created: datetime.datetime) -> str:
        base = created.strftime("%Y%m%dT%H%M%SZ")
        chosen, n = base, 1
        while (self.snapshots / f"{chosen}.json").exists():
            n += 1
            chosen = f"{base}-{n}"
        return chosen

    def save(self, snapshot: Snapshot) -> None:
        """The manifest is written last, under a temporary name then renamed: a backup
        that fails midway leaves no snapshot, only objects the next one may reuse."""
        self.snapshots.mkdir(parents=True, exist_ok=True)
        path = self.snapshots / f"{snapshot.id}.json"
        temporary = path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(asdict(snapshot), indent=2, sort_keys=True))
        temporary.replace(path)

    def list(self) -> list[Snapshot]:
        """Every snapshot, oldest first."""
        if not self.snapshots.is_dir():
            return []
        found = [self._load(path) for path in self.snapshots.glob("*.json")]
        return sorted(found, key=lambda s: (s.created_at, s.id))

    def latest(self) -> Snapshot | None:
        snapshots = self.list()
        return snapshots[-1] if snapshots else None

    def resolve(self, snapshot_id: str | None, at: datetime.datetime | None) -> Snapshot:
        """A snapshot by id, else the newest taken at or before `at`, else the newest."""
        snapshots = self.list()
        if not snapshots:
            raise UsageError(f"no snapshots in {self.root}", hint="take one with `fduck backup`")
        if snapshot_id is not None:
            for snapshot in snapshots:
                if snapshot.id == snapshot_id:
                    return snapshot
            raise UsageError(f"no snapshot '{snapshot_id}' in {self.root}", hint="list them with `fduck backup --list`")
        if at is not None:
            earlier = [s for s in snapshots if s.created <= at]
            if not earlier:
                raise UsageError(f"no snapshot taken at or before {at.isoformat(sep=' ')} (UTC)",
                                 hint=f"the first is {snapshots[0].id}, taken {snapshots[0].created_at}")
            return earlier[-1]
        return snapshots[-1]

    def _load(self, path: Path) -> Snapshot:
        try:
            raw = json.loads(path.read_text())
            relations = {
                name: RelationEntry(**{**entry, "columns": [tuple(c) for c in entry["columns"]]})
                for name, entry in raw.pop("relations").items()
            }
            return Snapshot(**raw, relations=relations)
        except (ValueError, KeyError, TypeError) as err:
            raise UsageError(f"{path} is not a snapshot manifest: {err}") from None


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
