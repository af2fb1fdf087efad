"""The API's OpenAPI document (`/openapi.json`) and its documentation page (`/docs`)."""

from __future__ import annotations

from typing import Any

from featureduck import __version__
from featureduck.project.loader import ProjectDefinition

_ERROR = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_VIEW = {"name": "view", "in": "path", "required": True, "schema": {"type": "string"},
         "description": "feature view name (its newest version) or name@version"}


def openapi_document(definition: ProjectDefinition) -> dict[str, Any]:
    views = sorted({v.name for v in definition.feature_views.values() if v.online})
    view = {**_VIEW, "schema": {"type": "string", "examples": views}} if views else _VIEW
    answer = {"type": "object", "properties": {
        "entity": {"type": "object"}, "features": {"type": ["object", "null"]}, "feature_ts": {"type": ["string", "null"]},
    }}
    return {
        "openapi": "3.1.0",
        "info": {"title": f"featureduck serving: {definition.config.name}", "version": __version__},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "properties": {"error": {"type": "string"}}}, "Answer": answer},
        },
        "paths": {
            "/health": {"get": {"summary": "Liveness", "responses": {"200": {"description": '{"status": "ok"}'}}}},
            "/views": {"get": {"summary": "Online feature views, their features and dtypes", "security": [{"bearer": []}],
                               "responses": {"200": {"description": "the views"}, "401": _ERROR, "403": _ERROR}}},
            "/features/{view}/{entity_key}": {"get": {
                "summary": "The latest features of one entity",
                "description": "A single join key as its value; several as a JSON array in join-key order.",
                "security": [{"bearer": []}],
                "parameters": [view, {"name": "entity_key", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "the entity's features", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Answer"}}}},
                              "404": _ERROR, "422": _ERROR, "401": _ERROR, "403": _ERROR, "429": _ERROR},
            }},
            "/features/{view}/batch": {"post": {
                "summary": "The latest features of many entities, in request order (null for unknown keys)",
                "security": [{"bearer": []}],
                "parameters": [view],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["entities"],
                    "properties": {"entities": {"type": "array", "items": {}, "description": "keys, or objects of join keys"}},
                }}}},
                "responses": {"200": {"description": '{"view", "results": [...]}'}, "400": _ERROR, "404": _ERROR,
                              "413": _ERROR, "422": _ERROR, "401": _ERROR, "403": _ERROR, "429": _ERROR},
            }},
            "/get-online-features": {"post": {
                "summary": "Feast's feature-server request and response, for a Feast client",
                "description": 'features as "view:feature", entities as {"join_key": [values]}; results per name with '
                               "values, statuses (PRESENT, NULL_VALUE, NOT_FOUND, OUTSIDE_MAX_AGE) and event_timestamps.",
                "security": [{"bearer": []}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["features", "entities"],
                    "properties": {
                        "features": {"type": "array", "items": {"type": "string"}},
                        "entities": {"type": "object", "additionalProperties": {"type": "array", "items": {}}},
                        "full_feature_names": {"type": "boolean"},
                    },
                }}}},
                "responses": {"200": {"description": '{"metadata": {"feature_names"}, "results": [...]}'}, "400": _ERROR,
                              "404": _ERROR, "413": _ERROR, "422": _ERROR, "401": _ERROR, "403": _ERROR, "429": _ERROR},
            }},
            "/push/{view}": {"post": {
                "summary": "Rows for a stream feature view (Feast's push): online, and with to=online_and_offline its landing table",
                "description": "Validated against the stream source's column types; per entity the newest row (by event time, "
                               "ties to the greatest features) replaces the stored value only when it is newer.",
                "security": [{"bearer": []}],
                "parameters": [{**_VIEW, "description": "stream feature view name or name@version"}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object",
                    "properties": {
                        "rows": {"type": "array", "items": {"type": "object"}},
                        "df": {"type": "object", "additionalProperties": {"type": "array", "items": {}}},
                        "to": {"type": "string", "enum": ["online", "offline", "online_and_offline"]},
                    },
                }}}},
                "responses": {"200": {"description": '{"view", "rows", "online", "offline"}'}, "400": _ERROR, "404": _ERROR,
                              "413": _ERROR, "422": _ERROR, "401": _ERROR, "403": _ERROR, "429": _ERROR, "503": _ERROR},
            }},
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "text format"}}}},
        },
    }


# Swagger UI's files ship in the swagger-ui-bundle package and are served from
# here, so the docs page works offline and behind firewalls (no CDN).
DOCS_ASSETS = "/docs/assets"
DOCS_HTML = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>featureduck serving API</title>
<link rel="stylesheet" href="{DOCS_ASSETS}/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="{DOCS_ASSETS}/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({{url: "/openapi.json", dom_id: "#ui"}});</script>
<noscript>The OpenAPI document is at <a href="/openapi.json">/openapi.json</a>.</noscript>
</body></html>
"""
