"""`fduck docs serve`: the generated site over HTTP on loopback (or a chosen host).

Files are read on every request and sent with `Cache-Control: no-cache`, so a
`fduck docs generate` in another terminal shows on the next load; the page itself
polls version.txt and reloads when it changes.
"""

from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from featureduck.errors import ConnectionFailure, UsageError


class _Handler(SimpleHTTPRequestHandler):
    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class names it so
        """Requests are not logged: the terminal stays for the one line saying where it serves."""


def open_server(folder: Path, host: str, port: int) -> ThreadingHTTPServer:
    if not (folder / "index.html").is_file():
        raise UsageError(f"no docs site in {folder}", hint="run `fduck docs generate` first")
    try:
        return ThreadingHTTPServer((host, port), functools.partial(_Handler, directory=str(folder)))
    except OSError as err:
        raise ConnectionFailure(f"cannot serve on {host}:{port}: {err.strerror}",
                                hint="choose another --port, or stop what listens there") from None
