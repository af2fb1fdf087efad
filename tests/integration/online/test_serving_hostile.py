"""`fduck serve` against hostile clients, over loopback: every bad request is a
documented 4xx (never a 5xx), nothing is served without a token when auth is on,
bodies past the limit are refused unread, and the docs need no CDN."""

from __future__ import annotations

import http.client
import json
import random
import re
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ProjectFactory
from tests.integration.online.test_serving import DEVICES, FEATURES, STATS, _materialized, _request, _server

TOKEN = "t0ken-for-the-probe"


@pytest.fixture
def served(make_project: ProjectFactory) -> Path:
    return _materialized(make_project({"features/f.yml": FEATURES, "models/stats.sql": STATS, "models/devices.sql": DEVICES}))


def _with_auth(root: Path, extra: str = "") -> None:
    project_file = root / "featureduck_project.yml"
    project_file.write_text(project_file.read_text() + (
        "serve:\n  auth:\n    tokens: [\"{{ env_var('FD_PROBE_TOKEN') }}\"]\n    failures_per_minute: 5\n" + extra
    ))


def _raw(base: str, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=20)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _hostile_keys(rng: random.Random) -> Iterator[object]:
    yield "9" * 5000
    yield "-" + "1" * 4400
    yield "99999999999999999999"
    yield "18446744073709551615"
    yield "\uff13"  # fullwidth 3
    yield "\u0663"  # Arabic-Indic 3
    yield [[3]]
    yield [3]
    yield ""
    yield " 3"
    yield "3\n"
    yield {"user_id": [3]}
    yield {"user_id": "\uff13"}
    yield True
    yield None
    yield 1.0e300
    yield 2**63
    yield -(2**63) - 1
    yield "x" * 100_000
    for _ in range(40):
        yield "".join(rng.choice("0123456789-+[]{}\",: \u00e9\u0663\uff10x") for _ in range(rng.randint(0, 30)))


@pytest.mark.slow
def test_hostile_keys_get_a_4xx_never_a_5xx(served: Path) -> None:
    rng = random.Random(15)
    statuses: dict[int, int] = {}
    with _server(served) as base:
        for key in _hostile_keys(rng):
            for view in ("stats", "devices"):
                status, _ = _raw(base, "POST", f"/features/{view}/batch", json.dumps({"entities": [key]}).encode(),
                                 {"Content-Type": "application/json"})
                statuses[status] = statuses.get(status, 0) + 1
                if isinstance(key, str) and key:
                    status, _ = _raw(base, "GET", f"/features/{view}/{urllib.parse.quote(key, safe='')}")
                    statuses[status] = statuses.get(status, 0) + 1
        # text keys: an empty one is refused, an overlong one is simply not found
        assert _request(base + "/features/devices/batch", {"entities": [[1, ""]]}) == (422, {"error": "join key 'device' is empty"})
        status, body = _request(base + "/features/devices/batch", {"entities": [[1, "x" * 2000]]})
        assert status == 200 and body["results"][0]["features"] is None
        # strict integers: look-alike digits and nested arrays do not find key 3
        for entity in ("\uff13", "\u0663", [[3]], [3]):
            assert _request(base + "/features/stats/batch", {"entities": [entity]})[0] == 422, entity
        assert _request(base + "/features/stats/batch", {"entities": ["99999999999999999999"]}) == (
            422, {"error": "join key 'user_id' is outside the 64-bit integer range"})
        assert _request(base + "/features/stats/" + "9" * 5000)[0] == 422
        assert _request(base + "/features/stats/batch", {"entities": ["3", 3, {"user_id": "3"}]})[0] == 200
    assert not [s for s in statuses if s >= 500], statuses


@pytest.mark.slow
def test_auth_never_fails_open_and_covers_every_route(served: Path) -> None:
    _with_auth(served)
    with _server(served, {"FD_PROBE_TOKEN": TOKEN}) as base:
        assert _raw(base, "GET", "/health")[0] == 200
        for path in ("/views", "/metrics", "/openapi.json", "/docs", "/features/stats/1"):
            assert _raw(base, "GET", path)[0] == 401, path
            assert _raw(base, "GET", path, headers={"Authorization": f"Bearer {TOKEN}"})[0] == 200, path
        page = _raw(base, "GET", "/docs", headers={"Authorization": f"Bearer {TOKEN}"})[1].decode()
        assert not re.search(r"(src|href)=\"https?://", page)  # nothing from a CDN
        for asset in re.findall(r"(?:src|href)=\"(/docs/assets/[^\"]+)\"", page):
            status, content = _raw(base, "GET", asset)
            assert status == 200 and len(content) > 10_000, asset


@pytest.mark.slow
def test_failed_authentications_are_limited_per_client_and_forwarded_for_is_not_trusted(served: Path) -> None:
    _with_auth(served)
    with _server(served, {"FD_PROBE_TOKEN": TOKEN}) as base:
        statuses = [_raw(base, "GET", "/features/stats/1", headers={"Authorization": f"Bearer guess{i}",
                                                                     "X-Forwarded-For": f"10.0.0.{i}"})[0] for i in range(8)]
        assert statuses[:5] == [403] * 5 and statuses[5:] == [429] * 3
        # the right token from the locked-out address is refused too, so a guess cannot be confirmed
        assert _raw(base, "GET", "/features/stats/1", headers={"Authorization": f"Bearer {TOKEN}"})[0] == 429


@pytest.mark.slow
def test_an_empty_token_refuses_to_start(served: Path) -> None:
    from tests.conftest import fduck

    _with_auth(served)
    result = fduck("serve", "--project-dir", str(served), "--port", "1", env={"FD_PROBE_TOKEN": ""})
    assert result.returncode == 2
    assert "featureduck_project.yml:" in result.stderr and "empty token" in result.stderr
    assert "Serving" not in result.stdout


def _rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]


@pytest.mark.slow
def test_bodies_past_the_limit_are_refused_unread(served: Path) -> None:
    with _server(served) as base:
        big = b'{"entities": [' + b"1," * (3 << 20) + b"1]}"
        assert _raw(base, "POST", "/features/stats/batch", big, {"Content-Type": "application/json"})[0] == 413
        host, port = base.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=20)

        def chunks() -> Iterator[bytes]:  # no Content-Length: 200 MB streamed, unless the server stops it
            yield b'{"entities": ['
            for _ in range(200):
                yield b"1," * (1 << 19)
                time.sleep(0.001)

        try:
            connection.request("POST", "/features/stats/batch", body=chunks(), encode_chunked=True,
                               headers={"Transfer-Encoding": "chunked"})
            assert connection.getresponse().status == 413
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed while the client still wrote
        finally:
            connection.close()
        assert _request(base + "/features/stats/batch", {"entities": [1]})[0] == 200


@pytest.mark.slow
def test_a_port_in_use_is_an_error_before_serving(served: Path) -> None:
    import socket

    from tests.conftest import fduck

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = fduck("serve", "--project-dir", str(served), "--port", str(port))
    assert result.returncode == 2
    assert f"cannot serve on 127.0.0.1:{port}: Address already in use" in result.stderr
    assert "Serving" not in result.stdout
