"""The server's rules, versioned (DSA art. 14). A rule keeps its id ("1", "2", …) for life; a
change makes a new version and closes the previous one (`valid_to`), so a decision citing
(rule id, version) always points at the text that was in force. Retiring a rule closes it
without a successor. Users are told of every change by an announcement (the way Mastodon
clients show server news).

The table is seeded from `Settings.rules` (ids "1", "2", … in order) the first time a write
needs it or the server starts; until then reads serve the same rules straight from the
settings, as version 1 valid from `policies_updated`."""

from __future__ import annotations

from datetime import UTC, datetime, time

from parvis.domain.errors import Conflict, Invalid, NotFound
from parvis.services import announcements
from parvis.services.context import Work
from parvis.storage.registers import RuleRow

MAX_TEXT = 1000
MAX_HINT = 2000

Rule = RuleRow


def _key(rule: RuleRow) -> tuple[int, str, int]:
    return (int(rule.id) if rule.id.isdigit() else 1 << 30, rule.id, rule.version)


def _from_settings(work: Work) -> list[RuleRow]:
    since = datetime.combine(work.settings.policies_updated, time(0), tzinfo=UTC)
    return [
        RuleRow(id=str(i), version=1, text=text, hint="", valid_from=since)
        for i, text in enumerate(work.settings.rules, 1)
    ]


def seed(work: Work) -> int:
    """Fill the empty table from the settings; returns how many rules were written."""
    store = work.store.rules
    if store.any():
        return 0
    rows = _from_settings(work)
    for row in rows:
        store.insert(row)
    return len(rows)


def current(work: Work) -> list[Rule]:
    """The rules in force, by id."""
    if not work.store.rules.any():
        return _from_settings(work)
    return sorted(work.store.rules.current(), key=_key)


def at(work: Work, moment: datetime) -> list[Rule]:
    """The rules that were in force at `moment`."""
    if not work.store.rules.any():
        return [r for r in _from_settings(work) if r.valid_from <= moment]
    return sorted(work.store.rules.at(moment), key=_key)


def history(work: Work) -> list[Rule]:
    """Every version of every rule, by id then version."""
    if not work.store.rules.any():
        return _from_settings(work)
    return sorted(work.store.rules.all(), key=_key)


def get(work: Work, rule_id: str, version: int | None = None) -> Rule:
    """One version of a rule (default: its latest)."""
    if not work.store.rules.any():
        found = [r for r in _from_settings(work) if r.id == rule_id]
        if found and version in (None, 1):
            return found[0]
        raise NotFound(f"No rule {rule_id!r}" + (f" version {version}" if version else ""))
    row = (
        work.store.rules.latest(rule_id)
        if version is None
        else work.store.rules.get(rule_id, version)
    )
    if row is None:
        raise NotFound(f"No rule {rule_id!r}" + (f" version {version}" if version else ""))
    return row


def in_force(work: Work, rule_id: str) -> Rule:
    """The version of `rule_id` in force now, for a decision to cite; Invalid if the rule does
    not exist or was retired."""
    for rule in current(work):
        if rule.id == rule_id:
            return rule
    ids = ", ".join(r.id for r in current(work))
    raise Invalid(f"Validation failed: rule_id: {rule_id!r} is not a rule in force (rules: {ids})")


def _clean(text: str, hint: str) -> tuple[str, str]:
    text = " ".join(text.split())
    hint = hint.strip()
    if not text:
        raise Invalid("Validation failed: text: a rule cannot be blank")
    if len(text) > MAX_TEXT:
        raise Invalid(f"Validation failed: text: at most {MAX_TEXT} characters")
    if len(hint) > MAX_HINT:
        raise Invalid(f"Validation failed: hint: at most {MAX_HINT} characters")
    return text, hint


def _announce(work: Work, what: str) -> None:
    announcements.publish(
        work,
        f"The rules of this server changed: {what}. "
        f"Every rule and its earlier versions: {work.settings.base_url}/api/parvis/v1/rules",
    )


def add(work: Work, text: str, hint: str = "", *, announce: bool = True) -> Rule:
    """A new rule, with the next free id."""
    text, hint = _clean(text, hint)
    seed(work)
    numbers = [int(i) for i in work.store.rules.ids() if i.isdigit()]
    row = RuleRow(
        id=str(max(numbers, default=0) + 1), version=1, text=text, hint=hint, valid_from=work.now()
    )
    work.store.rules.insert(row)
    if announce:
        _announce(work, f"rule {row.id} was added ({text})")
    return row


def change(
    work: Work, rule_id: str, text: str, hint: str | None = None, *, announce: bool = True
) -> Rule:
    """A new version of a rule in force; the previous one ends now. `hint` None keeps it."""
    seed(work)
    old = in_force(work, rule_id)
    text, new_hint = _clean(text, old.hint if hint is None else hint)
    if (text, new_hint) == (old.text, old.hint):
        raise Conflict("Nothing changed: the rule already says this")
    now = work.now()
    work.store.rules.close(old.id, old.version, now)
    row = RuleRow(id=old.id, version=old.version + 1, text=text, hint=new_hint, valid_from=now)
    work.store.rules.insert(row)
    if announce:
        _announce(work, f"rule {row.id} now reads: {text}")
    return row


def retire(work: Work, rule_id: str, *, announce: bool = True) -> Rule:
    """End a rule without a successor (its id is never reused)."""
    seed(work)
    old = in_force(work, rule_id)
    work.store.rules.close(old.id, old.version, work.now())
    if announce:
        _announce(work, f"rule {old.id} was withdrawn ({old.text})")
    return get(work, old.id, old.version)
