"""The paced session: the pace is the limit (not a timid fraction), and failures are retried."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from requests.adapters import HTTPAdapter

from pipelines.common.pacing import Pace, configured_pace, paced_session, request_counts


class _Script:
    """What the test server answers, request by request (then 200 ``{"ok": true}``)."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, dict[str, str], bytes]] = []
        self.arrivals: list[float] = []
        self.lock = threading.Lock()


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    for system in ("TEST_PACE_RETRY", "TEST_PACE_TRUNCATED", "TEST_PACE_FAIL"):
        monkeypatch.setenv(f"SOURCES__{system}__BACKOFF_FACTOR", "0.01")


@pytest.fixture
def server() -> Iterator[tuple[str, _Script]]:
    script = _Script()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            with script.lock:
                script.arrivals.append(time.monotonic())
                status, headers, body = (script.answers.pop(0) if script.answers
                                         else (200, {}, b'{"ok": true}'))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", script
    httpd.shutdown()
    httpd.server_close()


class _Instant(HTTPAdapter):
    """A transport that answers at once and notes when each request went out."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[float] = []

    def send(self, request: requests.PreparedRequest, *args: object,  # type: ignore[override]
             **kwargs: object) -> requests.Response:
        self.sent.append(time.monotonic())
        response = requests.Response()
        response.status_code = 200
        response._content = b'{"ok": true}'
        response.headers["Content-Type"] = "application/json"
        response.request = request
        response.url = str(request.url)
        return response


def test_pace_never_exceeds_the_limit() -> None:
    """How close the pace gets to the limit is a speed figure: `benchmarks` (pace) measures it."""
    session = paced_session("test_pace_rate", requests_per_second=100, burst=50)
    transport = _Instant()
    session.mount("http://", transport)
    for _ in range(300):
        session.get("http://api.example.test/items").raise_for_status()
    sent = transport.sent
    assert len(sent) == 300
    worst = max(sum(1 for t in sent if start <= t < start + 0.5) for start in sent)
    # a descheduled thread can send a request acquired in one window just after the next opens
    assert worst <= 50 + 5, f"{worst} requests within half a second (limit 50)"


def test_429_with_retry_after_and_5xx_are_retried_and_counted(
        server: tuple[str, _Script]) -> None:
    url, script = server
    script.answers = [(429, {"Retry-After": "1"}, b"{}"), (503, {}, b"{}")]
    session = paced_session("test_pace_retry", requests_per_second=0, raise_for_status=True)
    began = time.monotonic()
    assert session.get(url).json() == {"ok": True}
    assert time.monotonic() - began >= 1.0  # waited as Retry-After asked
    counts = request_counts("test_pace_retry")
    assert (counts.requests, counts.retries, counts.throttled) == (3, 2, 1)


def test_a_truncated_json_body_is_fetched_again(server: tuple[str, _Script]) -> None:
    url, script = server
    script.answers = [(200, {}, b'{"results": [1, 2')]
    session = paced_session("test_pace_truncated", requests_per_second=0)
    assert session.get(url).json() == {"ok": True}
    assert request_counts("test_pace_truncated").retries == 1


def test_an_error_that_persists_is_raised_after_the_last_attempt(
        server: tuple[str, _Script]) -> None:
    url, script = server
    script.answers = [(500, {}, b"{}")] * 3
    session = paced_session("test_pace_fail", requests_per_second=0, max_retries=3,
                            raise_for_status=True)
    with pytest.raises(requests.HTTPError):
        session.get(url)
    assert request_counts("test_pace_fail").requests == 3


def test_the_published_limits_are_the_default_and_config_overrides_them(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert configured_pace("crm") == Pace(19.0, 190)
    assert configured_pace("crm", prefix="search_") == Pace(4.0, 4)
    assert configured_pace("erp") == Pace(1.0, 60)
    monkeypatch.setenv("SOURCES__ERP__REQUESTS_PER_SECOND", "0")
    assert configured_pace("erp").window_ms() is None  # lifted
    monkeypatch.setenv("SOURCES__SHOP__REQUESTS_PER_SECOND", "20")
    assert configured_pace("shop") == Pace(20.0, 400)
