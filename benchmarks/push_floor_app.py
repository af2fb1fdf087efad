"""The floor of `POST /push` on this machine: the least an HTTP server in Python on
the same uvicorn (httptools, uvloop) does with the same bodies. A raw ASGI app, no
framework: it parses each body with orjson, writes each row's key and
`<event_ts>|<features as JSON>` to an LMDB database, sorted, in one write
transaction per request, and answers 200. No validation, no newest-wins choice or
comparison with the stored rows, no grouping, no auth or rate limits.

    PUSH_FLOOR_DB=<folder> PUSH_FLOOR_SYNC=true|false PUSH_FLOOR_WRITEMAP=true|false uvicorn push_floor_app:app
"""

from __future__ import annotations

import os
from typing import Any

import lmdb
import orjson

_ENV = lmdb.open(os.environ["PUSH_FLOOR_DB"], map_size=1 << 34, max_dbs=4, readahead=False,
                 sync=os.environ.get("PUSH_FLOOR_SYNC", "true") == "true",
                 writemap=os.environ.get("PUSH_FLOOR_WRITEMAP", "false") == "true")
_TABLE = _ENV.open_db(b"online_clicks")


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    rows = orjson.loads(body)["rows"]
    items = sorted((str(row["user_id"]).encode(), row["event_ts"].encode() + b"|" + orjson.dumps(
        {"amount": row["amount"], "clicks": row["clicks"]})) for row in rows)
    with _ENV.begin(write=True, db=_TABLE) as txn:
        txn.cursor().putmulti(items)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"ok":true}'})
