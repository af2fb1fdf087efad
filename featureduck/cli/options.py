"""The options every command shares, declared once, and the error handling around
each command.

`project_command` gives a command `--project-dir`, `--profiles-dir`,
`--target`, `--vars` and `--debug` (after the command, as in dbt) as one
`ProjectArgs`, and with `selection=True` `--select`, `--exclude` and
`--state` as one `Selector`.
"""

from __future__ import annotations

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
    click.option("--project-dir", default=".", type=click.Path(file_okay=False), help="Project folder (default: .)"),
    click.option("--profiles-dir", default=None, type=click.Path(file_okay=False), help="Folder holding profiles.yml"),
    click.option("--target", "-t", default=None, help="Target in the profile (default: the profile's)"),
    click.option("--vars", "vars_", default=None, help="YAML mapping overriding project vars"),
    click.option("--debug", is_flag=True, help="Show tracebacks for errors"),
)
_SELECTION_OPTIONS = (
    click.option("--select", "-s", "select", multiple=True, help="name, +name, name+, tag:x, path:dir, state:modified"),
    click.option("--exclude", multiple=True, help="Selectors to leave out"),
    click.option("--state", default=None, type=click.Path(file_okay=False), help="Folder with a saved manifest.json"),
)


def project_command(group: click.Group, name: str | None = None, selection: bool = False) -> Callable[[F], F]:
    """Register `func(args, [selector,] **its own options)` as a command of `group`."""

    def decorate(func: F) -> F:
        @functools.wraps(func)  # carries the command's own click options over
        def command(project_dir: str, profiles_dir: str | None, target: str | None, vars_: str | None, debug: bool,
                    **kwargs: Any) -> Any:
            args = ProjectArgs(project_dir, profiles_dir, target, vars_)
            if selection:
                kwargs["selector"] = Selector.of(kwargs.pop("select"), kwargs.pop("exclude"), kwargs.pop("state"))
            return run_handling_errors(debug, func, args, **kwargs)

        wrapped: Callable[..., Any] = command
        for option in reversed((*_PROJECT_OPTIONS, *(_SELECTION_OPTIONS if selection else ()))):
            wrapped = option(wrapped)
        group.command(name)(wrapped)
        return func

    return decorate


def run_handling_errors(debug: bool, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """A FeatureDuckError is printed without a traceback and exits with its code;
    anything else is our bug, printed with its traceback (always with --debug)."""
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
