"""The options every command shares, declared once, and the error handling around
each command.

`project_command` gives a command `--project-dir`, `--profiles-dir`,
`--target`, `--vars` and `--debug` as one `ProjectArgs`, and with
`selection=True` `--select`, `--exclude` and `--state` as one `Selector`.
The project options may come before the command too (`fduck --debug run`):
the group keeps them (`GLOBAL_OPTIONS`) and a command's own win. As in dbt,
`-s a b` gives two selectors: the words after `-s` up to the next option.
"""

from __future__ import annotations

import datetime
import functools
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from featureduck.cli.console import print_error, print_internal_error
from featureduck.errors import FeatureDuckError
from featureduck.tasks.options import Selector

if TYPE_CHECKING:
    from featureduck.api import Project

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class ProjectArgs:
    project_dir: str
    profiles_dir: str | None
    target: str | None
    vars: str | None

    def load(self) -> Project:
        from featureduck.api import Project
        from featureduck.cli.console import print_warnings

        project = Project.load(self.project_dir, target=self.target, vars=self.vars, profiles_dir=self.profiles_dir)
        print_warnings(project.definition.warnings)
        return project


_PROJECT_OPTIONS = (
    click.option("--project-dir", default=None, type=click.Path(file_okay=False), help="Project folder (default: .)"),
    click.option("--profiles-dir", default=None, type=click.Path(file_okay=False), help="Folder holding profiles.yml"),
    click.option("--target", "-t", default=None, help="Target in the profile (default: the profile's)"),
    click.option("--vars", "vars_", default=None, help="YAML mapping overriding project vars"),
    click.option("--debug", is_flag=True, help="Show tracebacks for errors"),
)
_FOLDER_OPTIONS = (_PROJECT_OPTIONS[0], _PROJECT_OPTIONS[-1])  # --project-dir and --debug
_SELECTION_OPTIONS = (
    click.option("--select", "-s", "select", multiple=True,
                 help="name, +name, name+, tag:x, path:dir, state:modified; several after one -s, as in dbt"),
    click.option("--exclude", multiple=True, help="Selectors to leave out (several after one --exclude)"),
    click.option("--state", default=None, type=click.Path(file_okay=False), help="Folder with a saved manifest.json"),
)


class UtcTime(click.ParamType):
    """A time as ISO text (2026-11-22, 2026-11-22 14:00, ...+02:00), as naive UTC."""

    name = "time"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime.datetime:
        if isinstance(value, datetime.datetime):
            return value
        try:
            moment = datetime.datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a time: give it as 2026-11-22 14:00 (UTC) or with an offset", param, ctx)
        return moment.astimezone(datetime.UTC).replace(tzinfo=None) if moment.tzinfo is not None else moment


GLOBAL_OPTIONS = _PROJECT_OPTIONS
_SELECTOR_FLAGS = ("-s", "--select", "--exclude")


def spread_selectors(args: list[str]) -> list[str]:
    """`-s a b --exclude c d` as click reads repeated options: `-s a -s b --exclude c --exclude d`."""
    spread: list[str] = []
    flag: str | None = None
    for arg in args:
        if arg == "--":
            flag = None
        elif arg in _SELECTOR_FLAGS or arg.startswith(("--select=", "--exclude=")):
            flag = arg.split("=", 1)[0]
            spread.append(arg)
            continue
        elif flag is not None and not arg.startswith("-") and spread and spread[-1] != flag:
            spread.append(flag)  # a further selector after the first one
        elif arg.startswith("-"):
            flag = None
        spread.append(arg)
    return spread


class ProjectCommand(click.Command):
    """A project command: several selectors after one `-s`, as dbt takes them."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, spread_selectors(args))


def project_command(group: click.Group, name: str | None = None, selection: bool = False,
                    folder_only: bool = False) -> Callable[[F], F]:
    """Register `func(args, [selector,] **its own options)` as a command of `group`.
    `folder_only`: a command that reads no profile (clean, deps) takes --project-dir and
    --debug alone, so its --help lists only what it uses."""

    def decorate(func: F) -> F:
        @functools.wraps(func)  # carries the command's own click options over
        def command(project_dir: str | None, debug: bool, profiles_dir: str | None = None, target: str | None = None,
                    vars_: str | None = None, **kwargs: Any) -> Any:
            given = click.get_current_context().find_root().obj or {}  # the options before the command
            args = ProjectArgs(project_dir or given.get("project_dir") or ".", profiles_dir or given.get("profiles_dir"),
                               target or given.get("target"), vars_ or given.get("vars_"))
            if selection:
                kwargs["selector"] = Selector.of(kwargs.pop("select"), kwargs.pop("exclude"), kwargs.pop("state"))
            return run_handling_errors(debug or bool(given.get("debug")), func, args, **kwargs)

        wrapped: Callable[..., Any] = command
        shared = (_FOLDER_OPTIONS if folder_only else _PROJECT_OPTIONS) + (_SELECTION_OPTIONS if selection else ())
        for option in reversed(shared):
            wrapped = option(wrapped)
        group.command(name, cls=ProjectCommand)(wrapped)
        return func

    return decorate


def run_handling_errors(debug: bool, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """A FeatureDuckError is printed without a traceback and exits with its code;
    anything else is our bug, printed with its traceback (always with --debug). --debug also
    sets FDUCK_DEBUG, which lets engines show their own logs (Spark's JVM output)."""
    if debug:
        os.environ["FDUCK_DEBUG"] = "1"
    try:
        result = func(*args, **kwargs)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return result
    except BrokenPipeError:  # the reader stopped (`fduck ls | head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    except FeatureDuckError as err:
        if debug:
            raise
        print_error(str(err))
        sys.exit(err.exit_code)
    except (click.exceptions.Exit, click.ClickException, KeyboardInterrupt):
        raise
    except Exception:  # noqa: BLE001 - anything else is our bug
        if debug:
            raise
        print_internal_error(traceback.format_exc())
        sys.exit(2)
