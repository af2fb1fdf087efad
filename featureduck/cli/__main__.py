"""`python -m featureduck.cli` runs the `fduck` command."""

from featureduck.cli.main import cli

cli(prog_name="fduck")
