"""Time `fduck compile` and `fduck run` against dbt and the direct-execution floor.

For each size N a synthetic project is generated (generate_project.py) and
copied three times: one for featureduck, one for dbt, one for the floor, each
with its own DuckDB file holding the same raw data. dbt runs from a separate
virtual environment (dbt-core 1.11.16 + dbt-duckdb), given by --dbt:

    python3 -m venv benchmarks/work/dbt-venv
    benchmarks/work/dbt-venv/bin/pip install dbt-core==1.11.16 dbt-duckdb
    python benchmarks/bench_core.py --sizes 100,1000,5000 --run-sizes 100,1000

Figures are wall times of the whole command (process start included) and the
peak resident memory of its process tree (forked compile workers summed in);
the floor is execution time only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from floor import run_floor  # noqa: E402
from generate_project import generate, load_raw_data  # noqa: E402

WORK = Path(__file__).resolve().parent / "work"
FDUCK = [sys.executable, "-m", "featureduck.cli"]


@dataclass
class Timing:
    seconds: float
    peak_mb: float


_OWN_CMDLINE = Path("/proc/self/cmdline").read_bytes()


def _tree_rss_mb(pid: int) -> float:
    """RSS of a process and all its descendants (forked compile workers included).

    Zero until the child has exec'd: before that it is a (v)fork of this
    script and shows this script's memory.
    """
    try:
        if Path(f"/proc/{pid}/cmdline").read_bytes() == _OWN_CMDLINE:
            return 0.0
    except FileNotFoundError:
        return 0.0
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/statm") as statm:
                total += int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    stack.extend(int(child) for child in children.read().split())
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total / 2**20


def timed(command: list[str], cwd: Path) -> Timing:
    """Run a command; wall time and the peak summed RSS of its process tree (sampled)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    peak = [0.0]

    def sample() -> None:
        while process.returncode is None:
            peak[0] = max(peak[0], _tree_rss_mb(process.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = process.stdout.read()
    _, status = os.waitpid(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    sampler.join()
    if process.returncode != 0:
        sys.stderr.write(output.decode(errors="replace")[-3000:])
        raise SystemExit(f"{' '.join(command)} failed with {process.returncode}")
    # not ru_maxrss: it counts the pre-exec (v)fork of this script's memory
    return Timing(elapsed, peak[0])


def median(command: list[str], cwd: Path, repeat: int, before: list[Path] | None = None) -> Timing:
    timings = []
    for _ in range(repeat):
        for path in before or []:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        # flush the deletions: otherwise the journal commit of removing a
        # thousand files lands on the timed command's first file creations
        os.sync()
        timings.append(timed(command, cwd))
    return Timing(statistics.median(t.seconds for t in timings), max(t.peak_mb for t in timings))


def fresh_copy(source: Path, name: str, loader: list[str] | None) -> Path:
    """A copy of the generated project with a new database holding the raw data."""
    target = source.parent / name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("target"))
    database = target / "target" / "bench.duckdb"
    if loader is None:
        load_raw_data(database)
    else:  # dbt's environment has its own duckdb release: let it write its file
        code = (
            f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
            f"from generate_project import load_raw_data; from pathlib import Path; load_raw_data(Path({str(database)!r}))"
        )
        subprocess.run([*loader, "-c", code], check=True)
    return target


def bench_size(models: int, dbt: Path | None, run: bool, repeat: int) -> dict[str, Timing | float | None]:
    base = WORK / f"n{models}" / "generated"
    generate(base, models)
    row: dict[str, Timing | float | None] = {}
    fd = fresh_copy(base, "featureduck", None)
    caches = [fd / "target" / "compiled", fd / "target" / ".fduck_cache", fd / "target" / "manifest.json"]
    row["fduck compile cold"] = median([*FDUCK, "compile"], fd, repeat, caches)
    row["fduck compile unchanged"] = median([*FDUCK, "compile"], fd, repeat)
    dbt_dir = None
    if dbt is not None:
        dbt_dir = fresh_copy(base, "dbt", [str(dbt.parent / "python")])
        dbt_cmd = [str(dbt), "compile", "--project-dir", ".", "--profiles-dir", "."]
        dbt_caches = [dbt_dir / "target" / "compiled", dbt_dir / "target" / "partial_parse.msgpack"]
        row["dbt compile cold"] = median(dbt_cmd, dbt_dir, 1, dbt_caches)
    if run:
        row["fduck run"] = timed([*FDUCK, "run"], fd)
        floor_dir = fresh_copy(base, "floor", None)
        shutil.copy(fd / "target" / "manifest.json", floor_dir / "target" / "manifest.json")
        row["floor"] = run_floor(floor_dir, floor_dir / "target" / "bench.duckdb")
        if dbt is not None and dbt_dir is not None:
            row["dbt run"] = timed([str(dbt), "run", "--project-dir", ".", "--profiles-dir", "."], dbt_dir)
    return row


def report(models: int, row: dict[str, Timing | float | None]) -> None:
    print(f"\n## {models} models")
    for name, value in row.items():
        if isinstance(value, Timing):
            print(f"  {name:<26} {value.seconds:8.2f} s   peak {value.peak_mb:7.0f} MB")
        elif value is not None:
            print(f"  {name:<26} {value:8.2f} s   (execution only)")

    def seconds(key: str) -> float | None:
        value = row.get(key)
        return value.seconds if isinstance(value, Timing) else value

    ratios = [
        ("dbt compile / fduck compile cold", seconds("dbt compile cold"), seconds("fduck compile cold")),
        ("fduck run / floor", seconds("fduck run"), seconds("floor")),
        ("dbt run / fduck run", seconds("dbt run"), seconds("fduck run")),
    ]
    for label, top, bottom in ratios:
        if top is not None and bottom:
            print(f"  {label:<34} {top / bottom:6.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--run-sizes", default="100,1000", help="sizes at which run is timed too")
    parser.add_argument("--dbt", type=Path, default=WORK / "dbt-venv" / "bin" / "dbt")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of fduck compile (median)")
    args = parser.parse_args()
    dbt = args.dbt if args.dbt.exists() else None
    if dbt is None:
        print(f"dbt not found at {args.dbt}: dbt columns are skipped (see this script's docstring)")
    run_sizes = {int(s) for s in args.run_sizes.split(",") if s}
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    for size in (int(s) for s in args.sizes.split(",")):
        report(size, bench_size(size, dbt, size in run_sizes, args.repeat))


if __name__ == "__main__":
    main()
