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

A flock is not fair: a server that tries again the moment it lets go wins the
lock before a waiting process is even scheduled, so another server's pushes (or
a stream's batch) could wait behind many of its writes. A writer that waits
therefore first takes a queue lock (a second flock file), and holds it until it
has the writer lock; a try finds the queue lock taken and gives way, so under
contention the writers take turns.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = "fduck-writer.lock"
QUEUE_FILE = "fduck-writer.queue"  # held by a writer waiting for LOCK_FILE


class WriterLock:
    """Reentrant within a thread: a write inside a held lock does not take it again."""

    def __init__(self, folder: Path) -> None:
        self._file = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        self._queue = os.open(folder / QUEUE_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        self._threads = threading.RLock()
        self._depth = 0  # how deep the thread holding `_threads` is in `held`

    @contextmanager
    def held(self, wait: bool) -> Iterator[bool]:
        """True while the lock is held; False (nothing held) when `wait` is false and
        another thread or process holds it or waits for it."""
        if not self._threads.acquire(blocking=wait):
            yield False
            return
        try:
            if self._depth == 0 and not self._take(wait):
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

    def _take(self, wait: bool) -> bool:
        """The writer lock behind the queue lock: waited for in turn, or tried only
        when no other writer waits."""
        mode = fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB
        try:
            fcntl.flock(self._queue, mode)
        except BlockingIOError:
            return False
        try:
            fcntl.flock(self._file, mode)
        except BlockingIOError:
            return False
        finally:
            fcntl.flock(self._queue, fcntl.LOCK_UN)
        return True

    def close(self) -> None:
        os.close(self._queue)
        os.close(self._file)
