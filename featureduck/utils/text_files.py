"""Reading a project's text files: UTF-8, or an error naming the file and the
line and column of the first byte that is not."""

from __future__ import annotations

from pathlib import Path

from featureduck.errors import ProjectError, SourceLocation


def read_project_text(path: Path, shown: str) -> str:
    """The file's text; `shown` is how errors name it (the path from the project root)."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise ProjectError(
            f"the file is not UTF-8 text: byte 0x{data[err.start]:02x} cannot be decoded", SourceLocation(shown, line, column),
            "save the file as UTF-8",
        ) from None
