"""Outbound URL checks: every non-public address, in every way a URL can spell it, is refused;
public ones pass and mean the same address; userinfo and other schemes are refused."""

from __future__ import annotations

import socket
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parvis.domain.netguard import (
    RefusedUrl,
    embedded_ipv4,
    is_public,
    parse_ipv4,
    parse_pin,
    parse_url,
)

PRIVATE_V4 = [
    IPv4Network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
]
PRIVATE_V6 = [
    IPv6Network(n)
    for n in (
        "::1/128",
        "::/128",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
        "2001:db8::/32",
        "2001::/32",  # Teredo
        "100::/64",
        "64:ff9b:1::/48",
    )
]
PUBLIC_V4 = [
    IPv4Network(n)
    for n in ("8.8.8.0/24", "1.1.1.0/24", "93.184.216.0/24", "151.101.0.0/16", "185.0.0.0/8")
]
PUBLIC_V6 = [IPv6Network(n) for n in ("2a00:1450::/32", "2606:4700::/32", "2a01:4f8::/32")]


def address_in(networks: list[IPv4Network] | list[IPv6Network]) -> st.SearchStrategy[object]:
    def pick(network: IPv4Network | IPv6Network, offset: int) -> object:
        return network[offset % network.num_addresses]

    return st.builds(pick, st.sampled_from(networks), st.integers(min_value=0, max_value=2**128))


def v4_forms(ip: IPv4Address) -> list[str]:
    """Ways a URL host can spell an IPv4 address that resolvers and browsers accept."""
    n = int(ip)
    a, b, c, d = ip.packed
    return [
        str(ip),
        f"{ip}.",  # trailing dot
        str(n),  # http://2130706433/
        hex(n),  # http://0x7f000001/
        hex(n).upper().replace("0X", "0x"),
        f"0{n:o}",  # one octal number
        f"0{a:o}.0{b:o}.0{c:o}.0{d:o}",  # 0177.0.0.01
        f"{hex(a)}.{hex(b)}.{hex(c)}.{hex(d)}",
        f"{a}.{b}.{(c << 8) | d}",  # 127.0.1
        f"{a}.{(b << 16) | (c << 8) | d}",  # 127.1
        f"{hex(a)}.{(b << 16) | (c << 8) | d}",  # 0x7f.1
        f"{a:03d}.{b}.{c}.{d}" if a < 8 else f"0{a:o}.{b}.{c}.{d}",
        f"[::ffff:{ip}]",  # IPv4-mapped IPv6
        f"[::ffff:{(n >> 16):x}:{(n & 0xFFFF):x}]",
        f"[0:0:0:0:0:FFFF:{(n >> 16):X}:{(n & 0xFFFF):X}]",
        f"[64:ff9b::{ip}]",  # NAT64
        f"[2002:{(n >> 16):x}:{(n & 0xFFFF):x}::1]",  # 6to4
    ]


def v6_forms(ip: IPv6Address) -> list[str]:
    return [f"[{ip.compressed}]", f"[{ip.exploded}]", f"[{ip.exploded.upper()}]"]


def target_ip(host: str, port: str = "") -> object:
    return parse_url(f"http://{host}{port}/inbox").ip


@given(address_in(PRIVATE_V4), st.sampled_from(["", ":80", ":8080", ":443"]))
def test_every_spelling_of_a_private_ipv4_is_refused(ip: IPv4Address, port: str) -> None:
    for form in v4_forms(ip):
        found = target_ip(form, port)
        assert found is not None, form
        assert not is_public(found), form  # type: ignore[arg-type]


@given(address_in(PRIVATE_V4))
def test_numeric_forms_mean_the_address_they_spell(ip: IPv4Address) -> None:
    for form in v4_forms(ip):
        found = target_ip(form)
        if isinstance(found, IPv6Address):
            found = embedded_ipv4(found)
        assert found == ip, form


@given(address_in(PRIVATE_V6))
def test_private_ipv6_literals_are_refused(ip: IPv6Address) -> None:
    for form in v6_forms(ip):
        found = target_ip(form)
        assert found == ip
        assert not is_public(ip)


@given(address_in(PUBLIC_V4))
def test_public_ipv4_in_every_spelling_passes(ip: IPv4Address) -> None:
    assert is_public(ip)
    for form in v4_forms(ip):
        found = target_ip(form)
        assert found is not None and is_public(found), form  # type: ignore[arg-type]


@given(address_in(PUBLIC_V6))
def test_public_ipv6_passes(ip: IPv6Address) -> None:
    for form in v6_forms(ip):
        assert is_public(target_ip(form))  # type: ignore[arg-type]


@given(st.lists(st.integers(min_value=0, max_value=2**32), min_size=1, max_size=4), st.data())
def test_numeric_hosts_agree_with_inet_aton(parts: list[int], data: st.DataObject) -> None:
    """The C library's inet_aton (what getaddrinfo uses on numeric names) is the oracle."""
    spelled = [data.draw(st.sampled_from([str(p), hex(p), f"0{p:o}" if p else "0"])) for p in parts]
    host = ".".join(spelled)
    try:
        expected = IPv4Address(socket.inet_aton(host))
    except OSError:
        with pytest.raises(RefusedUrl):
            parse_ipv4(host)
        return
    assert parse_ipv4(host) == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://0x7f000001/",
        "http://017700000001/",
        "http://127.1/",
        "http://127.0.0.1./",
        "https://[::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:7f00:1]:8443/",
        "http://[::]/",
        "http://0/",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://[fd00:ec2::254]/",
        "http://10.1.2.3:8080/inbox",
        "http://192.168.1.1/",
        "http://[fe80::1]/",
    ],
)
def test_known_ssrf_spellings_are_not_public(url: str) -> None:
    ip = parse_url(url).ip
    assert ip is not None and not is_public(ip)


@pytest.mark.parametrize(
    "url",
    [
        "http://user@example.com/",
        "http://user:secret@example.com/",
        "https://example.com@127.0.0.1/",
        "https://:@example.com/",
        "ftp://example.com/",
        "file:///etc/passwd",
        "gopher://example.com/",
        "javascript:alert(1)",
        "data:text/plain,hi",
        "//example.com/",
        "example.com/inbox",
        "http:///path",
        "http://exa mple.com/",
        "http://example.com\\@127.0.0.1/",
        "http://example.com\t/",
        "http://[::1%25eth0]/",
        "http://[fe80::1%eth0]/",
        "http://exam%70le.com/",
        "http://example.com:0/",
        "http://example.com:65536/",
        "http://example.com:8a/",
        "http://[::1/",
        "http://[::1]x/",
        "http://1.2.3.4.5/",
        "http://256.0.0.1/",
        "http://0x100.0.0.1/",
        "http://09.0.0.1/",  # not octal, not decimal
        "http://-bad-.example/",
        "http://a..b/",
        "http://./",
    ],
)
def test_refused_urls(url: str) -> None:
    with pytest.raises(RefusedUrl):
        parse_url(url)


def test_names_are_normalized() -> None:
    target = parse_url("HTTPS://Social.EXAMPLE.org.:443/users/a?page=1#frag")
    assert (target.scheme, target.host, target.port) == ("https", "social.example.org", 443)
    assert target.url == "https://social.example.org/users/a?page=1"
    assert target.ip is None
    idn = parse_url("https://bücher.example/")
    assert idn.host == "xn--bcher-kva.example"
    assert parse_url("http://a.test:8001").url == "http://a.test:8001/"
    assert parse_url("http://[2a00:1450::1]:8080/x").authority == "[2a00:1450::1]:8080"


@given(st.text(max_size=60))
def test_any_text_is_refused_or_normalized_stably(text: str) -> None:
    for url in (text, "http://" + text, "https://" + text + "/x"):
        try:
            target = parse_url(url)
        except RefusedUrl:
            continue
        assert target.scheme in ("http", "https")
        assert "@" not in target.authority
        again = parse_url(target.url)
        assert again == target


def test_embedded_addresses_are_judged_by_their_ipv4() -> None:
    assert not is_public(IPv6Address("::ffff:10.0.0.1"))
    assert not is_public(IPv6Address("64:ff9b::a00:1"))
    assert not is_public(IPv6Address("2002:a00:1::"))  # 6to4 of 10.0.0.1
    assert not is_public(IPv6Address("::8.8.8.8"))  # IPv4-compatible: deprecated, refused
    assert is_public(IPv6Address("::ffff:8.8.8.8"))
    assert is_public(IPv6Address("64:ff9b::8.8.8.8"))


def test_resolve_pins() -> None:
    assert parse_pin("127.0.0.1:8001") == (IPv4Address("127.0.0.1"), 8001)
    assert parse_pin("[::1]:8001") == (IPv6Address("::1"), 8001)
    assert parse_pin("10.0.0.7") == (IPv4Address("10.0.0.7"), None)
    with pytest.raises(RefusedUrl):
        parse_pin("a.test:80")
