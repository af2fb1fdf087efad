"""`fduck retry`: what the last command left undone, read from target/run_results.json.

As dbt's retry: the nodes whose status was error, fail or skipped are run again with
the same command on the same target; nodes that passed (or only warned) are not.
Flags such as --full-refresh are not carried over: pass them again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from featureduck.config.project_config import load_project_config
from featureduck.errors import UsageError
from featureduck.project.ids import NodeId
from featureduck.runner.artifacts import RUN_RESULTS_FILE

RETRIED = ("run", "build", "seed", "snapshot", "test")
UNDONE = ("error", "fail", "skipped")
NODE_KINDS = ("model", "snapshot", "seed", "test", "unit_test")


@dataclass(frozen=True)
class Retry:
    command: str
    target: str | None
    select: tuple[str, ...]  # the undone nodes, by name, as selectors


def what_to_retry(project_dir: Path) -> Retry:
    path = load_project_config(project_dir).target_dir / RUN_RESULTS_FILE
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"nothing to retry: {path} does not exist",
                         hint="retry reruns what the last run, build or test left undone") from None
    except json.JSONDecodeError as err:
        raise UsageError(f"{path} is not JSON ({err.msg}): cannot tell what to retry") from None
    command = str(payload.get("args", {}).get("command"))
    if command not in RETRIED:
        raise UsageError(f"the last command recorded in {path} was `{command}`, which retry does not rerun",
                         hint=f"retry reruns {', '.join(RETRIED)}")
    undone = [r["unique_id"] for r in payload.get("results", []) if r.get("status") in UNDONE
              and str(r.get("unique_id", "")).split(".", 1)[0] in NODE_KINDS]  # hooks' operations are not nodes
    names = tuple(dict.fromkeys(NodeId.parse(uid).name for uid in undone))
    return Retry(command, payload.get("args", {}).get("target"), names)
