"""The request as both signature schemes see it: method, URL parts, headers (case-insensitive,
repeated fields combined), body; and the rules they share: HTTP dates, the clock-skew window,
and when a body digest is required."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import urlsplit

from parvis.domain.httpsig.errors import SignatureError

# Fields longer than this are refused before any parsing (a Signature header is ~500 bytes).
MAX_FIELD_LENGTH = 16_384
# Methods whose requests carry a body: their signature must cover a digest of it.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# How far past its `expires` a signature is still taken (at most; never more than the skew).
EXPIRES_LEEWAY = timedelta(minutes=5)
_DEFAULT_PORTS = {"http": ":80", "https": ":443"}
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_METHOD = re.compile(r"[A-Za-z]{1,16}")
_HTTP_DATE = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{1,2}) (\w{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) "
    r"(?:GMT|UTC|\+0000)",
    re.ASCII,
)


@dataclass(frozen=True)
class Request:
    method: str  # upper case
    url: str
    scheme: str  # lower case
    authority: str  # lower case host[:port], the scheme's default port left out
    path: str  # "/" when the URL has none
    query: str  # without "?"; "" when none
    headers: dict[str, str]  # lower-cased names
    body: bytes

    @property
    def request_target(self) -> str:
        return self.path + ("?" + self.query if self.query else "")

    @property
    def target_uri(self) -> str:
        """The URL with scheme and host lower-cased and the default port left out (as Rack,
        and so Mastodon, rebuilds it)."""
        return f"{self.scheme}://{self.authority}{self.request_target}"

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def needs_digest(self) -> bool:
        return bool(self.body) or self.method in BODY_METHODS


def split_url(url: str) -> tuple[str, str, str, str]:
    """(scheme, authority, path, query) of an absolute http(s) URL; ValueError otherwise."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.netloc:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    authority = parts.netloc.rpartition("@")[2].lower()
    if authority.endswith(_DEFAULT_PORTS[scheme]):
        authority = authority[: -len(_DEFAULT_PORTS[scheme])]
    return scheme, authority, parts.path or "/", parts.query


def combine_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-case the names; repeated fields are joined with ", " (RFC 9110 §5.3)."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    combined: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        value = value.strip(" \t")
        combined[key] = f"{combined[key]}, {value}" if key in combined else value
    return combined


def request_of(method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> Request:
    if _METHOD.fullmatch(method) is None:
        raise SignatureError(f"not an HTTP method: {method[:16]!r}")
    if not url.isascii() or not url.isprintable() or " " in url:
        raise SignatureError("the request URL is not printable ASCII")
    try:
        scheme, authority, path, query = split_url(url)
    except ValueError as error:
        raise SignatureError(f"cannot check a signature on this URL: {error}") from None
    multi_items = getattr(headers, "multi_items", None)  # httpx-style headers repeat fields
    items = multi_items() if callable(multi_items) else headers.items()
    return Request(
        method=method.upper(),
        url=url,
        scheme=scheme,
        authority=authority,
        path=path,
        query=query,
        headers=combine_headers(items),
        body=body or b"",
    )


def field_value(request: Request, name: str) -> str:
    """A signed header's value; refused when absent or unsafe to put in a signature base."""
    value = request.header(name)
    if value is None:
        raise SignatureError(f"the signed header {name!r} is not in the request")
    check_field(name, value)
    return value


def check_field(name: str, value: str) -> None:
    if len(value) > MAX_FIELD_LENGTH:
        raise SignatureError(f"the {name} header is too long")
    if not value.isascii() or any(char in value for char in "\r\n\x00"):
        raise SignatureError(f"the {name} header contains a line break or non-ASCII text")


def http_date(moment: datetime) -> str:
    """IMF-fixdate, as the Date header wants it: `Tue, 20 Apr 2021 02:07:55 GMT`."""
    return format_datetime(aware(moment).astimezone(UTC), usegmt=True)


def parse_http_date(value: str) -> datetime:
    match = _HTTP_DATE.fullmatch(value.strip())
    month = _MONTHS.get(match.group(2)) if match else None
    if match is None or month is None:
        raise SignatureError(f"the Date header is not an HTTP date: {value[:64]!r}")
    day, _, year, hour, minute, second = match.groups()
    try:
        moment = datetime(int(year), month, int(day), int(hour), int(minute), int(second))
    except ValueError:
        raise SignatureError(f"the Date header is not a valid date: {value[:64]!r}") from None
    return datetime.fromtimestamp(calendar.timegm(moment.timetuple()), UTC)


def aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a timezone-aware datetime is required")
    return moment


def check_fresh(what: str, moment: datetime, now: datetime, max_skew: timedelta) -> None:
    """`moment` (when the request was signed) must be within `max_skew` of `now`, either way."""
    when = f"({moment.isoformat()}, now {now.isoformat()}, {max_skew} allowed)"
    if moment > now + max_skew:
        raise SignatureError(f"{what} is in the future {when}")
    if moment < now - max_skew:
        raise SignatureError(f"{what} is too old {when}")


def check_not_expired(
    expires: datetime, signed: datetime | None, now: datetime, max_skew: timedelta
) -> None:
    """A signature past its `expires` is refused, allowing for clock skew up to
    EXPIRES_LEEWAY (a signer that says "valid for a minute" means it)."""
    if signed is not None and expires < signed:
        raise SignatureError("the signature expires before it was created")
    if now - min(max_skew, EXPIRES_LEEWAY) > expires:
        raise SignatureError(f"the signature expired at {expires.isoformat()}")


def timestamp(value: object, what: str) -> datetime:
    """A Unix time parameter (`created`, `expires`) as a UTC datetime."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise SignatureError(f"the {what} parameter is not an integer")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise SignatureError(f"the {what} parameter is out of range") from None
