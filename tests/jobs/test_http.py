"""The outbound HTTP client: SSRF refusals before any connection, redirects checked one by one,
pinned addresses (no second resolution), size and time limits, error classes, signatures.

The transport is an httpx2 MockTransport that records what reaches it, or a real HTTP server
on loopback (with `federation_allow_private`), or a network backend that records where it is
asked to connect and connects nowhere."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Any, ClassVar

import httpcore2
import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parvis.config import Settings
from parvis.domain import httpsig
from parvis.domain.netguard import parse_url
from parvis.jobs.http import ACCEPT, HttpClient, PinnedBackend, Pins, _pin_key
from parvis.services.fetching import FetchError, SigningKey, UnsafeUrl
from tests.conftest import make_settings

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PRIVATE_KEY, PUBLIC_KEY = httpsig.generate_key_pair()
KEY = SigningKey(key_id="https://parvis.test/users/alice#main-key", private_key_pem=PRIVATE_KEY)
PUBLIC_IP = "93.184.216.34"  # never contacted: the transports below are not the network

PRIVATE = [
    IPv4Network("127.0.0.0/8"),
    IPv4Network("10.0.0.0/8"),
    IPv4Network("172.16.0.0/12"),
    IPv4Network("192.168.0.0/16"),
    IPv4Network("169.254.0.0/16"),
    IPv4Network("100.64.0.0/10"),
    IPv4Network("0.0.0.0/8"),
    IPv4Network("224.0.0.0/4"),
    IPv6Network("::1/128"),
    IPv6Network("fc00::/7"),
    IPv6Network("fe80::/10"),
    IPv6Network("::ffff:127.0.0.0/104"),
    IPv6Network("::ffff:10.0.0.0/104"),
]


class Recorder:
    """A MockTransport handler that records each request and answers from a script."""

    def __init__(self, answer: Callable[[httpx2.Request], httpx2.Response] | None = None):
        self.requests: list[httpx2.Request] = []
        self.answer = answer or (lambda r: httpx2.Response(200, json={"id": str(r.url)}))

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return self.answer(request)

    @property
    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self)


def resolver_for(table: dict[str, list[str]], calls: list[str] | None = None) -> Any:
    def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        if host not in table:
            raise OSError(f"no such host: {host}")
        return table[host]

    return resolve


def client(
    tmp_path: Path,
    recorder: Recorder | None = None,
    table: dict[str, list[str]] | None = None,
    **overrides: Any,
) -> HttpClient:
    return HttpClient(
        make_settings(tmp_path, **overrides),
        transport=recorder.transport if recorder is not None else None,
        resolver=resolver_for(table if table is not None else {"remote.example": [PUBLIC_IP]}),
        clock=lambda: NOW,
    )


# -- SSRF: refused before anything is sent ------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/inbox",
        "http://2130706433/inbox",
        "http://0x7f.1/inbox",
        "http://0177.0.0.1/inbox",
        "http://127.1/inbox",
        "https://[::1]/inbox",
        "https://[::ffff:127.0.0.1]/inbox",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1:8080/",
        "http://[fd00::1]/",
        "http://user:pass@remote.example/inbox",
        "file:///etc/passwd",
        "gopher://remote.example/",
        "http://intranet.example/",  # resolves to a private address (table below)
        "http://mixed.example/",  # one public and one private address: refused
    ],
)
def test_unsafe_urls_are_refused_before_any_request(tmp_path: Path, url: str) -> None:
    recorder = Recorder()
    table = {
        "remote.example": [PUBLIC_IP],
        "intranet.example": ["10.1.2.3"],
        "mixed.example": [PUBLIC_IP, "127.0.0.1"],
    }
    http = client(tmp_path, recorder, table)
    with pytest.raises(UnsafeUrl) as caught:
        http.get_json(url, key=KEY)
    assert caught.value.permanent
    with pytest.raises(UnsafeUrl):
        http.post_json(url, b"{}", key=KEY)
    assert recorder.requests == []
    assert "pass" not in str(caught.value)


def address_in(networks: list[Any]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda n, i: str(n[i % n.num_addresses]),
        st.sampled_from(networks),
        st.integers(min_value=0, max_value=2**64),
    )


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(address=address_in(PRIVATE), literal=st.booleans())
def test_any_private_address_is_refused_by_name_or_literal(
    tmp_path: Path, address: str, literal: bool
) -> None:
    recorder = Recorder()
    http = client(tmp_path, recorder, {"victim.example": [address]})
    host = (f"[{address}]" if ":" in address else address) if literal else "victim.example"
    with pytest.raises(UnsafeUrl):
        http.get_json(f"https://{host}/users/x")
    assert recorder.requests == []


def test_private_addresses_pass_when_allowed(tmp_path: Path) -> None:
    recorder = Recorder()
    http = client(tmp_path, recorder, {"a.test": ["127.0.0.1"]}, federation_allow_private=True)
    assert http.get_json("http://a.test/users/x") == {"id": "http://a.test/users/x"}
    assert recorder.requests[0].headers["host"] == "a.test"


def test_federation_resolve_is_checked_like_any_answer(tmp_path: Path) -> None:
    recorder = Recorder()
    http = client(tmp_path, recorder, {}, federation_resolve={"a.test": "127.0.0.1:8001"})
    with pytest.raises(UnsafeUrl):
        http.get_json("http://a.test/users/x")
    assert recorder.requests == []


def test_unresolvable_names_are_transient(tmp_path: Path) -> None:
    recorder = Recorder()
    with pytest.raises(FetchError) as caught:
        client(tmp_path, recorder, {}).get_json("https://nowhere.example/x")
    assert not caught.value.permanent
    assert recorder.requests == []


# -- redirects ---------------------------------------------------------------------------------


def redirecting(location: str, *, status: int = 302) -> Recorder:
    def answer(request: httpx2.Request) -> httpx2.Response:
        if request.url.host == "remote.example":
            return httpx2.Response(status, headers={"Location": location})
        return httpx2.Response(200, json={"id": str(request.url)})

    return Recorder(answer)


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.1/admin",
        "http://0x7f000001/",
        "https://intranet.example/",
        "http://[::1]:8080/",
        "file:///etc/passwd",
        "http://user@other.example/",
    ],
)
def test_a_redirect_to_an_unsafe_place_is_refused(tmp_path: Path, location: str) -> None:
    recorder = redirecting(location)
    table = {"remote.example": [PUBLIC_IP], "intranet.example": ["192.168.0.10"]}
    with pytest.raises(UnsafeUrl):
        client(tmp_path, recorder, table).get_json("https://remote.example/users/x", key=KEY)
    assert [str(r.url) for r in recorder.requests] == ["https://remote.example/users/x"]


def test_redirects_are_followed_vetted_and_signed_anew(tmp_path: Path) -> None:
    recorder = redirecting("https://other.example/users/x?page=1")
    table = {"remote.example": [PUBLIC_IP], "other.example": ["151.101.1.1"]}
    doc = client(tmp_path, recorder, table).get_json("https://remote.example/users/x", key=KEY)
    assert doc == {"id": "https://other.example/users/x?page=1"}
    final = recorder.requests[-1]
    assert final.headers["host"] == "other.example"
    httpsig.verify_request("GET", str(final.url), dict(final.headers), None, PUBLIC_KEY, now=NOW)


def test_relative_redirects_resolve_against_the_url(tmp_path: Path) -> None:
    def answer(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/start":
            return httpx2.Response(301, headers={"Location": "/next"})
        return httpx2.Response(200, json={"id": str(request.url)})

    recorder = Recorder(answer)
    doc = client(tmp_path, recorder).get_json("https://remote.example/start")
    assert doc == {"id": "https://remote.example/next"}


def test_more_than_three_redirects_fail_for_good(tmp_path: Path) -> None:
    def answer(request: httpx2.Request) -> httpx2.Response:
        n = int(request.url.params.get("n", "0"))
        return httpx2.Response(302, headers={"Location": f"/loop?n={n + 1}"})

    recorder = Recorder(answer)
    with pytest.raises(FetchError) as caught:
        client(tmp_path, recorder).get_json("https://remote.example/loop")
    assert caught.value.permanent
    assert len(recorder.requests) == 4  # the request and three redirects


def test_a_post_follows_only_method_preserving_redirects(tmp_path: Path) -> None:
    recorder = redirecting("https://remote.example/elsewhere", status=301)
    with pytest.raises(FetchError) as caught:
        client(tmp_path, recorder).post_json("https://remote.example/inbox", b"{}", key=KEY)
    assert caught.value.permanent and len(recorder.requests) == 1

    recorder = redirecting("https://other.example/inbox", status=308)
    table = {"remote.example": [PUBLIC_IP], "other.example": ["151.101.1.1"]}
    body = b'{"type":"Like"}'
    status = client(tmp_path, recorder, table).post_json(
        "https://remote.example/inbox", body, key=KEY
    )
    assert status == 200
    final = recorder.requests[-1]
    assert final.content == body
    httpsig.verify_request("POST", str(final.url), dict(final.headers), body, PUBLIC_KEY, now=NOW)


# -- answers: sizes, statuses, documents ----------------------------------------------------------


def test_a_declared_oversized_body_is_refused(tmp_path: Path) -> None:
    big = b'{"a":"' + b"x" * 5000 + b'"}'
    recorder = Recorder(lambda r: httpx2.Response(200, content=big))
    with pytest.raises(FetchError) as caught:
        client(tmp_path, recorder, federation_max_body=4096).get_json("https://remote.example/x")
    assert caught.value.status == 413 and caught.value.permanent


def test_a_streamed_oversized_body_is_cut(tmp_path: Path) -> None:
    produced: list[int] = []

    def chunks() -> Iterator[bytes]:
        for i in range(1000):
            produced.append(i)
            yield b"x" * 1024

    recorder = Recorder(lambda r: httpx2.Response(200, content=chunks()))
    with pytest.raises(FetchError) as caught:
        client(tmp_path, recorder, federation_max_body=4096).get_json("https://remote.example/x")
    assert caught.value.status == 413 and caught.value.permanent
    assert len(produced) < 10  # it stopped reading, it did not swallow the megabyte


def test_a_compressed_bomb_is_cut_on_its_decoded_size(tmp_path: Path) -> None:
    bomb = gzip.compress(b" " * 200_000)
    assert len(bomb) < 4096
    recorder = Recorder(
        lambda r: httpx2.Response(200, content=bomb, headers={"Content-Encoding": "gzip"})
    )
    with pytest.raises(FetchError) as caught:
        client(tmp_path, recorder, federation_max_body=4096).get_json("https://remote.example/x")
    assert caught.value.status == 413


@pytest.mark.parametrize(
    ("status", "permanent"),
    [
        *[(code, True) for code in (400, 401, 403, 404, 410, 422)],
        *[(code, False) for code in (408, 429, 500, 502, 503)],
    ],
)
def test_status_classes(tmp_path: Path, status: int, permanent: bool) -> None:
    recorder = Recorder(lambda r: httpx2.Response(status, text="no"))
    http = client(tmp_path, recorder)
    for call in (
        lambda: http.get_json("https://remote.example/x"),
        lambda: http.post_json("https://remote.example/inbox", b"{}", key=KEY),
    ):
        with pytest.raises(FetchError) as caught:
            call()
        assert caught.value.status == status
        assert caught.value.permanent is permanent


@pytest.mark.parametrize("error", [httpx2.ReadTimeout, httpx2.ConnectTimeout, httpx2.ConnectError])
def test_timeouts_and_resets_are_transient(tmp_path: Path, error: type[Exception]) -> None:
    def answer(request: httpx2.Request) -> httpx2.Response:
        raise error("boom", request=request)  # type: ignore[call-arg]

    with pytest.raises(FetchError) as caught:
        client(tmp_path, Recorder(answer)).post_json("https://remote.example/i", b"{}", key=KEY)
    assert not caught.value.permanent and caught.value.status is None


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"a string"'])
def test_documents_must_be_json_objects(tmp_path: Path, body: bytes) -> None:
    recorder = Recorder(lambda r: httpx2.Response(200, content=body))
    with pytest.raises(FetchError) as caught:
        client(tmp_path, recorder).get_json("https://remote.example/x")
    assert caught.value.permanent


# -- what is sent -------------------------------------------------------------------------------


def test_a_delivery_is_signed_verifiably(tmp_path: Path) -> None:
    recorder = Recorder(lambda r: httpx2.Response(202))
    body = b'{"id":"https://parvis.test/users/alice#likes/1","type":"Like"}'
    status = client(tmp_path, recorder).post_json(
        "https://remote.example/users/bob/inbox?x=1", body, key=KEY
    )
    assert status == 202
    (request,) = recorder.requests
    headers = dict(request.headers)
    assert request.method == "POST" and request.content == body
    assert headers["content-type"] == "application/activity+json"
    assert headers["accept"] == ACCEPT
    assert headers["user-agent"] == "Parvis/0.1.0 (+https://parvis.test)"
    assert headers["host"] == "remote.example"
    assert 'keyId="https://parvis.test/users/alice#main-key"' in headers["signature"]
    assert headers["digest"] == httpsig.digest_header(body)
    info = httpsig.verify_request("POST", str(request.url), headers, body, PUBLIC_KEY, now=NOW)
    assert info.key_id == KEY.key_id
    tampered = body.replace(b"Like", b"Block")
    with pytest.raises(httpsig.SignatureError):
        httpsig.verify_request("POST", str(request.url), headers, tampered, PUBLIC_KEY, now=NOW)


def test_fetches_are_signed_only_with_a_key(tmp_path: Path) -> None:
    recorder = Recorder()
    http = client(tmp_path, recorder)
    http.get_json("https://remote.example/users/bob")
    http.get_json("https://remote.example/users/bob", key=KEY)
    unsigned, signed = recorder.requests
    assert "signature" not in unsigned.headers
    assert unsigned.headers["accept"] == ACCEPT
    httpsig.verify_request("GET", str(signed.url), dict(signed.headers), None, PUBLIC_KEY, now=NOW)


# -- pinning: the address vetted is the one connected to ----------------------------------------


class RecordingBackend(httpcore2.NetworkBackend):
    """Where the client asked to connect; connects nowhere."""

    def __init__(self) -> None:
        self.connects: list[tuple[str, int]] = []

    def connect_tcp(self, host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        self.connects.append((host, port))
        raise httpcore2.ConnectError("recording only")


def test_connections_go_to_the_vetted_address_not_a_second_answer(tmp_path: Path) -> None:
    """DNS rebinding: the first answer is public, a second one would be loopback. The client
    resolves once and connects to what it checked."""
    answers = iter([[PUBLIC_IP], ["127.0.0.1"], ["127.0.0.1"]])
    calls: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers)

    backend = RecordingBackend()
    http = HttpClient(make_settings(tmp_path), resolver=rebinding, backend=backend)
    with pytest.raises(FetchError) as caught:
        http.post_json("https://rebind.example/inbox", b"{}", key=KEY)
    assert not caught.value.permanent  # could not connect: transient
    assert calls == ["rebind.example"]
    assert backend.connects == [(PUBLIC_IP, 443)]


def test_the_backend_refuses_hosts_nobody_vetted() -> None:
    backend = PinnedBackend(Pins(), RecordingBackend())
    with pytest.raises(httpcore2.ConnectError):
        backend.connect_tcp("unvetted.example", 443)
    assert backend.inner.connects == []  # type: ignore[attr-defined]


def test_every_address_of_a_name_is_tried_in_order(tmp_path: Path) -> None:
    backend = RecordingBackend()
    table = {"remote.example": ["2a00:1450::1", PUBLIC_IP]}
    http = HttpClient(make_settings(tmp_path), resolver=resolver_for(table), backend=backend)
    with pytest.raises(FetchError):
        http.get_json("https://remote.example/x")
    assert backend.connects == [("2a00:1450::1", 443), (PUBLIC_IP, 443)]


label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)


@given(
    st.one_of(
        st.lists(label, min_size=1, max_size=4)
        .map(".".join)
        .filter(lambda h: not h[-1:].isdigit()),
        st.integers(min_value=0, max_value=2**32 - 1).map(str),
        st.integers(min_value=0, max_value=2**32 - 1).map(hex),
        st.ip_addresses(v=6).map(lambda a: f"[{a}]"),
    ),
    st.booleans(),
)
def test_httpx_reads_the_host_we_vetted(host: str, dot: bool) -> None:
    """What the connection pool asks the backend for is what was pinned."""
    url = f"https://{host}{'.' if dot and not host.startswith('[') else ''}/inbox"
    target = parse_url(url)
    raw = httpx2.URL(target.url).raw_host.decode("ascii")
    assert _pin_key(raw, 443) == _pin_key(target.host, 443)


# -- a real server on loopback ------------------------------------------------------------------


class Farm(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        if self.path.startswith("/slow"):
            time.sleep(1.0)
        Farm.seen.append(dict(self.headers))
        body = b'{"id": "https://a.test/users/x"}'
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/activity+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client gave up (the timeout test)
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Farm)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Farm.seen.clear()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_a_real_server_by_name_through_federation_resolve(tmp_path: Path, server: int) -> None:
    settings: Settings = make_settings(
        tmp_path,
        federation_allow_private=True,
        federation_resolve={"a.test": f"127.0.0.1:{server}"},
    )

    def no_dns(host: str, port: int) -> list[str]:
        raise AssertionError("the resolver must not be asked for a pinned name")

    http = HttpClient(settings, resolver=no_dns, clock=lambda: NOW)
    try:
        assert http.get_json("http://a.test/users/x", key=KEY) == {"id": "https://a.test/users/x"}
    finally:
        http.close()
    (headers,) = Farm.seen
    assert headers["Host"] == "a.test"
    assert "Signature" in headers


def test_a_slow_server_times_out_as_transient(tmp_path: Path, server: int) -> None:
    settings = make_settings(
        tmp_path,
        federation_allow_private=True,
        federation_timeout=0.2,
        federation_resolve={"slow.test": f"127.0.0.1:{server}"},
    )
    http = HttpClient(settings)
    try:
        with pytest.raises(FetchError) as caught:
            http.get_json("http://slow.test/slow")
    finally:
        http.close()
    assert not caught.value.permanent
    assert "timed out" in str(caught.value)
