"""Search (/api/v2/search): accounts, hashtags and statuses, the Mastodon way.

* A URL finds the account or status with that uri or web url (or the hashtag of a /tags/ URL),
  and nothing else: it is not searched for as text.
* `@user@domain` (or `user@domain`) finds that account first, then accounts by prefix.
* Hashtags by prefix of their normalized name.
* As in Mastodon, a one-word query starting with `#` finds only hashtags, a query with `@`
  finds no hashtags, and a one-word query with `@` no statuses.
* Statuses by full text (every word must match, accents and case ignored), only for a signed-in
  searcher, as in Mastodon; candidates come from the store (public/unlisted or own, indexable
  authors, no blocks) and the visibility rule has the last word.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from parvis.domain.content import extract_hashtags, normalize_tag
from parvis.domain.errors import Invalid
from parvis.domain.models import Account, Status, ViewerFlags
from parvis.services.context import Work
from parvis.services.timelines import flags_for, visible

TYPES = ("accounts", "hashtags", "statuses")
MAX_QUERY_CHARS = 1000
FOLLOWING_WINDOW = 400  # accounts looked at when only followed ones are wanted

# The domain may carry a port (`alice@localhost:3000`, a server on a development port).
_ACCT_RE = re.compile(
    r"^@?([A-Za-z0-9_][A-Za-z0-9_.-]*)"
    r"(?:@((?:[A-Za-z0-9.-]+\.[A-Za-z0-9-]+|localhost)(?::[0-9]{1,5})?))?$"
)


@dataclass(frozen=True)
class SearchQuery:
    q: str
    type: str | None = None
    resolve: bool = False
    following: bool = False
    account_id: int | None = None
    exclude_unreviewed: bool = False
    max_id: int | None = None
    min_id: int | None = None
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True)
class Hashtag:
    id: int | None  # None: a valid name never used yet
    name: str  # the normalized key
    display_name: str  # as first written


@dataclass(frozen=True)
class SearchResults:
    accounts: list[Account] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)
    hashtags: list[Hashtag] = field(default_factory=list)
    flags: ViewerFlags = field(default_factory=ViewerFlags)


def _clean(text: str) -> str:
    text = "".join(c for c in text if c != "\x00" and not 0xD800 <= ord(c) <= 0xDFFF)
    return text.strip()[:MAX_QUERY_CHARS]


def _url(q: str) -> str | None:
    if any(c.isspace() for c in q) or not q.lower().startswith(("https://", "http://")):
        return None
    try:
        parts = urlsplit(q)
    except ValueError:
        return None
    return q if parts.netloc else None


def _tag_key(q: str) -> str | None:
    """The normalized hashtag a query could be the start of, or None."""
    key = normalize_tag(q.strip().lstrip("#＃"))
    if not key or len(key) > 255:
        return None
    for char in key:
        if not (
            char.isalnum()
            or char == "_"
            or unicodedata.category(char)[0] == "M"
            or char in "·・\u200c"
        ):
            return None
    return key


def check(query: SearchQuery) -> None:
    if query.type is not None and query.type not in TYPES:
        raise Invalid("Validation failed: type must be one of accounts, hashtags, statuses")


def search(work: Work, viewer_id: int | None, query: SearchQuery) -> SearchResults:
    check(query)
    q = _clean(query.q)
    if not q:
        return SearchResults()
    url = _url(q)
    if url is not None:
        return _by_url(work, viewer_id, query, url)
    # Mastodon's rules: a lone `#word` is a hashtag (no accounts, no statuses), a lone word
    # with `@` an address (no hashtags, no statuses); with a space, text again.
    one_word = " " not in q
    found_accounts: list[Account] = []
    if _wants(query, "accounts") and not (q.startswith("#") or ("@" in q and not one_word)):
        found_accounts = _accounts(work, viewer_id, query, q)
    hashtags: list[Hashtag] = []
    if _wants(query, "hashtags") and "@" not in q:
        key = _tag_key(q)
        if key is not None:
            rows = work.store.search.tags(key, limit=query.limit, offset=query.offset)
            hashtags = [Hashtag(*row) for row in rows]
    statuses: list[Status] = []
    if (
        _wants(query, "statuses")
        and viewer_id is not None
        and not (one_word and (q.startswith("#") or "@" in q))
    ):
        ids = work.store.search.status_ids(
            q,
            viewer_id=viewer_id,
            limit=query.limit,
            offset=query.offset,
            max_id=query.max_id,
            min_id=query.min_id,
            account_id=query.account_id,
        )
        if query.min_id is not None:
            ids.sort(reverse=True)
        statuses = visible(work, viewer_id, ids)
    return SearchResults(found_accounts, statuses, hashtags, flags_for(work, viewer_id, statuses))


def _wants(query: SearchQuery, kind: str) -> bool:
    return query.type is None or query.type == kind


def _accounts(work: Work, viewer_id: int | None, query: SearchQuery, q: str) -> list[Account]:
    store = work.store.accounts
    term = q
    exact: Account | None = None
    match = _ACCT_RE.match(q)
    if match and "@" in q.lstrip("@"):
        username, domain = match.group(1), match.group(2)
        if domain and domain.lower() == work.settings.domain.lower():
            domain = None
            term = username
        exact = store.by_acct(username, domain)
        if exact is not None and exact.suspended:
            exact = None
    if query.following:
        if viewer_id is None:
            return []
        window = store.search(term, limit=FOLLOWING_WINDOW, offset=0)
        if exact is not None:
            window = [exact, *(a for a in window if a.id != exact.id)]
        followed = work.store.social.viewer(viewer_id, [a.id for a in window]).following
        kept = [a for a in window if a.id in followed]
        return kept[query.offset : query.offset + query.limit]
    found = store.search(term, limit=query.limit, offset=query.offset)
    if exact is not None and query.offset == 0:
        found = [exact, *(a for a in found if a.id != exact.id)][: query.limit]
    return found


def _by_url(work: Work, viewer_id: int | None, query: SearchQuery, url: str) -> SearchResults:
    if query.offset > 0:
        return SearchResults()
    found_accounts: list[Account] = []
    statuses: list[Status] = []
    hashtags: list[Hashtag] = []
    if _wants(query, "accounts"):
        account_id = work.store.search.account_id_by_url(url)
        account = work.store.accounts.get(account_id) if account_id is not None else None
        if account is not None and not account.suspended:
            found_accounts.append(account)
    if _wants(query, "statuses"):
        status_id = work.store.search.status_id_by_url(url)
        if status_id is not None:
            statuses = visible(work, viewer_id, [status_id])
    if _wants(query, "hashtags"):
        base = work.settings.base_url.rstrip("/") + "/tags/"
        if url.startswith(base):
            key = _tag_key(unquote(url[len(base) :].split("?")[0].split("#")[0]))
            row = work.store.search.tag(key) if key else None
            if row is not None:
                hashtags.append(Hashtag(*row))
    return SearchResults(found_accounts, statuses, hashtags, flags_for(work, viewer_id, statuses))


def tag(work: Work, name: str) -> Hashtag | None:
    """A hashtag by name: the stored one, or a fresh one for a valid name never used yet."""
    name = name.strip().lstrip("#＃")
    if extract_hashtags(f"#{name}") != [name]:  # not a whole hashtag ("2024", "a b", "")
        return None
    key = normalize_tag(name)
    row = work.store.search.tag(key)
    return Hashtag(*row) if row else Hashtag(None, key, name)
