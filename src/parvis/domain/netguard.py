"""Where outbound requests may go: URL checks and the public-address rule (SSRF protection).

Pure: no resolution, no sockets. `parse_url` accepts only `http`/`https` URLs without userinfo
and normalizes their host the way resolvers and browsers read it, so that what is checked is
what would be reached: names are lower-cased, IDNA-encoded and lose one trailing dot; numeric
hosts in any form `inet_aton` (and the WHATWG URL standard) accept — `2130706433`,
`0x7f.1`, `0177.0.0.1`, `127.1` — become the IPv4 address they mean; IPv6 literals are
canonicalized (zone ids refused). `is_public` says whether an address may be contacted: not
loopback, private, shared (CGNAT), link-local, multicast, documentation, benchmarking, reserved
or unspecified; IPv6 forms that carry an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64,
6to4) are judged by that address.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

IPAddress = IPv4Address | IPv6Address

MAX_URL = 4096
DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_HEX = re.compile(r"^0[xX][0-9a-fA-F]*$")
_DIGITS = re.compile(r"^[0-9]+$")

# Never contacted, whatever Python's `is_global` says in a given release.
_V4_DENIED = tuple(
    IPv4Network(n)
    for n in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",
        "100.64.0.0/10",  # shared address space (CGNAT)
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # 6to4 relay anycast (deprecated)
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and the broadcast address
    )
)
_V6_DENIED = tuple(
    IPv6Network(n)
    for n in (
        "::/96",  # unspecified, loopback, IPv4-compatible (checked below too)
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments (Teredo, ORCHID, ...)
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation
        "5f00::/16",  # segment routing
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
_NAT64 = IPv6Network("64:ff9b::/96")


class RefusedUrl(ValueError):
    """This URL may not be fetched; the message says why (never echoing userinfo)."""


@dataclass(frozen=True)
class Target:
    """A checked URL. `host` is the normalized host: a lower-case ASCII name, or the canonical
    text of `ip` (IPv6 without brackets) when the URL named an address."""

    scheme: str
    host: str
    port: int
    path: str  # path and query, never empty ("/" at least)
    ip: IPAddress | None = None

    @property
    def authority(self) -> str:
        """What the Host header (and a signature's `host`) carries."""
        host = f"[{self.host}]" if isinstance(self.ip, IPv6Address) else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.authority}{self.path}"


def embedded_ipv4(ip: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, compatible, NAT64, 6to4), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    packed = int(ip)
    if ip in _NAT64 or (packed >> 32 == 0 and packed > 1):  # NAT64, or ::a.b.c.d
        return IPv4Address(packed & 0xFFFFFFFF)
    return None


def is_public(ip: IPAddress) -> bool:
    """May an outbound request reach this address? Only globally routable unicast ones."""
    if isinstance(ip, IPv6Address):
        if ip.scope_id:
            return False
        inner = embedded_ipv4(ip)
        if inner is not None:
            return is_public(inner) and not any(ip in n for n in _V6_DENIED)
        if any(ip in n for n in _V6_DENIED):
            return False
    elif any(ip in n for n in _V4_DENIED):
        return False
    return bool(
        ip.is_global
        and not (
            ip.is_multicast
            or ip.is_private
            or ip.is_loopback
            or ip.is_link_local
            or ip.is_reserved
            or ip.is_unspecified
        )
    )


def _ipv4_number(part: str) -> int | None:
    """One part of a numeric IPv4 host: decimal, 0x hexadecimal or 0-led octal; None if not."""
    if _HEX.match(part):
        return int(part[2:] or "0", 16)
    if not _DIGITS.match(part):
        return None
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8) if all(c in "01234567" for c in part) else None
    return int(part)


def _ends_in_number(host: str) -> bool:
    last = host.split(".")[-1]
    return bool(_DIGITS.match(last) or _HEX.match(last))


def parse_ipv4(host: str) -> IPv4Address:
    """A numeric host as the URL standard (and inet_aton) reads it: 1 to 4 parts, each
    decimal, octal (leading 0) or hexadecimal (0x), the last filling the remaining bytes."""
    parts = host.split(".")
    if len(parts) > 4 or any(not p for p in parts):
        raise RefusedUrl("not a valid numeric host")
    numbers = [_ipv4_number(p) for p in parts]
    if any(n is None for n in numbers):
        raise RefusedUrl("not a valid numeric host")
    values = [n for n in numbers if n is not None]
    *head, last = values
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(values)):
        raise RefusedUrl("not a valid numeric host")
    number = last
    for i, n in enumerate(head):
        number += n << (8 * (3 - i))
    return IPv4Address(number)


def normalize_host(raw: str) -> tuple[str, IPAddress | None]:
    """The host as it will be resolved: (normalized text, the address when it is one)."""
    if not raw:
        raise RefusedUrl("no host")
    if "%" in raw:
        raise RefusedUrl("percent-encoded or zoned hosts are refused")
    if raw.startswith("["):
        if not raw.endswith("]"):
            raise RefusedUrl("malformed IPv6 literal")
        try:
            v6 = IPv6Address(raw[1:-1])
        except ValueError:
            raise RefusedUrl("malformed IPv6 literal") from None
        return v6.compressed, v6
    host = raw[:-1] if raw.endswith(".") else raw
    if not host or ":" in host or "[" in host or "]" in host:
        raise RefusedUrl("malformed host")
    if _ends_in_number(host):
        v4 = parse_ipv4(host)
        return str(v4), v4
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise RefusedUrl("host is not a valid internationalized domain name") from None
    host = host.lower()
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise RefusedUrl("host is not a valid domain name")
    if _ends_in_number(host):  # an IDNA form that turned out numeric
        v4 = parse_ipv4(host)
        return str(v4), v4
    return host, None


def parse_url(url: str) -> Target:
    """Check and normalize an outbound URL, or raise RefusedUrl."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        raise RefusedUrl("empty or overlong URL")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url) or "\\" in url:
        raise RefusedUrl("whitespace, control characters or backslashes in URL")
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in DEFAULT_PORTS:
        raise RefusedUrl("only http and https URLs are fetched")
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    if "@" in authority:
        raise RefusedUrl("URLs with credentials (userinfo) are refused")
    host_text, port = authority, DEFAULT_PORTS[scheme]
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise RefusedUrl("malformed IPv6 literal")
        host_text, after = authority[: end + 1], authority[end + 1 :]
        port_text = after[1:] if after.startswith(":") else None
        if after and port_text is None:
            raise RefusedUrl("malformed authority")
    else:
        host_text, colon, port_text_ = authority.partition(":")
        port_text = port_text_ if colon else None
    if port_text is not None:
        if not _DIGITS.match(port_text) or not 0 < int(port_text) < 65536:
            raise RefusedUrl("invalid port")
        port = int(port_text)
    host, ip = normalize_host(host_text)
    path = tail.split("#", 1)[0]
    if not path.startswith("/"):
        path = "/" + path
    return Target(scheme=scheme, host=host, port=port, path=path, ip=ip)


def parse_pin(value: str) -> tuple[IPAddress, int | None]:
    """A `federation_resolve` value, like curl's --resolve: "127.0.0.1:8001", "[::1]:8001",
    or an address alone (the URL's port is kept)."""
    text = value.strip()
    try:
        if text.startswith("["):
            inner, _, port = text[1:].partition("]")
            return IPv6Address(inner), int(port[1:]) if port.startswith(":") else None
        if text.count(":") == 1:
            address, _, port = text.partition(":")
            return IPv4Address(address), int(port)
        return ipaddress.ip_address(text), None
    except ValueError:
        raise RefusedUrl(f"federation_resolve: not an address[:port]: {value!r}") from None
