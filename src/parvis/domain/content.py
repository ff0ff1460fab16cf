"""Status content: Mastodon's rules for turning plain text into HTML, and for reading HTML back.

Local statuses are written as plain text and rendered here (links, mentions, hashtags,
paragraphs); remote statuses arrive as HTML and go through `sanitize_html`. Every function is
total: any `str` (lone surrogates and NUL included) is accepted and nothing raises.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from html import unescape as _unescape
from html.parser import HTMLParser
from typing import Any, Literal

import nh3
import py3langid.langid as _langid

URL_LENGTH = 23  # every link counts as this many characters, whatever its length
LINK_REL = "nofollow noopener noreferrer"


@dataclass(frozen=True)
class MentionRef:
    """A mention found in the text: `@username` or `@username@domain`."""

    username: str  # as written, without @
    domain: str | None  # None when written as @user (local), lowercased
    start: int  # offsets in the source text
    end: int


@dataclass(frozen=True)
class MentionTarget:
    """The account the caller resolved a mention to."""

    account_id: int
    username: str
    domain: str | None
    url: str  # profile URL to link to


@dataclass(frozen=True)
class RenderedText:
    html: str
    mentions: tuple[MentionTarget, ...]  # resolved, de-duplicated, in order
    tags: tuple[str, ...]  # names as written, de-duplicated case-insensitively, in order
    links: tuple[str, ...]  # http(s) URLs, de-duplicated, in order


# --- scanning -----------------------------------------------------------------------------

_BAD_CHARS_RE = re.compile("[\x00\ud800-\udfff]")
_URL_RE = re.compile(r"(?<![A-Za-z0-9@＠$#＃])https?://[^\s<>\"\x00-\x1f\x7f]+", re.IGNORECASE)
_URL_PREFIX_RE = re.compile(r"https?://(?:www\.)?", re.IGNORECASE)
_URL_TRAILING = ".,;:!?'\"’”»"
_MENTION_RE = re.compile(
    r"(?<![\w/=])@([A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)(?:@(\w(?:[\w.-]*\w)?))?"
)
_HASH_RE = re.compile("[#＃]")
_TAG_SEPARATORS = "·・\u200c"


@dataclass(frozen=True)
class _Entity:
    kind: Literal["url", "mention", "tag"]
    start: int
    end: int
    value: str  # the URL, the username, or the tag name
    domain: str | None = None


def _scrub(text: str) -> str:  # lone surrogates and NUL cannot be stored: same length out
    return _BAD_CHARS_RE.sub("\ufffd", text)


def _is_word(char: str) -> bool:  # Ruby's [[:word:]]: letters, marks, digits, connectors
    category = unicodedata.category(char)
    return category[0] in "LM" or category in ("Nd", "Pc")


def _trim_url(url: str) -> str:
    opens, closes = url.count("("), url.count(")")
    while url:
        last = url[-1]
        if last in _URL_TRAILING:
            url = url[:-1]
        elif last == ")" and closes > opens:
            url, closes = url[:-1], closes - 1
        else:
            break
    return url


def _url_entities(text: str) -> list[_Entity]:
    found: list[_Entity] = []
    for match in _URL_RE.finditer(text):
        url = _trim_url(match.group())
        host = re.split(r"[/?#]", url.split("://", 1)[1], maxsplit=1)[0]
        if any(char.isalnum() for char in host):
            found.append(_Entity("url", match.start(), match.start() + len(url), url))
    return found


def _mention_entities(text: str) -> list[_Entity]:
    return [
        _Entity("mention", m.start(), m.end(), m.group(1), m.group(2) and m.group(2).lower())
        for m in _MENTION_RE.finditer(text)
    ]


def _tag_entities(text: str) -> list[_Entity]:
    found: list[_Entity] = []
    for match in _HASH_RE.finditer(text):
        start = match.start()
        if start > 0 and (text[start - 1] in "=/)" or _is_word(text[start - 1])):
            continue
        end = start + 1
        while end < len(text) and (_is_word(text[end]) or text[end] in _TAG_SEPARATORS):
            end += 1
        while end > start + 1 and text[end - 1] in _TAG_SEPARATORS:
            end -= 1
        name = text[start + 1 : end]
        if name and name[0] not in _TAG_SEPARATORS and any(c.isalpha() for c in name):
            found.append(_Entity("tag", start, end, name))
    return found


def _entities(text: str) -> list[_Entity]:
    """URLs, mentions and hashtags, earliest first; an entity overlapping an earlier one is
    dropped (so a `#fragment` or `/@user` inside a link stays part of the link)."""
    candidates = _url_entities(text) + _mention_entities(text) + _tag_entities(text)
    candidates.sort(key=lambda e: (e.start, -e.end))
    kept: list[_Entity] = []
    for entity in candidates:
        if not kept or entity.start >= kept[-1].end:
            kept.append(entity)
    return kept


def extract_mentions(text: str) -> list[MentionRef]:
    """Every mention in `text`, in order (duplicates included), with offsets into `text`."""
    return [
        MentionRef(e.value, e.domain, e.start, e.end)
        for e in _entities(_scrub(text))
        if e.kind == "mention"
    ]


def extract_hashtags(text: str) -> list[str]:
    """Hashtag names as written, in order, de-duplicated by `normalize_tag`."""
    seen: dict[str, str] = {}
    for e in _entities(_scrub(text)):
        if e.kind == "tag":
            seen.setdefault(normalize_tag(e.value), e.value)
    return list(seen.values())


def normalize_tag(name: str) -> str:
    """The key a hashtag is stored under: NFKC + casefold ("Café" -> "café")."""
    name = _scrub(name)
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


# --- rendering ----------------------------------------------------------------------------

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})


def _escape(text: str) -> str:
    return text.translate(_ESCAPES)


def _escape_attr(text: str) -> str:
    return _escape(_scrub(text)).replace("\n", "&#10;").replace("\r", "&#13;")


def _link_html(url: str) -> str:
    match = _URL_PREFIX_RE.match(url)
    prefix = match.group() if match else ""
    rest = url[len(prefix) :]
    if len(rest) > 30:
        shown = (
            f'<span class="ellipsis">{_escape(rest[:30])}</span>'
            f'<span class="invisible">{_escape(rest[30:])}</span>'
        )
    else:
        shown = f'<span class="">{_escape(rest)}</span>'
    return (
        f'<a href="{_escape_attr(url)}" target="_blank" rel="{LINK_REL}" translate="no">'
        f'<span class="invisible">{_escape(prefix)}</span>{shown}</a>'
    )


def _paragraphs(body: str) -> str:
    chunks = [chunk for chunk in re.split(r"\n{2,}", body.strip("\n")) if chunk]
    return "".join(f"<p>{chunk.replace(chr(10), '<br />')}</p>" for chunk in chunks)


def render_plain_text(
    text: str,
    resolve: Callable[[str, str | None], MentionTarget | None],
    *,
    tag_url: Callable[[str], str],
) -> RenderedText:
    """Render a local status's plain text as Mastodon does.

    `resolve(username, domain)` is asked once per distinct mention; unresolved mentions stay
    plain text. `tag_url(name)` gets the hashtag as written and must percent-encode it.
    """
    source = _scrub(text).replace("\r\n", "\n").replace("\r", "\n")
    if not source.strip():
        return RenderedText("", (), (), ())
    parts: list[str] = []
    mentions: dict[int, MentionTarget] = {}
    tags: dict[str, str] = {}
    links: dict[str, None] = {}
    resolved: dict[tuple[str, str | None], MentionTarget | None] = {}
    position = 0
    for entity in _entities(source):
        parts.append(_escape(source[position : entity.start]))
        position = entity.end
        if entity.kind == "url":
            links.setdefault(entity.value)
            parts.append(_link_html(entity.value))
        elif entity.kind == "tag":
            tags.setdefault(normalize_tag(entity.value), entity.value)
            parts.append(
                f'<a href="{_escape_attr(tag_url(entity.value))}" class="mention hashtag"'
                f' rel="tag">#<span>{_escape(entity.value)}</span></a>'
            )
        else:
            key = (entity.value.lower(), entity.domain)
            if key not in resolved:
                resolved[key] = resolve(entity.value, entity.domain)
            target = resolved[key]
            if target is None:
                parts.append(_escape(source[entity.start : entity.end]))
                continue
            mentions.setdefault(target.account_id, target)
            parts.append(
                f'<span class="h-card" translate="no"><a href="{_escape_attr(target.url)}"'
                f' class="u-url mention">@<span>{_escape_attr(target.username)}</span></a></span>'
            )
    parts.append(_escape(source[position:]))
    html = _paragraphs("".join(parts))
    return RenderedText(html, tuple(mentions.values()), tuple(tags.values()), tuple(links))


# --- remote HTML --------------------------------------------------------------------------

_ALLOWED_TAGS = {"p", "br", "span", "a", "del", "pre", "code", "em", "strong", "b", "i", "u"}
_ALLOWED_TAGS |= {"ul", "ol", "li", "blockquote"}
_ALLOWED_ATTRIBUTES = {"a": {"href", "class"}, "span": {"class"}, "ol": {"start", "reversed"}}
_ALLOWED_ATTRIBUTES["li"] = {"value"}
_ALLOWED_CLASS_RE = re.compile(r"(?:h|p|u|dt|e)-[\w-]+|mention|hashtag|ellipsis|invisible")


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "href":
        return value if value[:8].lower().startswith(("http://", "https://")) else None
    if attribute == "class":
        kept = [name for name in value.split() if _ALLOWED_CLASS_RE.fullmatch(name)]
        return " ".join(kept) or None
    return value


_CLEANER = nh3.Cleaner(
    tags=_ALLOWED_TAGS,
    clean_content_tags={"script", "style"},
    attributes=_ALLOWED_ATTRIBUTES,
    tag_attribute_values={"a": {"translate": {"no"}}, "span": {"translate": {"no"}}},
    set_tag_attribute_values={"a": {"target": "_blank"}},
    attribute_filter=_attribute_filter,
    link_rel=LINK_REL,
    url_schemes={"http", "https"},
    url_relative="deny",
)


def sanitize_html(html: str) -> str:
    """Clean untrusted (remote) HTML down to Mastodon's allowed set; links get forced
    `rel="nofollow noopener noreferrer"` and `target="_blank"`, only http(s) hrefs survive."""
    cleaned = _CLEANER.clean(_scrub(html))
    for _ in range(3):  # html5ever re-nests a few odd trees once more: clean until stable
        cleaned, previous = _CLEANER.clean(cleaned), cleaned
        if cleaned == previous:
            break
    return cleaned


_BLOCK_TAGS = {"div", "li", "ul", "ol", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping: str | None = None
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skipping = tag
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS or tag == "p":
            self.parts.append("\n")
            self._pre += tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if tag == self._skipping:
            self._skipping = None
        elif tag == "p":
            self.parts.append("\n\n")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
            self._pre = max(0, self._pre - (tag == "pre"))

    def handle_data(self, data: str) -> None:
        if self._skipping is None:
            self.parts.append(data if self._pre else re.sub(r"[\r\n]+", " ", data))


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: tags dropped, entities decoded, `<br>` and paragraph
    breaks turned into newlines. For search indexing, previews, notifications."""
    source = _scrub(html)
    try:
        parser = _TextExtractor()
        parser.feed(source)
        parser.close()
        text = "".join(parser.parts)
    except Exception:  # HTMLParser has raised on malformed declarations in some versions
        text = _unescape(re.sub(r"<[^>]*>?", " ", source))
    text = re.sub(r"\n[ \t]+(?=\n)", "\n", text)
    return _scrub(re.sub(r"\n{3,}", "\n\n", text).strip())


# --- language and length ------------------------------------------------------------------


@cache
def _identifier() -> Any:
    return _langid.LanguageIdentifier.from_model_file(_langid.MODEL_FILE, norm_probs=True)


def _letter_weight(char: str) -> int:
    if not char.isalpha():
        return 0
    code = ord(char)  # CJK, kana and hangul carry a word or a syllable per character
    return 3 if 0x3040 <= code <= 0x9FFF or 0xAC00 <= code <= 0xD7AF or code >= 0x20000 else 1


def detect_language(text: str, *, default: str | None = None) -> str | None:
    """ISO 639-1 code of `text` (links, mentions and hashtags ignored), or `default` when the
    text is too short (under ~12 letters) or the guess is not confident."""
    stripped = source = _scrub(text)[:5000]
    for entity in reversed(_entities(source)):
        stripped = stripped[: entity.start] + " " + stripped[entity.end :]
    if sum(_letter_weight(char) for char in stripped) < 12:
        return default
    language, confidence = _identifier().classify(stripped)
    code = str(language)
    if float(confidence) < 0.5 or len(code) != 2:
        return default
    return code


def _grapheme_length(text: str) -> int:
    """Approximate extended grapheme clusters: marks, variation selectors, skin tones and
    ZWJ sequences join the previous character; flag pairs count once."""
    count, after_zwj, open_flag = 0, False, False
    for char in text:
        code = ord(char)
        joined = after_zwj and unicodedata.category(char) == "So"
        after_zwj = code == 0x200D
        flag = 0x1F1E6 <= code <= 0x1F1FF
        if count and (
            joined
            or after_zwj
            or unicodedata.category(char) in ("Mn", "Mc", "Me")
            or 0xFE00 <= code <= 0xFE0F
            or 0x1F3FB <= code <= 0x1F3FF
            or 0xE0020 <= code <= 0xE007F
            or (flag and open_flag)
        ):
            open_flag = False
            continue
        open_flag = flag
        count += 1
    return count


def count_characters(text: str) -> int:
    """Length as Mastodon counts it: each link is 23 characters, `@user@domain` counts as
    `@user`, and characters are counted as user-perceived characters (graphemes)."""
    source = _scrub(text).replace("\r\n", "\n")
    total, position = 0, 0
    for entity in _entities(source):
        if entity.kind == "tag":
            continue
        total += _grapheme_length(source[position : entity.start])
        total += URL_LENGTH if entity.kind == "url" else 1 + len(entity.value)
        position = entity.end
    return total + _grapheme_length(source[position:])
