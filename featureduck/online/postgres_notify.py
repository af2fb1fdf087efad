"""Change notification for serving: each write NOTIFYs the store's channel on commit;
a LISTENing task on the serving loop counts them, so cached hot keys are dropped
when new values land (online.hot_keys)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlglot import exp


class ChangeListener:
    def __init__(self, conninfo: Callable[[], str], channel: str) -> None:
        self.conninfo = conninfo  # asked when listening starts: a bad setting fails the store's open first
        self.channel = channel
        self._task: asyncio.Task[None] | None = None
        self._changes: int | None = None  # None while not listening

    def generation(self) -> int | None:
        """How many materializations were notified since this process began listening;
        None until LISTEN is in place (started here, on the serving loop) or once it broke."""
        if self._task is None:
            try:
                self._task = asyncio.get_running_loop().create_task(self._listen())
            except RuntimeError:  # no loop: a synchronous read, nothing to cache for
                return None
        return self._changes

    async def _listen(self) -> None:
        import psycopg

        listen = f"LISTEN {exp.to_identifier(self.channel, quoted=True).sql('postgres')}"
        while True:
            try:
                connection = await psycopg.AsyncConnection.connect(self.conninfo(), autocommit=True, connect_timeout=10)
                async with connection:
                    await connection.execute(listen)
                    # whatever committed while no one listened: a new generation
                    changes = self._changes = (self._changes or 0) + 1
                    async for _ in connection.notifies():
                        changes = self._changes = changes + 1
            except psycopg.Error:
                self._changes = None
                await asyncio.sleep(1)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task, self._changes = None, None
