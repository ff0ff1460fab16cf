"""The moderator roster: who moderates, in which languages, from which country, trained or not,
paid or volunteer. Kept for each moderator, published only in aggregate (`aggregate`): the
number of people, by language, by country, paid and volunteer, trained (DSA art. 42(2) asks
this of the largest platforms; the Paris court asked it of Twitter). Never a name.

Also who may moderate at all (`staff`): users whose role is moderator or admin."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from babel import Locale

from parvis.domain.errors import Forbidden, Invalid, NotFound
from parvis.domain.languages import LANGUAGES
from parvis.services.context import Work
from parvis.storage.registers import ModeratorRow

STAFF = ("moderator", "admin")
MAX_TRAINING = 2000
MAX_LANGUAGES = 20
# Codes CLDR lists as territories that are not countries.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"})

Moderator = ModeratorRow


@cache
def countries() -> frozenset[str]:
    """ISO 3166-1 alpha-2 country codes (from the CLDR data Babel ships)."""
    codes = (str(code) for code in Locale("en").territories)
    return frozenset(
        code for code in codes if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    )


def staff(work: Work, account_id: int, *, admin: bool = False) -> None:
    """Refuse anyone but moderators (and admins); with `admin`, anyone but admins."""
    user = work.store.accounts.user(account_id)
    needed = ("admin",) if admin else STAFF
    if user is None or user.role not in needed:
        raise Forbidden(
            "This action is for administrators" if admin else "This action is for moderators"
        )


@dataclass(frozen=True)
class Aggregate:
    """The published figures: counts only."""

    at: datetime
    total: int
    by_language: dict[str, int]
    by_country: dict[str, int]
    paid: int
    volunteer: int
    trained: int


def _languages(values: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for raw in values:
        code = raw.strip().lower()
        if not code:
            continue
        if code not in LANGUAGES:
            raise Invalid(f"Validation failed: languages: {code!r} is not an ISO 639-1 code")
        if code not in out:
            out.append(code)
    if not out:
        raise Invalid("Validation failed: languages: at least one language the moderator reads")
    if len(out) > MAX_LANGUAGES:
        raise Invalid(f"Validation failed: languages: at most {MAX_LANGUAGES}")
    return tuple(out)


def set_entry(
    work: Work,
    account_id: int,
    *,
    languages: Iterable[str],
    country: str,
    training: str = "",
    paid: bool = False,
) -> Moderator:
    """Put a moderator on the roster (or update their entry). They must hold the moderator
    or admin role."""
    user = work.store.accounts.user(account_id)
    if user is None:
        raise NotFound("No local user with this account")
    if user.role not in STAFF:
        raise Invalid(
            "Validation failed: account: give this user the moderator role first "
            "(`parvis user role NAME moderator`)"
        )
    langs = _languages(languages)
    code = country.strip().upper()
    if code not in countries():
        raise Invalid("Validation failed: country: an ISO 3166-1 alpha-2 code, like FR or DE")
    training = training.strip()
    if len(training) > MAX_TRAINING:
        raise Invalid(f"Validation failed: training: at most {MAX_TRAINING} characters")
    existing = work.store.roster.get(account_id)
    serving = existing is not None and existing.until is None
    row = ModeratorRow(
        account_id=account_id,
        languages=langs,
        country=code,
        training=training,
        paid=paid,
        since=existing.since if serving and existing is not None else work.now(),
    )
    work.store.roster.put(row)
    return row


def leave(work: Work, account_id: int) -> Moderator:
    """Take a moderator off the roster from now on (their entry stays for past periods)."""
    found = work.store.roster.get(account_id)
    if found is None or found.until is not None:
        raise NotFound("This account is not on the moderator roster")
    work.store.roster.end(account_id, work.now())
    left = work.store.roster.get(account_id)
    assert left is not None
    return left


def entries(work: Work) -> list[Moderator]:
    """Every entry, past ones included (for administrators, never published)."""
    return work.store.roster.all()


def languages_of(work: Work, account_id: int) -> tuple[str, ...]:
    """The languages a moderator reads (the queue matches them to the content's), or ()."""
    found = work.store.roster.get(account_id)
    return found.languages if found is not None and found.until is None else ()


def aggregate(work: Work, at: datetime | None = None) -> Aggregate:
    """The roster at `at` (default now), counted: no names, no accounts."""
    moment = at or work.now()
    serving = work.store.roster.serving(moment)
    languages: Counter[str] = Counter()
    countries_: Counter[str] = Counter()
    for m in serving:
        languages.update(m.languages)
        countries_[m.country] += 1
    paid = sum(1 for m in serving if m.paid)
    return Aggregate(
        at=moment,
        total=len(serving),
        by_language=dict(sorted(languages.items())),
        by_country=dict(sorted(countries_.items())),
        paid=paid,
        volunteer=len(serving) - paid,
        trained=sum(1 for m in serving if m.training),
    )
