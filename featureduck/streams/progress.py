"""`target/streams.json`: where each source of a running `fduck stream` is, rewritten
at every report, so another process of the same project (`fduck serve`'s /metrics)
reads the stream's positions and lag without reaching the broker or the target."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from featureduck.streams.consume import SourceProgress
from featureduck.utils.clock import utc_now

PROGRESS_FILE = "streams.json"


def write_progress(target_dir: Path, sources: list[SourceProgress], final: bool) -> None:
    """Atomically (a rename): a reader sees one whole report."""
    report = {
        "updated_at": utc_now().isoformat(timespec="seconds"), "running": not final, "pid": os.getpid(),
        "sources": [{"source": p.name, "unique_id": p.source_id, "landed": p.landed, "deleted": p.deleted, "dead_letters": p.dead_letters,
                     "online_rows": p.online_rows,
                     "partitions": {str(k): {"next_offset": v, "lag": p.lag.get(k, 0)} for k, v in sorted(p.positions.items())}}
                    for p in sources],
    }
    target_dir.mkdir(parents=True, exist_ok=True)
    partial = target_dir / (PROGRESS_FILE + ".partial")
    partial.write_text(json.dumps(report, indent=1))
    partial.replace(target_dir / PROGRESS_FILE)


def read_progress(target_dir: Path) -> dict[str, Any] | None:
    """The last report, or None when no stream has run here; a stream that was killed
    (its process is gone) is not running, whatever its last report said."""
    try:
        report = dict(json.loads((target_dir / PROGRESS_FILE).read_text()))
    except (OSError, ValueError):
        return None
    if report.get("running"):
        try:
            os.kill(int(report["pid"]), 0)
        except (OSError, KeyError, ValueError):
            report["running"] = False
    return report
