"""The outbound HTTP client of federation (services/fetching.py `Http`), on httpx2.

Every request goes through `HttpClient.vet` first: the URL is checked and normalized
(domain/netguard.py), its host resolved once (`socket.getaddrinfo`, or the injected `resolver`,
or `settings.federation_resolve` like curl's --resolve), and refused when any address is not
public unless `settings.federation_allow_private`. Refusals happen before anything is sent.
The addresses vetted are pinned: the network backend below connects only to them, so a second
DNS answer (rebinding) is never used, while the URL keeps its host name: the Host header, TLS
SNI and certificate checks and the connection pool all stay per host name. Environment proxies
are ignored (they would bypass the pinning).

Redirects are followed by hand, at most three, each one vetted again (a POST follows only 307
and 308, signed anew). Bodies are streamed and capped at `federation_max_body` (a permanent
FetchError, status 413); each request has `federation_timeout` per network operation and twice
that to read a body. Failures are FetchErrors: permanent for 4xx but 408/429, refused or
malformed URLs and documents; transient for 5xx, 408, 429, timeouts, resets and DNS failures.
Requests are signed with the given key (draft-cavage, domain/httpsig.py).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property
from typing import Any

import httpcore2
import httpx2
import orjson

from parvis import __version__
from parvis.config import Settings
from parvis.domain import httpsig, netguard
from parvis.domain.netguard import RefusedUrl, Target
from parvis.services.context import Clock, system_clock
from parvis.services.fetching import FetchError, SigningKey, UnsafeUrl

ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
CONTENT_TYPE = "application/activity+json"
MEDIA_ACCEPT = "image/*, video/*, audio/*, */*;q=0.1"
MAX_REDIRECTS = 3
REDIRECTS = frozenset({301, 302, 303, 307, 308})

# host, port -> the addresses it resolves to (textual IPs), best first.
Resolver = Callable[[str, int], Sequence[str]]


def system_resolver(host: str, port: int) -> list[str]:
    """The system's answer for `host` (A and AAAA), in its order of preference."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in found:
            found.append(address)
    return found


def _pin_key(host: str, port: int) -> tuple[str, int]:
    try:
        return ipaddress.ip_address(host.strip("[]")).compressed, port
    except ValueError:
        return host.lower().rstrip("."), port


class Pins:
    """Where each vetted host:port may be connected to (thread-safe; the latest vetting wins)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pins: dict[tuple[str, int], tuple[tuple[str, int], ...]] = {}

    def set(self, host: str, port: int, addresses: Iterable[tuple[str, int]]) -> None:
        with self._lock:
            self._pins[_pin_key(host, port)] = tuple(addresses)

    def get(self, host: str, port: int) -> tuple[tuple[str, int], ...]:
        with self._lock:
            return self._pins.get(_pin_key(host, port), ())


class PinnedBackend(httpcore2.NetworkBackend):
    """Connects a host name only to the addresses vetted for it; refuses anything else."""

    def __init__(self, pins: Pins, inner: httpcore2.NetworkBackend | None = None) -> None:
        self.pins = pins
        self.inner = inner or httpcore2.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        addresses = self.pins.get(host, port)
        if not addresses:
            raise httpcore2.ConnectError(f"{host}:{port} was not vetted: not connecting")
        options = list(socket_options or [])
        error: Exception | None = None
        for address, real_port in addresses:
            try:
                return self.inner.connect_tcp(
                    address,
                    real_port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=options,
                )
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        raise httpcore2.ConnectError("unix sockets are not used for federation")

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class PinnedTransport(httpx2.HTTPTransport):
    """httpx2's transport with its connection pool on a `PinnedBackend`."""

    def __init__(self, pins: Pins, backend: httpcore2.NetworkBackend | None = None) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore2.ConnectionPool(
            ssl_context=httpx2.create_ssl_context(trust_env=False),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=30.0,
            network_backend=PinnedBackend(pins, backend),
        )


def _status_error(status: int, url: str) -> FetchError:
    permanent = 400 <= status < 500 and status not in (408, 429)
    return FetchError(f"{url} answered HTTP {status}", status=status, permanent=permanent)


class HttpClient:
    """`fetching.Http` over the network (or over `transport`, in tests). One per process;
    safe to share between worker threads."""

    def __init__(
        self,
        settings: Settings,
        transport: httpx2.BaseTransport | None = None,
        resolver: Resolver | None = None,
        *,
        clock: Clock = system_clock,
        backend: httpcore2.NetworkBackend | None = None,
    ) -> None:
        self.settings = settings
        self.resolver: Resolver = resolver or system_resolver
        self.clock = clock
        self.pins = Pins()
        self.user_agent = f"Parvis/{__version__} (+{settings.base_url})"
        self._resolve = {
            host.lower().rstrip("."): netguard.parse_pin(value)
            for host, value in settings.federation_resolve.items()
        }
        self._transport = transport
        self._backend = backend

    @cached_property
    def _client(self) -> httpx2.Client:
        """Made on first use: its TLS context costs ~40 ms, and most processes (and tests) that
        build a runtime never federate."""
        return httpx2.Client(
            transport=self._transport or PinnedTransport(self.pins, self._backend),
            timeout=httpx2.Timeout(self.settings.federation_timeout),
            follow_redirects=False,
            trust_env=False,
        )

    def close(self) -> None:
        if "_client" in self.__dict__:
            self._client.close()

    # -- the seam ----------------------------------------------------------------------------

    def get_json(self, url: str, *, key: SigningKey | None = None) -> dict[str, Any]:
        _, body, _ = self._exchange("GET", url, None, key)
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise FetchError(f"{url}: not JSON", permanent=True) from None
        if not isinstance(document, dict):
            raise FetchError(f"{url}: not a JSON object", permanent=True)
        return document

    def post_json(self, url: str, body: bytes, *, key: SigningKey) -> int:
        status, _, _ = self._exchange("POST", url, body, key)
        return status

    def get_bytes(self, url: str, *, max_bytes: int) -> tuple[bytes, str]:
        """GET a file (remote media), unsigned, vetted and redirected like any request: its
        bytes, at most `max_bytes` once decoded (over it: a permanent FetchError, status 413),
        and its declared Content-Type ("" when none: never trusted, only reported)."""
        _, body, content_type = self._exchange(
            "GET", url, None, None, accept=MEDIA_ACCEPT, cap=max_bytes
        )
        return body, content_type

    # -- the checks ----------------------------------------------------------------------------

    def vet(self, url: str) -> Target:
        """Check the URL, resolve its host and pin the addresses, or raise UnsafeUrl (or a
        transient FetchError when the name does not resolve). Nothing is sent."""
        try:
            target = netguard.parse_url(url)
        except RefusedUrl as exc:
            raise UnsafeUrl(f"refused URL: {exc}") from None
        allow_private = self.settings.federation_allow_private
        pinned = self._resolve.get(target.host)
        port = target.port
        addresses: list[netguard.IPAddress]
        if pinned is not None:
            addresses, port = [pinned[0]], pinned[1] or target.port
        elif target.ip is not None:
            addresses = [target.ip]
        else:
            try:
                answers = self.resolver(target.host, target.port)
                addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in answers]
            except (OSError, UnicodeError, ValueError) as exc:
                raise FetchError(f"{target.host}: cannot resolve ({exc})") from None
            if not addresses:
                raise FetchError(f"{target.host}: no address")
        if not allow_private:
            for address in addresses:
                if not netguard.is_public(address):
                    raise UnsafeUrl(f"{target.host} resolves to a non-public address ({address})")
        self.pins.set(target.host, target.port, [(a.compressed, port) for a in addresses])
        return target

    # -- one exchange, with its redirects -----------------------------------------------------

    def _exchange(
        self,
        method: str,
        url: str,
        body: bytes | None,
        key: SigningKey | None,
        *,
        accept: str = ACCEPT,
        cap: int | None = None,
    ) -> tuple[int, bytes, str]:
        """(status, body, Content-Type) of the final answer; `cap` bounds the body (default:
        `federation_max_body`)."""
        current = url
        for hop in range(MAX_REDIRECTS + 1):
            target = self.vet(current)
            request = self._request(method, target, body, key, accept)
            try:
                response = self._client.send(request, stream=True)
            except httpx2.TimeoutException:
                raise FetchError(f"{target.url}: timed out") from None
            except (httpx2.UnsupportedProtocol, httpx2.InvalidURL) as exc:
                raise FetchError(f"{target.url}: {exc}", permanent=True) from None
            except httpx2.TransportError as exc:
                raise FetchError(f"{target.url}: {type(exc).__name__}: {exc}") from None
            try:
                status = response.status_code
                if status in REDIRECTS:
                    location = response.headers.get("location", "")
                    if not location:
                        raise FetchError(
                            f"{target.url}: redirect without a Location",
                            status=status,
                            permanent=True,
                        )
                    if hop == MAX_REDIRECTS:
                        raise FetchError(
                            f"{url}: more than {MAX_REDIRECTS} redirects",
                            status=status,
                            permanent=True,
                        )
                    if method == "POST" and status not in (307, 308):
                        raise FetchError(
                            f"{target.url}: an inbox answered HTTP {status} (a redirect that "
                            "would turn the POST into a GET)",
                            status=status,
                            permanent=True,
                        )
                    current = str(httpx2.URL(target.url).join(location))
                    continue
                if status >= 400 or status < 200:
                    raise _status_error(status, target.url)
                content = self._read(response, target, strict=method != "POST", cap=cap)
                return status, content, response.headers.get("content-type", "")
            finally:
                response.close()
        raise AssertionError("unreachable")  # pragma: no cover

    def _request(
        self,
        method: str,
        target: Target,
        body: bytes | None,
        key: SigningKey | None,
        accept: str = ACCEPT,
    ) -> httpx2.Request:
        url = httpx2.URL(target.url)
        wire = f"{target.scheme}://{target.authority}{url.raw_path.decode('ascii')}"
        headers = {
            "Host": target.authority,
            "Accept": accept,
            "User-Agent": self.user_agent,
        }
        if body is not None:
            headers["Content-Type"] = CONTENT_TYPE
        if key is not None:
            headers.update(
                httpsig.sign_request(
                    method,
                    wire,
                    headers,
                    body,
                    key.key_id,
                    key.private_key_pem,
                    now=self.clock(),
                )
            )
        return self._client.build_request(method, url, headers=headers, content=body)

    def _read(
        self, response: httpx2.Response, target: Target, *, strict: bool, cap: int | None = None
    ) -> bytes:
        """The body, at most `cap` (default `federation_max_body`) bytes (decoded). Not
        `strict` (an inbox's answer, which nobody reads): a larger body is dropped instead of
        failing."""
        cap = self.settings.federation_max_body if cap is None else cap
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            if not strict:
                return b""
            raise FetchError(f"{target.url}: body over {cap} bytes", status=413, permanent=True)
        deadline = time.monotonic() + 2 * self.settings.federation_timeout
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > cap:
                    if not strict:
                        return b""
                    raise FetchError(
                        f"{target.url}: body over {cap} bytes", status=413, permanent=True
                    )
                if time.monotonic() > deadline:
                    raise FetchError(f"{target.url}: body too slow")
                chunks.append(chunk)
        except httpx2.TimeoutException:
            raise FetchError(f"{target.url}: timed out reading the body") from None
        except httpx2.DecodingError:
            raise FetchError(f"{target.url}: undecodable body", permanent=True) from None
        except httpx2.TransportError as exc:
            raise FetchError(f"{target.url}: {type(exc).__name__}: {exc}") from None
        return b"".join(chunks)
