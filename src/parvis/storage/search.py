"""Full-text search of statuses, and the lookups behind /api/v2/search.

Accents and case are folded *in Python*, the same way for the indexed text and for the query, so
both backends behave alike and no database extension is needed: "Noël" and "noel" both become
`noel`. The folded text is stored as a plain stream of word tokens separated by spaces:

* SQLite: an FTS5 table `status_search(body, language, account_id)` keyed by rowid = status id,
  tokenizer `unicode61 remove_diacritics 2` (redundant after folding, but it keeps the index
  accent-insensitive for anything written to it without folding).
* PostgreSQL: a table `status_search(status_id, account_id, language, document tsvector)` with a
  GIN index; `document = to_tsvector('simple', folded tokens)`. No stemming and no stop words, so
  a query matches the same words in any language, as on SQLite. No `unaccent` extension needed.

User queries are never handed to a query parser as written: they are split into words and
"quoted phrases" (a leading `-` excludes one), and rebuilt from the folded tokens, so FTS syntax
(`NEAR(`, `col:`, `*`, `AND`, quotes) is only ever searched for as words.

Who may find what (candidates only; `may_see` still has the last word in the service):
public and unlisted statuses, plus the searcher's own; never boosts; never statuses of suspended
authors; authors with `indexable = false` only for their own searches and posts mentioning the
searcher; nothing across a block, either way. `indexable` is read at query time.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    MetaData,
    String,
    Table,
    and_,
    bindparam,
    column,
    delete,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from parvis.domain.visibility import Visibility
from parvis.storage.tables import accounts, blocks, status_mentions, statuses, tags

TABLE = "status_search"
MAX_TERMS = 16  # words or phrases in one query
MAX_PHRASE_TOKENS = 16
MAX_TOKEN_CHARS = 100  # longer "words" are neither indexed nor searched for

# PostgreSQL's table, as Core objects (kept out of the shared `metadata`: the migration owns it).
_pg_metadata = MetaData()
pg_status_search = Table(
    TABLE,
    _pg_metadata,
    Column("status_id", BigInteger, primary_key=True),
    Column("account_id", BigInteger, nullable=False),
    Column("language", String(8), nullable=True),
    Column("document", TSVECTOR, nullable=False),
)
# SQLite's FTS5 table, by name (a virtual table: the migration creates it with raw DDL).
_fts5 = table(TABLE, column("rowid"), column("body"), column("language"), column("account_id"))
_SIMPLE: ColumnElement[Any] = literal_column("'simple'::regconfig")

# --- folding and tokenizing (shared by indexing and querying) --------------------------------

_DIACRITIC_RANGES = (
    (0x0300, 0x036F),
    (0x1AB0, 0x1AFF),
    (0x1DC0, 0x1DFF),
    (0x20D0, 0x20FF),
    (0xFE20, 0xFE2F),
)
# Letters with no Unicode decomposition that people type without their stroke or ligature.
_LETTERS = str.maketrans(
    {
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "ł": "l",
        "ŀ": "l",
        "ħ": "h",
        "ı": "i",
        "ŧ": "t",
        "æ": "ae",
        "œ": "oe",
        "þ": "th",
        "ĸ": "k",
    }
)


def _is_diacritic(char: str) -> bool:
    code = ord(char)
    return any(lo <= code <= hi for lo, hi in _DIACRITIC_RANGES)


def fold(text: str) -> str:
    """Case- and accent-folded text: "Café NOËL" -> "cafe noel".

    Only Latin/Greek/Cyrillic-style combining diacritics are dropped; marks that make a different
    letter elsewhere (kana voicing, Indic vowel signs) are kept.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not _is_diacritic(c))
    return unicodedata.normalize("NFKC", stripped.translate(_LETTERS)).casefold()


def _is_token_char(char: str) -> bool:
    return char.isalnum() or unicodedata.category(char)[0] == "M"


def tokens(text: str) -> list[str]:
    """The words of already folded text: runs of letters, digits and marks."""
    out: list[str] = []
    current: list[str] = []
    for char in text:
        if _is_token_char(char):
            current.append(char)
            continue
        if current:
            out.append("".join(current))
            current = []
    if current:
        out.append("".join(current))
    return [t for t in out if len(t) <= MAX_TOKEN_CHARS]


def _clean(text: str) -> str:
    """Drop what no database accepts in a string: NUL and lone surrogates."""
    return "".join(c for c in text if c != "\x00" and not 0xD800 <= ord(c) <= 0xDFFF)


def document(text: str) -> str:
    """What gets indexed for a text: its folded words, separated by single spaces."""
    return " ".join(tokens(fold(_clean(text))))


@dataclass(frozen=True)
class ParsedQuery:
    """Terms that must all match (each a phrase of one or more words) and terms that must not."""

    required: tuple[tuple[str, ...], ...]
    excluded: tuple[tuple[str, ...], ...]

    @property
    def empty(self) -> bool:
        return not self.required


def parse_query(query: str) -> ParsedQuery:
    """Words and "quoted phrases", `-` in front to exclude; anything else is just text."""
    source = fold(_clean(query))
    required: list[tuple[str, ...]] = []
    excluded: list[tuple[str, ...]] = []
    i, n = 0, len(source)
    while i < n and len(required) + len(excluded) < MAX_TERMS:
        if source[i].isspace():
            i += 1
            continue
        negate = source[i] == "-" and i + 1 < n and not source[i + 1].isspace()
        start = i + 1 if negate else i
        if start < n and source[start] == '"':
            end = source.find('"', start + 1)
            end = n if end == -1 else end
            chunk, i = source[start + 1 : end], end + 1
        else:
            end = start
            while end < n and not source[end].isspace():
                end += 1
            chunk, i = source[start:end], end
        words = tuple(tokens(chunk)[:MAX_PHRASE_TOKENS])
        if words:
            (excluded if negate else required).append(words)
    return ParsedQuery(tuple(dict.fromkeys(required)), tuple(dict.fromkeys(excluded)))


def _fts5_expression(parsed: ParsedQuery) -> str:
    def phrase(words: tuple[str, ...]) -> str:
        return '"' + " ".join(words).replace('"', '""') + '"'

    expr = "(" + " AND ".join(phrase(w) for w in parsed.required) + ")"
    for words in parsed.excluded:
        expr += " NOT " + phrase(words)
    return expr


# --- the store ---------------------------------------------------------------------------------


class SearchStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name

    @property
    def _sqlite(self) -> bool:
        return self.dialect == "sqlite"

    # -- the index --------------------------------------------------------------------------

    def index_status(
        self, status_id: int, text: str, language: str | None, account_id: int
    ) -> None:
        """(Re)index a status' text. Call it with the plain text (source and content warning)."""
        self.unindex_status(status_id)
        body = document(text)
        if not body:
            return
        lang = (language or None) and language[:8]
        if self._sqlite:
            self.conn.execute(
                insert(_fts5).values(
                    rowid=status_id, body=body, language=lang, account_id=account_id
                )
            )
        else:
            self.conn.execute(
                insert(pg_status_search).values(
                    status_id=status_id,
                    account_id=account_id,
                    language=lang,
                    document=func.to_tsvector(_SIMPLE, body),
                )
            )

    def unindex_status(self, status_id: int) -> None:
        if self._sqlite:
            self.conn.execute(delete(_fts5).where(_fts5.c.rowid == status_id))
        else:
            self.conn.execute(
                delete(pg_status_search).where(pg_status_search.c.status_id == status_id)
            )

    def is_indexed(self, status_id: int) -> bool:
        key = _fts5.c.rowid if self._sqlite else pg_status_search.c.status_id
        return self.conn.execute(select(key).where(key == status_id)).first() is not None

    # -- full text ----------------------------------------------------------------------------

    def status_ids(
        self,
        query: str,
        *,
        viewer_id: int | None,
        limit: int,
        offset: int = 0,
        max_id: int | None = None,
        min_id: int | None = None,
        account_id: int | None = None,
    ) -> list[int]:
        """Ids of candidate statuses matching every word of `query`, newest first (with
        `min_id`: the oldest ones after it, oldest first, as timelines do)."""
        parsed = parse_query(query)
        if parsed.empty or limit <= 0:
            return []
        id_col: Any
        match: ColumnElement[bool]
        if self._sqlite:
            id_col = _fts5.c.rowid
            match = literal_column(TABLE).op("MATCH")(
                bindparam("fts_query", _fts5_expression(parsed))
            )
            source: Any = _fts5
        else:
            id_col = pg_status_search.c.status_id
            match = pg_status_search.c.document.op("@@")(_tsquery(parsed))
            source = pg_status_search
        stmt = (
            select(statuses.c.id)
            .select_from(
                source.join(statuses, statuses.c.id == id_col).join(
                    accounts, accounts.c.id == statuses.c.account_id
                )
            )
            .where(match, statuses.c.reblog_of_id.is_(None))
        )
        public = statuses.c.visibility.in_([Visibility.PUBLIC.value, Visibility.UNLISTED.value])
        listed = and_(public, accounts.c.suspended_at.is_(None))
        if viewer_id is None:
            stmt = stmt.where(listed, accounts.c.indexable.is_(True))
        else:
            mentions_me = exists().where(
                status_mentions.c.status_id == statuses.c.id,
                status_mentions.c.account_id == viewer_id,
            )
            blocked = exists().where(
                or_(
                    and_(
                        blocks.c.account_id == viewer_id,
                        blocks.c.target_account_id == statuses.c.account_id,
                    ),
                    and_(
                        blocks.c.account_id == statuses.c.account_id,
                        blocks.c.target_account_id == viewer_id,
                    ),
                )
            )
            stmt = stmt.where(
                or_(
                    statuses.c.account_id == viewer_id,
                    and_(listed, ~blocked, or_(accounts.c.indexable.is_(True), mentions_me)),
                )
            )
        if account_id is not None:
            stmt = stmt.where(statuses.c.account_id == account_id)
        if max_id is not None:
            stmt = stmt.where(id_col < max_id)
        if min_id is not None:
            stmt = stmt.where(id_col > min_id).order_by(id_col.asc())
        else:
            stmt = stmt.order_by(id_col.desc())
        stmt = stmt.limit(limit).offset(max(offset, 0))
        return [r[0] for r in self.conn.execute(stmt)]

    # -- hashtags and direct lookups ----------------------------------------------------------

    def tags(self, prefix: str, *, limit: int, offset: int = 0) -> list[tuple[int, str, str]]:
        """(id, name, display name) of hashtags whose normalized name starts with `prefix`:
        the exact match first, then shorter names first."""
        if not prefix or limit <= 0:
            return []
        like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = (
            select(tags.c.id, tags.c.name, tags.c.display_name)
            .where(tags.c.name.like(f"{like}%", escape="\\"))
            .order_by((tags.c.name == prefix).desc(), func.length(tags.c.name), tags.c.name)
            .limit(limit)
            .offset(max(offset, 0))
        )
        return [(r[0], r[1], r[2]) for r in self.conn.execute(stmt)]

    def tag(self, name: str) -> tuple[int, str, str] | None:
        """(id, name, display name) of the hashtag with this normalized name."""
        row = self.conn.execute(
            select(tags.c.id, tags.c.name, tags.c.display_name).where(tags.c.name == name)
        ).first()
        return (row[0], row[1], row[2]) if row else None

    def status_id_by_url(self, url: str) -> int | None:
        """A status by its canonical uri or its web url (never a boost)."""
        return self.conn.execute(
            select(statuses.c.id)
            .where(
                or_(statuses.c.uri == url, statuses.c.url == url), statuses.c.reblog_of_id.is_(None)
            )
            .order_by(statuses.c.id)
            .limit(1)
        ).scalar()

    def account_id_by_url(self, url: str) -> int | None:
        return self.conn.execute(
            select(accounts.c.id)
            .where(or_(accounts.c.uri == url, accounts.c.url == url))
            .order_by(accounts.c.id)
            .limit(1)
        ).scalar()


def _tsquery(parsed: ParsedQuery) -> ColumnElement[Any]:
    """`phrase1 & phrase2 & !excluded`, built with functions from bound parameters."""

    def phrase(name: str, words: tuple[str, ...]) -> ColumnElement[Any]:
        return func.phraseto_tsquery(_SIMPLE, bindparam(name, " ".join(words)))

    query = phrase("ts_0", parsed.required[0])
    for i, words in enumerate(parsed.required[1:], 1):
        query = func.tsquery_and(query, phrase(f"ts_{i}", words))
    for i, words in enumerate(parsed.excluded):
        query = func.tsquery_and(query, func.tsquery_not(phrase(f"ts_not_{i}", words)))
    return query
