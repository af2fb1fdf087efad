"""The README's examples run as shown, and its commands table lists every command.

Every ```console block is run, in order, in a fresh copy of the example project
(with tests/fixtures beside it, for the blocks that copy a fixture): each `$ `
line through bash, then each line shown under it checked against what it
printed, numbers and times matched loosely, `...` standing for lines left out.
A command whose shown output has an `error:` or `Failure in` line is expected to fail.
`fduck serve` and `fduck docs serve` run in the background on a free port (the
block's own port is swapped for it) until the block ends. Paths under /tmp/ are
moved under the test's folder. ```python blocks that load the example project
(`Project.load(".")`) are run in it too, after a `fduck run`.

Snippets that need a server or a project other than the example (a Postgres
source, `--target pg` runs) are indented blocks, not console ones: they are
shown, not run.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import click
import pytest

from tests.conftest import REPO_ROOT, copy_example_project, free_port

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


@dataclass
class Step:
    command: str
    expected: list[str] = field(default_factory=list)


@dataclass
class Block:
    line: int
    steps: list[Step]


def console_blocks() -> list[Block]:
    blocks = []
    for match in re.finditer(r"^```console\n(.*?)^```", README, re.S | re.M):
        steps: list[Step] = []
        pending = ""
        for text in match.group(1).splitlines():
            if pending:  # a command continued with a trailing backslash
                pending += "\n" + text
                if not text.endswith("\\"):
                    steps.append(Step(pending))
                    pending = ""
            elif text.startswith("$ "):
                if text.endswith("\\"):
                    pending = text[2:]
                else:
                    steps.append(Step(text[2:]))
            elif steps and text.strip():
                steps[-1].expected.append(text)
        blocks.append(Block(README.count("\n", 0, match.start()) + 1, steps))
    return blocks


def python_blocks() -> list[tuple[int, str]]:
    return [(README.count("\n", 0, m.start()) + 1, m.group(1))
            for m in re.finditer(r"^```python\n(.*?)^```", README, re.S | re.M) if 'Project.load(".' in m.group(1)]


def _pattern(shown: str) -> re.Pattern[str]:
    """A shown line as a pattern: numbers, times and sizes match any; a dot leader any
    leader; `...` anything; whitespace runs any run."""
    pieces = []
    for piece in re.split(r"(\d[\d,.]*|\.{4,}|\.\.\.|\s+)", shown.strip()):
        if not piece:
            continue
        if piece[0].isdigit():
            pieces.append(r"\d[\d,.]*")
        elif piece.startswith("...."):
            pieces.append(r"\.+")
        elif piece == "...":
            pieces.append(".*")
        elif piece.isspace():
            pieces.append(r"\s+")
        else:
            pieces.append(re.escape(piece))
    return re.compile("".join(pieces))


def _env(home: Path) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": venv_bin + os.pathsep + os.environ.get("PATH", ""), "HOME": str(home), "COLUMNS": "200",
            "NO_COLOR": "1"}


def run_block(block: Block, root: Path, tmp: Path) -> None:
    env = _env(tmp / "home")
    (tmp / "home").mkdir(exist_ok=True)
    servers: list[subprocess.Popen[str]] = []
    ports: dict[str, str] = {}
    cwd = root
    try:
        for step in block.steps:
            command = step.command.replace("/tmp/", f"{tmp}/")
            for shown in re.findall(r"(?:--port |localhost:)(\d+)", command):
                ports.setdefault(shown, str(free_port()))
            for shown, port in ports.items():
                command = command.replace(f"--port {shown}", f"--port {port}").replace(f"localhost:{shown}", f"localhost:{port}")
            where = f"README.md:{block.line}: $ {step.command}"
            if re.search(r"\bfduck (docs )?serve\b", command):
                servers.append(_start_server(command, cwd, env, where))
                continue
            # `cd` moves the rest of the block, as in a shell
            script = f"cd {cwd} && {command}\nstatus=$?\necho __fduck_cwd__=$PWD\nexit $status"
            result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=300)
            output = result.stdout + result.stderr
            found = re.search(r"__fduck_cwd__=(.*)", result.stdout)
            cwd = Path(found.group(1)) if found else cwd
            failing = any(line.lstrip().startswith(("error:", "Failure in")) for line in step.expected)
            assert (result.returncode != 0) == failing, f"{where}\nexit {result.returncode}\n{output}"
            for shown in step.expected:
                if shown.strip() == "..." or shown.strip().startswith("..."):
                    continue
                assert _pattern(shown).search(output), f"{where}\nshown: {shown}\nprinted:\n{output}"
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)


def _start_server(command: str, cwd: Path, env: dict[str, str], where: str) -> subprocess.Popen[str]:
    """Started, and waited for until its port takes connections."""
    server = subprocess.Popen(["bash", "-c", f"cd {cwd} && exec {command}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env)
    assert server.stdout is not None
    line = server.stdout.readline()
    assert "Serving" in line, f"{where}\n{line}{server.stderr.read() if server.stderr else ''}"
    port = int(re.search(r"--port (\d+)", command).group(1))  # type: ignore[union-attr]
    for _ in range(100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return server
        time.sleep(0.1)
    raise AssertionError(f"{where}: nothing listens on {port}")


@pytest.fixture
def example(tmp_path: Path) -> Path:
    root = copy_example_project(tmp_path / "example")
    (root / "tests").mkdir()
    shutil.copytree(REPO_ROOT / "tests" / "fixtures", root / "tests" / "fixtures")
    shutil.copy(REPO_ROOT / "profiles.yml", root / "profiles.yml")
    return root


@pytest.mark.slow
@pytest.mark.parametrize("block", console_blocks(), ids=lambda b: f"README.md:{b.line}")
def test_console_examples_run_as_shown(block: Block, example: Path, tmp_path: Path) -> None:
    run_block(block, example, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize(("line", "code"), python_blocks(), ids=lambda v: f"README.md:{v}" if isinstance(v, int) else "")
def test_python_examples_run_as_shown(line: int, code: str, example: Path, tmp_path: Path) -> None:
    assert fduck_ok(example, "run")
    result = subprocess.run([sys.executable, "-c", code], cwd=example, capture_output=True, text=True, env=_env(tmp_path),
                            timeout=300)
    assert result.returncode == 0, f"README.md:{line}\n{result.stdout}{result.stderr}"


def fduck_ok(root: Path, *args: str) -> bool:
    return subprocess.run([sys.executable, "-m", "featureduck.cli", *args], cwd=root, capture_output=True).returncode == 0


def test_the_commands_table_lists_every_command_and_every_option_has_help() -> None:
    from featureduck.cli.main import cli

    table = README[README.index("| command | does |"):README.index("Selectors (`-s/--select`")]
    listed = {name.strip("`").strip() for row in re.findall(r"^\| (`[^|]+) \|", table, re.M) for name in row.split(" / ")}

    def commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
        found = []
        for name, command in group.commands.items():
            full = f"{prefix}{name}"
            found += commands(command, full + " ") if isinstance(command, click.Group) else [(full, command)]
        return found

    every = commands(cli)
    assert len(every) > 25
    missing = [name for name, _ in every if not any(entry == name or entry.startswith(name + " ") for entry in listed)]
    assert missing == [], f"commands missing from the README's commands table: {missing}"
    undocumented = [f"{name} {option.opts[0]}" for name, command in every for option in command.params
                    if isinstance(option, click.Option) and not option.hidden and not option.help]
    assert undocumented == []
