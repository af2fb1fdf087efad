"""The embedded store's writer lock, which a writer can also try without waiting.

LMDB lets one write transaction run at a time across processes, behind a mutex
in its lock file that has no try: whoever begins a write while another process
writes (a `materialize --full` rewriting a view, a stream's batch) waits for it.
A server writing pushes on its event loop must never wait like that, since every
read it serves would wait with it. So featureduck's writers take this lock
around each write transaction (a flock on a file beside the store, which the
kernel drops when the process dies, and a lock among the process's threads):
when a server gets it without waiting, no other featureduck writer is in a write
transaction, and LMDB's mutex is free.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = "fduck-writer.lock"


class WriterLock:
    """Reentrant within a thread: a write inside a held lock does not take it again."""

    def __init__(self, folder: Path) -> None:
        self._file = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        self._threads = threading.RLock()
        self._depth = 0  # how deep the thread holding `_threads` is in `held`

    @contextmanager
    def held(self, wait: bool) -> Iterator[bool]:
        """True while the lock is held; False (nothing held) when `wait` is false and
        another thread or process holds it."""
        if not self._threads.acquire(blocking=wait):
            yield False
            return
        try:
            if self._depth == 0:
                try:
                    fcntl.flock(self._file, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    yield False
                    return
            self._depth += 1
            try:
                yield True
            finally:
                self._depth -= 1
                if self._depth == 0:
                    fcntl.flock(self._file, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def close(self) -> None:
        os.close(self._file)
