"""The `fduck` command line: click commands and all terminal output."""
