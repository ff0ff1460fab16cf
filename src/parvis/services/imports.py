"""Import of the CSV files Mastodon (and Parvis's own export) writes: the accounts one follows,
blocks and mutes, blocked domains, bookmarks and lists.

Formats, as Mastodon reads them: `following_accounts.csv` (`Account address,Show boosts,Notify
on new posts,Languages`), `blocked_accounts.csv` (`Account address`), `muted_accounts.csv`
(`Account address,Hide notifications`), `blocked_domains.csv` (`#domain`), `bookmarks.csv`
(`#uri`: post URIs) and `lists.csv` (`List name,Account address`). The header line is
optional: without it the columns are taken in this order (older exports have none).

Two steps. `parse` reads the file and refuses it whole (Invalid, with the reason) when it is
not such a file: not UTF-8, malformed CSV, columns of another kind of import, too large, too
many rows. `apply` then works in the caller's unit of work (one transaction: all or nothing)
and returns a report of what was imported, what was removed (mode "overwrite": what the file
does not hold is undone) and what was skipped, row by row, and why: an address that is not
one, an account or a post nobody here knows, oneself, a block in the way...

Accounts of other servers that this one does not know yet are found through `resolve` (the
edge passes one that asks the network, before the transaction: see `unknown_addresses`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field

from parvis.domain.errors import DomainError, Invalid
from parvis.domain.lists import MAX_LISTS, UserList
from parvis.domain.models import Account
from parvis.services import domain_blocks, interactions, lists, social
from parvis.services.context import Work
from parvis.services.migration import Resolve, is_uri, portability

MAX_BYTES = 20 * 1024 * 1024  # Mastodon's limits
MAX_ROWS = 20_000
MAX_FIELD = 4096
MODES = ("merge", "overwrite")

ADDRESS = "Account address"
HEADERS: dict[str, tuple[str, ...]] = {
    "following": (ADDRESS, "Show boosts", "Notify on new posts", "Languages"),
    "blocking": (ADDRESS,),
    "muting": (ADDRESS, "Hide notifications"),
    "domain_blocking": ("#domain",),
    "bookmarks": ("#uri",),
    "lists": ("List name", ADDRESS),
}
KINDS = tuple(HEADERS)
FIRST_HEADERS = {h[0] for h in HEADERS.values()}
# What a file's columns must include, once it has a header line.
REQUIRED: dict[str, tuple[str, ...]] = {
    "following": (ADDRESS,),
    "blocking": (ADDRESS,),
    "muting": (ADDRESS,),
    "domain_blocking": ("#domain",),
    "bookmarks": ("#uri",),
    "lists": ("List name", ADDRESS),
}

# Why a row was skipped (the web pages translate these; the API and the CLI say them).
REASONS = {
    "invalid_address": "not an account address",
    "invalid_uri": "not the address of a post",
    "invalid_domain": "not a domain name",
    "invalid_list_name": "the list name is empty or too long",
    "duplicate": "already in an earlier row",
    "unknown_account": "no such account was found",
    "not_looked_up": "its server was not asked this time: import the file again",
    "unknown_post": "no such post is known here, or you may not see it",
    "self": "this is your own account",
    "own_domain": "this is this server's own domain",
    "blocked": "one of you blocks the other",
    "too_many_lists": "you have reached the greatest number of lists",
    "not_followed": "the account could not be followed yet (a follow request is waiting)",
    "refused": "refused",
}

_USERNAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}$")
_DOMAIN = re.compile(r"^[\w.\-]{1,253}(:\d{1,5})?$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_FALSE = {"false", "0", "f", "off", "no", "n"}


@dataclass(frozen=True)
class Row:
    line: int  # the row's number in the file (1 is the first line)
    value: str  # account address, post URI or domain
    list_name: str = ""
    show_reblogs: bool = True
    notify: bool = False
    languages: tuple[str, ...] = ()
    hide_notifications: bool = True

    @property
    def shown(self) -> str:
        return f"{self.list_name}: {self.value}" if self.list_name else self.value


@dataclass(frozen=True)
class Skipped:
    line: int
    value: str
    reason: str  # a key of REASONS
    detail: str = ""  # a service's message, for "refused"

    @property
    def message(self) -> str:
        return self.detail or REASONS.get(self.reason, self.reason)


@dataclass(frozen=True)
class Parsed:
    kind: str
    rows: tuple[Row, ...]
    skipped: tuple[Skipped, ...] = ()


@dataclass
class Report:
    kind: str
    mode: str
    rows: int  # rows read from the file (the header line aside)
    imported: list[str] = field(default_factory=list)  # in place once imported
    already: int = 0  # of those, how many were there before
    requested: list[str] = field(default_factory=list)  # follow requests sent (locked accounts)
    removed: list[str] = field(default_factory=list)  # undone by "overwrite"
    skipped: list[Skipped] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{len(self.imported)} imported ({self.already} already there)"]
        if self.requested:
            parts.append(f"{len(self.requested)} follow requests sent")
        if self.removed:
            parts.append(f"{len(self.removed)} removed")
        parts.append(f"{len(self.skipped)} skipped")
        return ", ".join(parts)


# -- reading the file ------------------------------------------------------------------------


def _text(data: bytes, max_bytes: int) -> str:
    if len(data) > max_bytes:
        raise Invalid(
            "Validation failed: file: "
            f"the file is too large ({len(data)} bytes, at most {max_bytes})"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("Validation failed: file: this is not a CSV text file") from None
    if "\x00" in text:
        raise Invalid("Validation failed: file: this is not a CSV text file")
    if not text.strip():
        raise Invalid("Validation failed: file: the file is empty")
    return text


def _records(text: str, max_rows: int) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of the rows that are not blank."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    count = 0
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if any(len(c) > MAX_FIELD for c in cells):
                raise Invalid(
                    f"Validation failed: file: a value is longer than {MAX_FIELD} characters"
                )
            count += 1
            if count > max_rows + 1:  # a header line may come on top
                raise Invalid(f"Validation failed: file: more than {max_rows} rows")
            yield reader.line_num, cells
    except csv.Error as exc:
        raise Invalid(f"Validation failed: file: malformed CSV at line {reader.line_num}") from exc


def _flag(value: str | None, default: bool) -> bool:
    value = (value or "").strip().lower()
    if not value:
        return default
    return value not in _FALSE


def _address(value: str) -> str | None:
    """`user@domain` (or `user` for this server), without the leading @; None if not one."""
    value = value.strip().removeprefix("@")
    username, at, domain = value.partition("@")
    if not _USERNAME.match(username) or (at and not _DOMAIN.match(domain)):
        return None
    return f"{username}@{domain.lower()}" if at else username


def parse(
    kind: str, data: bytes, *, max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS
) -> Parsed:
    """Read a file of this kind; Invalid (nothing applied) when it is not one."""
    if kind not in HEADERS:
        raise Invalid("Validation failed: type: one of " + ", ".join(KINDS))
    text = _text(data, max_bytes)
    records = list(_records(text, max_rows))
    if not records:
        raise Invalid("Validation failed: file: the file is empty")
    first = [c.strip() for c in records[0][1]]
    if first[0] in FIRST_HEADERS:
        missing = [h for h in REQUIRED[kind] if h not in first]
        if missing:
            raise Invalid(
                "Validation failed: file: its columns are those of another kind of import; "
                "expected: " + ", ".join(HEADERS[kind])
            )
        columns = first
        records = records[1:]
    else:
        columns = list(HEADERS[kind])
    if len(records) > max_rows:
        raise Invalid(f"Validation failed: file: more than {max_rows} rows")
    rows: list[Row] = []
    skipped: list[Skipped] = []
    seen: set[str] = set()
    for line, cells in records:
        named = {name: cells[i].strip() for i, name in enumerate(columns) if i < len(cells)}
        row, reason = _row(kind, line, named)
        if row is None:
            skipped.append(Skipped(line, _first_value(kind, named), reason))
            continue
        key = f"{row.list_name}\x00{row.value.lower()}"
        if key in seen:
            skipped.append(Skipped(line, row.shown, "duplicate"))
            continue
        seen.add(key)
        rows.append(row)
    return Parsed(kind, tuple(rows), tuple(skipped))


def _first_value(kind: str, named: dict[str, str]) -> str:
    value = named.get(REQUIRED[kind][-1], "")
    if kind == "lists":
        return f"{named.get('List name', '')}: {value}"
    return value


def _row(kind: str, line: int, named: dict[str, str]) -> tuple[Row | None, str]:
    if kind == "bookmarks":
        uri = named.get("#uri", "")
        return (Row(line, uri), "") if is_uri(uri) else (None, "invalid_uri")
    if kind == "domain_blocking":
        try:
            domain = domain_blocks.normalize_domain(named.get("#domain", ""))
        except Invalid:
            return None, "invalid_domain"
        return Row(line, domain), ""
    address = _address(named.get(ADDRESS, ""))
    if address is None:
        return None, "invalid_address"
    if kind == "lists":
        name = named.get("List name", "")
        if not name or len(name) > lists.MAX_TITLE:
            return None, "invalid_list_name"
        return Row(line, address, list_name=name), ""
    languages = tuple(
        dict.fromkeys(
            x.strip().lower()
            for x in named.get("Languages", "").split(",")
            if _LANGUAGE.match(x.strip().lower())
        )
    )
    return (
        Row(
            line,
            address,
            show_reblogs=_flag(named.get("Show boosts"), True),
            notify=_flag(named.get("Notify on new posts"), False),
            languages=languages,
            hide_notifications=_flag(named.get("Hide notifications"), True),
        ),
        "",
    )


# -- applying it -------------------------------------------------------------------------


def unknown_addresses(work: Work, parsed: Parsed) -> list[str]:
    """The `user@domain` addresses of the file that no account here has: the edge looks them
    up on the network (outside any transaction) before `apply`."""
    if parsed.kind in ("bookmarks", "domain_blocking"):
        return []
    out: dict[str, None] = {}
    for row in parsed.rows:
        username, _, domain = row.value.partition("@")
        if not domain or domain == work.settings.domain.lower():
            continue
        if work.store.accounts.by_acct(username, domain) is None:
            out[row.value] = None
    return list(out)


class _Accounts:
    """Addresses to accounts, each looked up once."""

    def __init__(
        self, work: Work, resolve: Resolve | None, not_looked_up: Collection[str] = ()
    ) -> None:
        self.work = work
        self.resolve = resolve
        self.not_looked_up = {a.lower() for a in not_looked_up}
        self.found: dict[str, Account | None] = {}

    def get(self, address: str) -> Account | None:
        key = address.lower()
        if key not in self.found:
            work = self.work
            username, _, domain = address.partition("@")
            if domain == work.settings.domain.lower():
                domain = ""
            account = work.store.accounts.by_acct(username, domain or None)
            if account is None and domain and self.resolve is not None:
                account_id = self.resolve(address)
                account = work.store.accounts.get(account_id) if account_id is not None else None
            if account is not None and account.suspended:
                account = None
            self.found[key] = account
        return self.found[key]


def apply(
    work: Work,
    account_id: int,
    parsed: Parsed,
    mode: str = "merge",
    *,
    resolve: Resolve | None = None,
    not_looked_up: Collection[str] = (),
) -> Report:
    """Apply a parsed file to the account, in the caller's transaction. `not_looked_up`: the
    addresses of `unknown_addresses` the edge did not look up (it looks up a limited number)."""
    if mode not in MODES:
        raise Invalid("Validation failed: mode: one of merge, overwrite")
    report = Report(parsed.kind, mode, len(parsed.rows) + len(parsed.skipped))
    report.skipped.extend(parsed.skipped)
    appliers: dict[str, Callable[[Work, int, Parsed, Report, _Accounts], None]] = {
        "following": _following,
        "blocking": _blocking,
        "muting": _muting,
        "domain_blocking": _domain_blocking,
        "bookmarks": _bookmarks,
        "lists": _lists,
    }
    found = _Accounts(work, resolve, not_looked_up)
    appliers[parsed.kind](work, account_id, parsed, report, found)
    report.skipped.sort(key=lambda s: s.line)
    return report


def run(
    work: Work,
    account_id: int,
    kind: str,
    data: bytes,
    mode: str = "merge",
    *,
    resolve: Resolve | None = None,
) -> Report:
    """parse + apply, for callers that have no network to ask in between."""
    return apply(work, account_id, parse(kind, data), mode, resolve=resolve)


def _targets(
    work: Work, account_id: int, parsed: Parsed, report: Report, found: _Accounts
) -> Iterator[tuple[Row, Account]]:
    for row in parsed.rows:
        account = found.get(row.value)
        if account is None:
            reason = "not_looked_up" if row.value.lower() in found.not_looked_up else ""
            report.skipped.append(Skipped(row.line, row.shown, reason or "unknown_account"))
        elif account.id == account_id:
            report.skipped.append(Skipped(row.line, row.shown, "self"))
        else:
            yield row, account


def _refused(report: Report, row: Row, exc: DomainError) -> None:
    blocked = "blocks the other" in exc.message
    reason = "blocked" if blocked else "refused"
    detail = "" if blocked else exc.message.removeprefix("Validation failed: ")
    report.skipped.append(Skipped(row.line, row.shown, reason, detail))


def _overwrite(
    work: Work, report: Report, before: Iterable[int], kept: set[int], undo: Callable[[int], object]
) -> None:
    gone = [a for a in before if a not in kept]
    names = work.store.accounts.get_many(gone)
    for target in gone:
        try:
            undo(target)
        except DomainError:
            continue
        account = names.get(target)
        report.removed.append(_acct(work, account) if account else str(target))


def _acct(work: Work, account: Account) -> str:
    return f"{account.username}@{account.domain or work.settings.domain}"


def _following(
    work: Work, account_id: int, parsed: Parsed, report: Report, found: _Accounts
) -> None:
    before = portability(work).targets("follows", account_id)
    had = set(before)
    kept: set[int] = set()
    for row, target in _targets(work, account_id, parsed, report, found):
        try:
            rel = social.follow(
                work,
                account_id,
                target.id,
                reblogs=row.show_reblogs,
                notify=row.notify,
                languages=list(row.languages) or None,
            )
        except DomainError as exc:
            _refused(report, row, exc)
            continue
        kept.add(target.id)
        if rel.following:
            report.imported.append(row.value)
            report.already += target.id in had
        else:
            report.requested.append(row.value)
    if report.mode == "overwrite":
        _overwrite(work, report, before, kept, lambda t: social.unfollow(work, account_id, t))


def _blocking(
    work: Work, account_id: int, parsed: Parsed, report: Report, found: _Accounts
) -> None:
    before = portability(work).targets("blocks", account_id)
    had = set(before)
    kept: set[int] = set()
    for row, target in _targets(work, account_id, parsed, report, found):
        try:
            social.block(work, account_id, target.id)
        except DomainError as exc:
            _refused(report, row, exc)
            continue
        kept.add(target.id)
        report.imported.append(row.value)
        report.already += target.id in had
    if report.mode == "overwrite":
        _overwrite(work, report, before, kept, lambda t: social.unblock(work, account_id, t))


def _muting(work: Work, account_id: int, parsed: Parsed, report: Report, found: _Accounts) -> None:
    before = portability(work).targets("mutes", account_id)
    had = set(before)
    kept: set[int] = set()
    for row, target in _targets(work, account_id, parsed, report, found):
        try:
            social.mute(work, account_id, target.id, notifications=row.hide_notifications)
        except DomainError as exc:
            _refused(report, row, exc)
            continue
        kept.add(target.id)
        report.imported.append(row.value)
        report.already += target.id in had
    if report.mode == "overwrite":
        _overwrite(work, report, before, kept, lambda t: social.unmute(work, account_id, t))


def _domain_blocking(
    work: Work, account_id: int, parsed: Parsed, report: Report, found: _Accounts
) -> None:
    had = work.store.social.blocked_domains(account_id)
    kept: set[str] = set()
    own = work.settings.domain.lower().partition(":")[0]
    for row in parsed.rows:
        if row.value == own:
            report.skipped.append(Skipped(row.line, row.value, "own_domain"))
            continue
        try:
            domain_blocks.block(work, account_id, row.value)
        except DomainError as exc:
            _refused(report, row, exc)
            continue
        kept.add(row.value)
        report.imported.append(row.value)
        report.already += row.value in had
    if report.mode == "overwrite":
        for domain in sorted(had - kept):
            domain_blocks.unblock(work, account_id, domain)
            report.removed.append(domain)


def _bookmarks(
    work: Work, account_id: int, parsed: Parsed, report: Report, found: _Accounts
) -> None:
    store = portability(work)
    before = store.bookmarked(account_id)
    had = set(before)
    known = store.status_ids_by_uri(row.value for row in parsed.rows)
    kept: set[int] = set()
    for row in parsed.rows:
        status_id = known.get(row.value)
        if status_id is None:
            report.skipped.append(Skipped(row.line, row.value, "unknown_post"))
            continue
        try:
            status = interactions.bookmark(work, account_id, status_id)
        except DomainError:
            report.skipped.append(Skipped(row.line, row.value, "unknown_post"))
            continue
        kept.add(status.id)
        report.imported.append(row.value)
        report.already += status.id in had
    if report.mode == "overwrite":
        gone = [s for s in before if s not in kept]
        uris = {s.id: s.uri for s in work.store.statuses.load(gone).values()}
        for status_id in gone:
            work.store.interactions.remove("bookmarks", account_id, status_id)
            report.removed.append(uris.get(status_id, str(status_id)))


def _lists(work: Work, account_id: int, parsed: Parsed, report: Report, found: _Accounts) -> None:
    owned: dict[str, UserList] = {}
    for existing in work.store.lists.of_account(account_id):
        owned.setdefault(existing.title, existing)
    named = list(dict.fromkeys(row.list_name for row in parsed.rows))
    members: dict[str, set[int]] = {name: set() for name in named}
    count = len(owned)
    for row, target in _targets(work, account_id, parsed, report, found):
        chosen = owned.get(row.list_name)
        if chosen is None:
            if count >= MAX_LISTS:
                report.skipped.append(Skipped(row.line, row.shown, "too_many_lists"))
                continue
            chosen = lists.create(work, account_id, row.list_name, "list", False)
            owned[row.list_name] = chosen
            count += 1
        try:
            rel = social.relationship(work, account_id, target.id)
            if not rel.following:
                rel = social.follow(work, account_id, target.id)
        except DomainError as exc:
            _refused(report, row, exc)
            continue
        if not rel.following:
            report.skipped.append(Skipped(row.line, row.shown, "not_followed"))
            continue
        present = set(work.store.lists.member_ids(chosen.id))
        work.store.lists.add_members(chosen.id, [target.id], work.now())
        members[row.list_name].add(target.id)
        report.imported.append(row.shown)
        report.already += target.id in present
    if report.mode == "overwrite":
        for existing in work.store.lists.of_account(account_id):
            if existing.title not in members:
                lists.delete(work, account_id, existing.id)
                report.removed.append(existing.title)
                continue
            wanted = members[existing.title] if owned[existing.title].id == existing.id else set()
            gone = [a for a in work.store.lists.member_ids(existing.id) if a not in wanted]
            work.store.lists.remove_members(existing.id, gone)
            names = work.store.accounts.get_many(gone)
            report.removed += [
                f"{existing.title}: {_acct(work, names[a])}" for a in gone if a in names
            ]
