"""How the processes that have an embedded store open map it: with LMDB's writemap
or without. LMDB's durability does not hold for a mix of the two on one store, and
nothing in its files tells a process how another opened it. So each process holds a
shared flock on the file of its way for as long as it has the store open (the kernel
drops it when the process dies), and refuses to open the store while any process
holds the other way's file.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from featureduck.errors import DatabaseError

MODE_FILES = {True: "fduck-writemap.lock", False: "fduck-plain.lock"}


class MapMode:
    """Held from opening the store until `close`."""

    def __init__(self, folder: Path, writemap: bool) -> None:
        self._file = os.open(folder / MODE_FILES[writemap], os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self._file, fcntl.LOCK_SH)
        other = os.open(folder / MODE_FILES[not writemap], os.O_RDWR | os.O_CREAT, 0o644)
        try:  # taken only if no process holds the other way; a process opening that way meanwhile waits for it, then refuses
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._file)
            raise DatabaseError(
                f"the online store {folder} is open in another process {'without' if writemap else 'with'} writemap: "
                "LMDB's durability does not hold for a mix", hint="give every process that opens it the same online_store "
                "writemap setting, or stop the other process first") from None
        finally:
            os.close(other)  # and with it the lock taken

    def close(self) -> None:
        os.close(self._file)
