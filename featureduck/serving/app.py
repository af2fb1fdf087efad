"""The serving API (the README's serving routes): plain handlers, wired into a Starlette app.

The hot path is short on purpose: the route's view entry is looked up in a
dict built at startup, the key coerced, one indexed read of the online
store, and the response assembled from the stored JSON of the features with
no re-encoding. No middleware: auth, the rate limit and metrics are a few
dict lookups inside `_guarded`, since each Starlette middleware layer costs
more per request than the read itself. With auth on, every route but
/health needs a token (the docs' static assets hold nothing of the project).
"""

from __future__ import annotations

import asyncio
import datetime
import decimal
import gc
import json
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from featureduck.engines.base import EngineAdapter
from featureduck.errors import FeatureDuckError, UsageError
from featureduck.online.base import INTEGER, OnlineRow
from featureduck.online.hot_keys import HotKeys
from featureduck.online.lookup import OnlineIndex, UnknownView, ViewEntry
from featureduck.project.loader import ProjectDefinition
from featureduck.serving.config import ServeConfig
from featureduck.serving.feast_api import FeastRequestError, entity_column, entity_rows, feature_column, parse_request
from featureduck.serving.metrics import Metrics
from featureduck.serving.openapi import DOCS_ASSETS, DOCS_HTML, openapi_document
from featureduck.streams.push import Pushed, Pusher, Ticket

JSON = "application/json"
DEFAULT_CACHE_SIZE = 100_000


class HttpError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps({"error": message}), status, headers=headers, media_type=JSON)


async def _body(request: Request, limit: int) -> bytes:
    """The request body, or 413 as soon as it is known to pass `limit` bytes:
    from its Content-Length, else while it streams in (never read further)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise HttpError(413, f"the request body is larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HttpError(413, f"the request body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass
class TokenBucket:
    """Requests allowed per second, with bursts up to `capacity`."""

    rate: float
    capacity: float
    tokens: float = 0.0
    stamp: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = self.capacity

    def take(self) -> float:
        """0 when the request may go ahead, else the seconds until it may."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class PushQueue:
    """Pushes validated on the event loop, written in groups: the pushes that arrived
    in one turn of the loop, written on it when that waits for nothing (Pusher.write_now),
    otherwise off it, where whatever arrives while a group's commit runs (a disk flush,
    another process's write) is written with the next, in one thread hop for the group."""

    def __init__(self, pusher: Pusher) -> None:
        self.pusher = pusher
        self._waiting: list[tuple[Ticket, asyncio.Future[None]]] = []
        self._draining = False

    async def write(self, ticket: Ticket) -> Pushed:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._waiting.append((ticket, done))
        if not self._draining:
            self._draining = True
            loop.create_task(self._drain())
        await done
        if ticket.error is not None:
            raise ticket.error
        assert ticket.result is not None
        return ticket.result

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._waiting:
                group, self._waiting = self._waiting, []
                tickets = [ticket for ticket, _ in group]
                try:
                    if not self.pusher.write_now(tickets):
                        await loop.run_in_executor(None, self.pusher.write_group, tickets)
                except BaseException as err:  # noqa: BLE001 - told to every push of the group
                    for ticket, _ in group:
                        ticket.error = ticket.error or err
                for _, done in group:
                    done.set_result(None)
        finally:
            self._draining = False


class Handlers:
    """The routes' logic, over an online index; no HTTP types beyond bytes in and out."""

    def __init__(self, definition: ProjectDefinition, index: OnlineIndex, config: ServeConfig, reads: HotKeys,
                 pusher: Pusher) -> None:
        self.definition = definition
        self.index = index
        self.config = config
        self.reads = reads
        self.pusher = pusher
        self.pushes = PushQueue(pusher)

    def health(self) -> bytes:
        return b'{"status":"ok"}'

    def views(self) -> bytes:
        listed = []
        for view in self.index.views():
            declared = self.definition.feature_views[view.key]
            state = self.index.store.state(view)
            listed.append({
                "name": view.name,
                "version": view.version,
                "entity": declared.entity,
                "join_keys": list(view.join_keys),
                "features": [{"name": f.name, "dtype": f.dtype, "description": f.description} for f in declared.features],
                "ttl_seconds": declared.ttl_seconds,
                "materialized": None if state is None else {
                    "rows": state.rows, "up_to": state.watermark, "at": state.materialized_at,
                },
            })
        return orjson.dumps({"views": listed})

    async def one(self, view: str, key_text: str) -> bytes:
        entry = self._entry(view)
        entity = self._path_entity(entry, key_text)
        keys = [self._key(entry, entity)]
        row = (await self.reads.read(entry.view, keys))[0]
        if row is None:
            raise HttpError(404, f"no online features for {entry.view.name} entity {key_text}")
        return _answer(entry, keys[0], row, with_view=True)

    async def batch(self, view: str, body: bytes) -> bytes:
        entry = self._entry(view)
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as err:
            raise HttpError(400, f"malformed JSON: {err}") from None
        entities = payload.get("entities") if isinstance(payload, dict) else None
        if not isinstance(entities, list):
            raise HttpError(422, 'the body must be {"entities": [key, ...]}')
        if len(entities) > self.config.max_batch:
            raise HttpError(413, f"{len(entities)} entities in one request; at most {self.config.max_batch}")
        keys = [self._key(entry, entity) for entity in entities]
        rows = await self.reads.read(entry.view, keys) if keys else []
        parts = [_answer(entry, key, row, with_view=False) for key, row in zip(keys, rows, strict=True)]
        return b'{"view":' + orjson.dumps(entry.view.name) + b',"results":[' + b",".join(parts) + b"]}"

    async def push(self, view: str, body: bytes) -> bytes:
        """Rows for a stream feature view (streams.push): `{"rows": [{...}], "to": "online"}`,
        or Feast's columns `{"df": {"user_id": [...], ...}, "to": ...}`."""
        try:
            ticket = self._push_ticket(view, body)
        except UnknownView as err:
            raise HttpError(404, err.message) from None
        except UsageError as err:
            raise HttpError(422, err.message) from None
        pushed = await self.pushes.write(ticket)
        return orjson.dumps({"view": pushed.view, "rows": pushed.rows, "online": pushed.online, "offline": pushed.offline})

    def _push_ticket(self, view: str, body: bytes) -> Ticket:
        """The plain form decoded and checked in one pass; anything else, or a fault, read as
        JSON and then checked, which names what is wrong (in this order of faults)."""
        decoded = self.pusher.decode(view, body)
        if decoded is not None:
            pushed_view, columns, to = decoded
            self._at_most(len(columns[pushed_view.stamp.name]))
            return self.pusher.admit(pushed_view, columns, to)
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as err:
            raise HttpError(400, f"malformed JSON: {err}") from None
        if self.pusher.exact_numbers(view):
            payload = json.loads(body, parse_float=decimal.Decimal)
        if not isinstance(payload, dict) or ("rows" in payload) == ("df" in payload):
            raise HttpError(422, 'the body must be {"rows": [{column: value}, ...]} or {"df": {column: [values]}}, with "to"')
        rows = payload["rows"] if "rows" in payload else _columns_to_rows(payload["df"])
        if isinstance(rows, list):
            self._at_most(len(rows))
        to = payload.get("to", "online")
        return self.pusher.ticket(view, rows, to if isinstance(to, str) else repr(to))

    def _at_most(self, rows: int) -> None:
        if rows > self.config.max_batch:
            raise HttpError(413, f"{rows} rows in one request; at most {self.config.max_batch}")

    async def feast_online(self, body: bytes) -> bytes:
        """Feast's get-online-features (serving.feast_api): the same request and response."""
        try:
            request = parse_request(body, self.config.max_batch)
            fetched: dict[str, list[OnlineRow | None]] = {}
            join_keys: list[str] = []
            for view in dict.fromkeys(view for view, _ in request.features):
                entry = self._entry(view)
                keys = [self._key(entry, entity) for entity in entity_rows(request, entry)]
                fetched[view] = await self.reads.read(entry.view, keys) if keys else []
                join_keys += [key for key in entry.view.join_keys if key not in join_keys]
            names = list(join_keys)
            results = [entity_column(request.entities[key]) for key in join_keys]
            now = datetime.datetime.now(datetime.UTC)
            for view, feature in request.features:
                entry = self._entry(view)
                declared = self.definition.feature_views[entry.view.key]
                names.append(f"{entry.view.name}__{feature}" if request.full_feature_names else feature)
                results.append(feature_column(view, feature, {f.name for f in declared.features}, fetched[view],
                                              declared.ttl_seconds, now))
        except FeastRequestError as err:
            raise HttpError(err.status, err.message) from None
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise HttpError(422, f"feature names {', '.join(repeated)} come from more than one view: "
                                 'ask with "full_feature_names": true')
        return orjson.dumps({"metadata": {"feature_names": names}, "results": results})

    def _entry(self, view: str) -> ViewEntry:
        try:
            return self.index.entry(view)
        except UnknownView as err:
            raise HttpError(404, err.message) from None

    def _key(self, entry: ViewEntry, entity: Any) -> str:
        try:
            return self.index.entity_key(entry, entity)
        except UsageError as err:
            raise HttpError(422, err.message) from None

    @staticmethod
    def _path_entity(entry: ViewEntry, text: str) -> Any:
        """A single key as it is; several as a JSON array or object in the path."""
        if len(entry.view.join_keys) == 1:
            return text
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            raise HttpError(422, f"view '{entry.view.name}' is keyed by {', '.join(entry.view.join_keys)}: "
                                 'give them as a JSON array, e.g. [42,"ios"]') from None


def _answer(entry: ViewEntry, key: str, row: OnlineRow | None, with_view: bool) -> bytes:
    """One entity's answer, with the stored features spliced in as they are."""
    entity = _entity_object(entry, key)
    head = (b'{"view":' + orjson.dumps(entry.view.name) + b',"entity":') if with_view else b'{"entity":'
    if row is None:
        return head + entity + b',"features":null,"feature_ts":null}'
    return head + entity + b',"features":' + row.features.encode() + b',"feature_ts":"' + row.feature_ts.encode() + b'"}'


def _entity_object(entry: ViewEntry, key: str) -> bytes:
    keys = entry.view.join_keys
    types = entry.key_types or ()
    if len(keys) == 1:
        value: Any = int(key) if types and types[0] == INTEGER else key
        return orjson.dumps({keys[0]: value})
    return orjson.dumps(dict(zip(keys, orjson.loads(key), strict=True)))


class Guard:
    """Bearer tokens (401 without one, 403 with a wrong one), wrong tokens limited
    per client address (429 for every request of an address over its budget,
    so a guess that happens to be right is not told apart), and a per-client rate
    limit (429). The address is the peer's: X-Forwarded-For counts only from the
    proxies the `serve:` block trusts (uvicorn's proxy headers)."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.buckets: dict[str, TokenBucket] = {}
        self.failures: dict[str, TokenBucket] = {}
        self.lock = threading.Lock()

    def check(self, request: Request) -> Response | None:
        client = request.client.host if request.client else "-"
        if self.config.tokens:
            with self.lock:
                failures = self.failures.get(client)
                if failures is not None and failures.tokens < 1 and failures.take():
                    return _error(429, "too many failed authentications", {"Retry-After": "60"})
            header = request.headers.get("authorization", "")
            token = header[7:].strip() if header.startswith("Bearer ") else None
            if token is None:
                return _error(401, "a bearer token is required", {"WWW-Authenticate": "Bearer"})
            if token not in self.config.tokens:  # a guess: it counts against the address
                with self.lock:
                    if client not in self.failures:
                        per_minute = self.config.failures_per_minute
                        self.failures[client] = TokenBucket(per_minute / 60, per_minute)
                    self.failures[client].take()
                return _error(403, "the bearer token is not accepted")
            client = "token:" + token
        if self.config.rate_per_second is not None:
            with self.lock:
                bucket = self.buckets.get(client)
                if bucket is None:
                    bucket = self.buckets[client] = TokenBucket(self.config.rate_per_second, self.config.burst)
                wait = bucket.take()
            if wait:
                return _error(429, "rate limit exceeded", {"Retry-After": str(max(1, round(wait)))})
        return None


Endpoint = Callable[[Request], Awaitable[Response]]


def build_app(definition: ProjectDefinition, index: OnlineIndex, config: ServeConfig,
              open_target: Callable[[], EngineAdapter] | None = None) -> Starlette:
    """The app over an opened online store, which it closes on shutdown; `open_target`
    connects to the target for offline pushes (None: pushes go online only)."""
    guard = Guard(config)
    metrics = Metrics(definition.config.target_dir)
    # an embedded store's reads are already in-process memory: a cache in front of it only costs
    cache_size = config.cache_size if config.cache_size is not None else (DEFAULT_CACHE_SIZE if index.store.REMOTE else 0)
    pusher = Pusher(definition, index.store, open_target)
    handlers = Handlers(definition, index, config, HotKeys(index.store, cache_size, metrics.cache_lookups), pusher)

    def guarded(route: str, produce: Callable[[Request], Awaitable[bytes]], protected: bool = True) -> Endpoint:
        observe = metrics.observer(route)

        async def endpoint(request: Request) -> Response:
            started = time.perf_counter()
            response = guard.check(request) if protected else None
            if response is None:
                try:
                    response = Response(await produce(request), media_type=JSON)
                except HttpError as err:
                    response = _error(err.status, err.message, err.headers)
                except FeatureDuckError as err:
                    response = _error(503, err.message)  # the store failed, not the request
            observe(response.status_code, time.perf_counter() - started)
            return response

        return endpoint

    async def health(_: Request) -> bytes:
        return handlers.health()

    async def views(_: Request) -> bytes:
        return handlers.views()

    async def one(request: Request) -> bytes:
        return await handlers.one(request.path_params["view"], request.path_params["entity_key"])

    async def batch(request: Request) -> bytes:
        return await handlers.batch(request.path_params["view"], await _body(request, config.max_body_bytes))

    async def feast(request: Request) -> bytes:
        return await handlers.feast_online(await _body(request, config.max_body_bytes))

    async def push(request: Request) -> bytes:
        return await handlers.push(request.path_params["view"], await _body(request, config.max_body_bytes))

    def behind_guard(respond: Callable[[], Response]) -> Endpoint:
        """A route outside the features' JSON and metrics, with the same auth."""

        async def endpoint(request: Request) -> Response:
            return guard.check(request) or respond()

        return endpoint

    document = orjson.dumps(openapi_document(definition))
    routes = [
        Route("/health", guarded("/health", health, protected=False), methods=["GET"]),
        Route("/views", guarded("/views", views), methods=["GET"]),
        Route("/features/{view}/batch", guarded("/features/{view}/batch", batch), methods=["POST"]),
        Route("/features/{view}/{entity_key}", guarded("/features/{view}/{entity_key}", one), methods=["GET"]),
        Route("/get-online-features", guarded("/get-online-features", feast), methods=["POST"]),
        Route("/push/{view}", guarded("/push/{view}", push), methods=["POST"]),
        Route("/metrics", behind_guard(lambda: Response(metrics.render(), media_type=metrics.CONTENT_TYPE)), methods=["GET"]),
        Route("/openapi.json", behind_guard(lambda: Response(document, media_type=JSON)), methods=["GET"]),
        Route("/docs", behind_guard(lambda: HTMLResponse(DOCS_HTML)), methods=["GET"]),
        Mount(DOCS_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets"),
    ]

    async def not_found(_: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        return _error(status, "no such route" if status == 404 else str(getattr(exc, "detail", "error")))

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        pusher.prepare()
        # what is loaded by now lives as long as the server: out of the collector's scans,
        # so a full collection does not stall requests walking the project and the modules
        gc.freeze()
        try:
            yield
        finally:
            await index.store.close_async()
            pusher.close()
            index.store.close()

    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found}, lifespan=lifespan)


def _columns_to_rows(columns: Any) -> list[dict[str, Any]]:
    """Feast's push `df`: a list of values per column, all of one length."""
    if not isinstance(columns, dict) or not columns or not all(isinstance(v, list) for v in columns.values()):
        raise HttpError(422, '"df" must be an object of column: [values]')
    lengths = {len(v) for v in columns.values()}
    if len(lengths) != 1:
        raise HttpError(422, f'"df" columns have different lengths: {", ".join(str(n) for n in sorted(lengths))}')
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]

