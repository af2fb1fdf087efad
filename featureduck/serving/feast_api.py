"""Feast's `POST /get-online-features`, so a client written for Feast's feature server can
switch: the same request and the same response, over featureduck's online store.

Request: `{"features": ["view:feature", ...], "entities": {"join_key": [v1, v2]},
"full_feature_names": false}`. Response: `metadata.feature_names` (the join keys, then
the features as asked) and one `results` entry per name with a value, a status and an
event timestamp per entity row. Statuses as Feast's: PRESENT, NULL_VALUE, NOT_FOUND, and
OUTSIDE_MAX_AGE for a value older than the view's ttl (its value null, as a training
set would have it). Feature services are not featureduck's: asking for one is an error.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import orjson

from featureduck.online.base import OnlineRow
from featureduck.online.lookup import ViewEntry

EPOCH = "1970-01-01T00:00:00Z"  # Feast's timestamp of the entity columns


class FeastRequestError(ValueError):
    """What makes a request unanswerable, with the HTTP status Feast's server would give."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class FeastRequest:
    features: list[tuple[str, str]]  # (view, feature), as asked
    entities: dict[str, list[Any]]  # join key -> a value per entity row
    full_feature_names: bool
    rows: int


def parse_request(body: bytes, max_rows: int) -> FeastRequest:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as err:
        raise FeastRequestError(400, f"malformed JSON: {err}") from None
    if not isinstance(payload, dict):
        raise FeastRequestError(422, 'the body must be {"features": ["view:feature"], "entities": {"key": [...]}}')
    if payload.get("feature_service") is not None:
        raise FeastRequestError(422, "featureduck has no feature services: list the features as view:feature")
    features = payload.get("features")
    if not isinstance(features, list) or not features or not all(isinstance(f, str) for f in features):
        raise FeastRequestError(422, '"features" must be a list of "view:feature" references')
    references = []
    for reference in features:
        view, _, feature = reference.partition(":")
        if not view or not feature:
            raise FeastRequestError(422, f"feature reference '{reference}' is not view:feature")
        references.append((view, feature))
    entities = payload.get("entities")
    if not isinstance(entities, dict) or not entities or not all(isinstance(v, list) for v in entities.values()):
        raise FeastRequestError(422, '"entities" must map each join key to a list of values')
    lengths = {len(values) for values in entities.values()}
    if len(lengths) != 1:
        raise FeastRequestError(422, "every join key in \"entities\" needs one value per entity row: the lists differ in length")
    rows = lengths.pop()
    if rows > max_rows:
        raise FeastRequestError(413, f"{rows} entity rows in one request; at most {max_rows}")
    return FeastRequest(references, entities, bool(payload.get("full_feature_names", False)), rows)


def entity_rows(request: FeastRequest, entry: ViewEntry) -> list[dict[str, Any]]:
    """Each entity row as the object of this view's join keys."""
    missing = [key for key in entry.view.join_keys if key not in request.entities]
    if missing:
        raise FeastRequestError(422, f"feature view '{entry.view.name}' is keyed by {', '.join(entry.view.join_keys)}: "
                                     f"\"entities\" lacks {', '.join(missing)}")
    return [{key: request.entities[key][i] for key in entry.view.join_keys} for i in range(request.rows)]


def feature_column(view: str, feature: str, known: set[str], rows: list[OnlineRow | None], ttl_seconds: int | None,
                   now: datetime.datetime) -> dict[str, list[Any]]:
    """One feature's values, statuses and timestamps over the entity rows."""
    if feature not in known:
        raise FeastRequestError(422, f"feature view '{view}' has no feature '{feature}'")
    values: list[Any] = []
    statuses: list[str] = []
    stamps: list[str] = []
    for row in rows:
        if row is None:
            values.append(None)
            statuses.append("NOT_FOUND")
            stamps.append(EPOCH)
            continue
        stamp = _utc(row.feature_ts)
        value = orjson.loads(row.features).get(feature)
        if ttl_seconds is not None and stamp < now - datetime.timedelta(seconds=ttl_seconds):
            values.append(None)
            statuses.append("OUTSIDE_MAX_AGE")
        else:
            values.append(value)
            statuses.append("PRESENT" if value is not None else "NULL_VALUE")
        stamps.append(stamp.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return {"values": values, "statuses": statuses, "event_timestamps": stamps}


def entity_column(values: list[Any]) -> dict[str, list[Any]]:
    return {"values": values, "statuses": ["PRESENT"] * len(values), "event_timestamps": [EPOCH] * len(values)}


def _utc(text: str) -> datetime.datetime:
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=datetime.UTC) if moment.tzinfo is None else moment.astimezone(datetime.UTC)
