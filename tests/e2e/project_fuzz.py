"""Fuzzed projects: the starter template and the repository's example project,
each with one file damaged at random (bytes that are not UTF-8, a span deleted,
a line duplicated or re-indented, stray punctuation, Jinja or YAML tokens, a
truncation, a value of another type), then `fduck compile` and `fduck run`
run on it in process. What must hold: no traceback ("internal error"), and
every error names a file of the project. Used by the bounded test beside it
and by benchmarks/fuzz_projects.py for long runs.
"""

from __future__ import annotations

import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from featureduck.cli.main import cli
from tests.conftest import REPO_ROOT, copy_example_project

_STRAY = [",", ",,", "(", ")", "{{", "}}", "{%", "%}", ":", "[", "]", "'", '"', "\t", "- ", "{{ ref('nope') }}",
          "{{ source('raw', 'nope') }}", "{{ var('nope') }}", "{% if %}", "{% endif %}", ": [", "&anchor", "*alias",
          "select", "from", "where", "group by", "join", "--", "/*", "\\", "\x00", "é", "+materialized: 7", "!!python/object"]
_BAD_BYTES = [b"\xff", b"\xe9", b"\xc3", b"\x80\x81", b"\xed\xa0\x80"]


@dataclass
class Outcome:
    """What one fuzzed project did: the damage, each command's exit code and output."""

    number: int
    damage: str
    results: list[tuple[str, int, str]]
    problems: list[str]


def _project(workdir: Path, number: int, rng: random.Random) -> Path:
    root = workdir / f"p{number}"
    if rng.random() < 0.5:
        shutil.copytree(REPO_ROOT / "project_template", root)
    else:
        copy_example_project(root)
    return root


def _damage(root: Path, rng: random.Random) -> str:
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".sql", ".yml", ".yaml", ".md"))
    path = rng.choice(files)
    data = path.read_bytes()
    at = rng.randrange(len(data) + 1)
    kind = rng.choice(["bytes", "delete", "duplicate", "indent", "stray", "stray", "truncate", "retype"])
    if kind == "bytes":
        data = data[:at] + rng.choice(_BAD_BYTES) + data[at:]
    elif kind == "delete":
        data = data[:at] + data[at + rng.randint(1, 40):]
    elif kind == "truncate":
        data = data[:at]
    elif kind in ("duplicate", "indent"):
        lines = data.split(b"\n")
        i = rng.randrange(len(lines))
        if kind == "duplicate":
            lines.insert(i, lines[i])
        else:
            lines[i] = b" " * rng.choice([1, 2, 3, 5]) + lines[i] if rng.random() < 0.7 else lines[i].lstrip()
        data = b"\n".join(lines)
    elif kind == "stray":
        data = data[:at] + rng.choice(_STRAY).encode() + data[at:]
    else:  # a number where text is expected, or the reverse
        text = data.decode("utf-8", errors="replace")
        words = list(re.finditer(r"\b[a-z_]{3,}\b|\b\d+\b", text))
        if words:
            word = rng.choice(words)
            replacement = str(rng.randint(0, 99)) if not word.group().isdigit() else rng.choice(["abc", "true", "[]", "{}"])
            text = text[:word.start()] + replacement + text[word.end():]
        data = text.encode()
    path.write_bytes(data)
    return f"{kind} in {path.relative_to(root).as_posix()} at byte {at}"


def _problems(root: Path, command: str, code: int, output: str) -> list[str]:
    problems = []
    if "internal error" in output or "Traceback" in output:
        problems.append(f"{command}: a traceback")
    if code not in (0, 1, 2):
        problems.append(f"{command}: exit code {code}")
    project_files = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    for line in output.splitlines():
        if line.startswith("error:") and not any(f in line for f in project_files):
            problems.append(f"{command}: an error without its file: {line[:200]}")
    return problems


def fuzz(workdir: Path, number: int, seed: int, commands: tuple[str, ...] = ("compile", "run")) -> Outcome:
    rng = random.Random(seed * 100_003 + number)
    root = _project(workdir, number, rng)
    damage = _damage(root, rng)
    runner = CliRunner()
    results, problems = [], []
    for command in commands:
        result = runner.invoke(cli, [command, "--project-dir", str(root)], catch_exceptions=True)
        output = result.output + (result.stderr if result.stderr_bytes is not None else "")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            output += f"\ninternal error: {type(result.exception).__name__}: {result.exception}"
        results.append((command, result.exit_code, output))
        problems += _problems(root, command, result.exit_code, output)
    shutil.rmtree(root, ignore_errors=True)
    return Outcome(number, damage, results, problems)
