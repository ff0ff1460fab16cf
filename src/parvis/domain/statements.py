"""Statements of reasons (DSA Art. 17) and their form in the DSA Transparency Database.

One decision renders both what the author is told (`explain`: structured fields that the web
page and the notification translate) and the statement of reasons sent to the Commission's
Transparency Database (`from_decision`: the schema v2 JSON), so the two cannot drift apart.
`validate` checks a statement against every field rule of the database's schema v2 (the rules of
its `StatementStoreRequest`, reimplemented from the published schema, plus a few stricter
consistency rules of our own, marked "Parvis:" below).

Only restrictions get a statement of reasons: "none" (a notice rejected) and "warn" (a warning
that restricts nothing) do not. No personal data may reach the database (Art. 24(5)): the
free texts come from moderators, and they are scrubbed defensively (`scrub`): @mentions,
e-mail addresses and links (which can point at an account or a post, and so at a person) are
replaced by "[account]", "[e-mail address]" and "[link]". The notifier is never named; the
source identity is only sent for trusted flaggers and other notifications, never for own
initiative decisions.

The schema's vocabularies (fields, enums, the category -> keyword hierarchy, limits and date
ranges) live in `statement_schema`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from parvis.domain.moderation import ACTIONS, APPEAL_WINDOW, DSA_CATEGORIES
from parvis.domain.statement_schema import (
    ACCOUNT,
    ACCOUNT_TYPES,
    APPLICATION_DATES,
    AUTOMATED_DECISIONS,
    CONTENT_DATES,
    CONTENT_TYPES,
    DAY,
    DECISION_GROUNDS,
    EAN_13,
    END_DATES,
    EXPLANATION,
    FACTS,
    FIELDS,
    ILLEGAL,
    INCOMPATIBLE,
    KEYWORD_OTHER,
    KEYWORDS,
    LANGUAGE_CODES,
    LAST_DATE,
    MONETARY,
    PROVISION,
    PUID,
    REQUIRED,
    SHORT,
    SOURCE_ARTICLE_16,
    SOURCE_OTHER,
    SOURCE_TRUSTED_FLAGGER,
    SOURCE_TYPES,
    SOURCE_VOLUNTARY,
    TERRITORIES,
    URL,
    VISIBILITY,
    YES_NO,
)

# -- validation ---------------------------------------------------------------------------------


def validate(sor: Mapping[str, object]) -> list[str]:
    """Every problem with a statement of reasons, one "field: message" each; [] when valid."""
    errors: list[str] = []
    v = _Checker(sor, errors)
    for key in sorted(set(sor) - FIELDS):
        errors.append(f"{key}: not a field of the statement of reasons")
    for key in REQUIRED:
        if _absent(sor.get(key)):
            errors.append(f"{key}: is required")

    # What was decided: at least one of the four kinds of restriction.
    kinds = ("decision_visibility", "decision_monetary", "decision_provision", "decision_account")
    if all(_absent(sor.get(k)) for k in kinds):
        errors.append(
            "decision_visibility: is required unless decision_monetary, decision_provision or "
            "decision_account is given"
        )
    visibility = v.enum_list("decision_visibility", VISIBILITY)
    v.other("decision_visibility_other", "DECISION_VISIBILITY_OTHER" in visibility)
    monetary = v.enum("decision_monetary", MONETARY)
    v.other("decision_monetary_other", monetary == "DECISION_MONETARY_OTHER")
    v.enum("decision_provision", PROVISION)
    v.enum("decision_account", ACCOUNT)
    v.enum("account_type", ACCOUNT_TYPES)

    # On which ground.
    ground = v.enum("decision_ground", DECISION_GROUNDS)
    v.url("decision_ground_reference_url")
    illegal, incompatible = ground == ILLEGAL, ground == INCOMPATIBLE
    v.conditional("illegal_content_legal_ground", illegal, SHORT, "decision_ground is illegal")
    v.conditional("illegal_content_explanation", illegal, EXPLANATION, "decision_ground is illegal")
    why = "decision_ground is incompatible"
    v.conditional("incompatible_content_ground", incompatible, SHORT, why)
    v.conditional("incompatible_content_explanation", incompatible, EXPLANATION, why)
    if v.enum("incompatible_content_illegal", YES_NO) and not incompatible:
        errors.append(f"incompatible_content_illegal: only allowed when {why}")

    # What the content was and what it is about.
    content_types = v.enum_list("content_type", CONTENT_TYPES)
    v.other("content_type_other", "CONTENT_TYPE_OTHER" in content_types)
    category = v.enum("category", DSA_CATEGORIES)
    additions = v.enum_list("category_addition", DSA_CATEGORIES)
    keywords = v.enum_list("category_specification", _ALL_KEYWORDS)
    allowed = {KEYWORD_OTHER}
    for c in (category, *additions):
        allowed.update(KEYWORDS.get(c, ()))
    for keyword in keywords:
        if category and keyword not in allowed:  # Parvis: the documented hierarchy
            errors.append(
                f"category_specification: {keyword} is not a keyword of {category}"
                + (" or of its additional categories" if additions else "")
            )
    if v.text("category_specification_other", SHORT) and KEYWORD_OTHER not in keywords:
        errors.append("category_specification_other: only allowed with KEYWORD_OTHER")
    v.enum_list("territorial_scope", tuple(sorted(TERRITORIES)))
    language = sor.get("content_language")
    if not _absent(language) and language not in LANGUAGE_CODES:
        errors.append("content_language: must be an upper-case ISO 639-1 code, such as FR or EN")

    # When.
    v.day("content_date", *CONTENT_DATES)
    applied = v.day("application_date", *APPLICATION_DATES)
    for key, kind in END_DATES.items():
        end = v.day(key, None, LAST_DATE)
        if end is None:
            continue
        if applied is not None and end < applied:
            errors.append(f"{key}: must not be before application_date")
        if _absent(sor.get(kind)):  # Parvis: an end date for a restriction that was not made
            errors.append(f"{key}: only allowed with {kind}")

    # Facts, source, automation, identifier.
    v.text("decision_facts", FACTS)
    source = v.enum("source_type", SOURCE_TYPES)
    if v.text("source_identity", SHORT) and source == SOURCE_VOLUNTARY:
        errors.append("source_identity: not allowed when source_type is SOURCE_VOLUNTARY")
    v.enum("automated_detection", YES_NO)
    v.enum("automated_decision", AUTOMATED_DECISIONS)
    puid = v.text("puid", SHORT)
    if puid and not PUID.fullmatch(puid):
        errors.append("puid: may only hold letters, digits, - and _")
    content_id = sor.get("content_id")
    if not _absent(content_id):
        if not isinstance(content_id, Mapping) or set(content_id) != {"EAN-13"}:
            errors.append('content_id: must be an object with the one key "EAN-13"')
        elif not isinstance(content_id["EAN-13"], str) or not EAN_13.fullmatch(
            content_id["EAN-13"]
        ):
            errors.append("content_id: EAN-13 must be 13 digits")
    return errors


_ALL_KEYWORDS = (KEYWORD_OTHER, *sorted({k for ks in KEYWORDS.values() for k in ks}))


def _absent(value: object) -> bool:
    return value is None or value == "" or value == []


class _Checker:
    """The field checks, each appending "field: message" and returning the value when usable."""

    def __init__(self, sor: Mapping[str, object], errors: list[str]) -> None:
        self.sor = sor
        self.errors = errors

    def text(self, key: str, limit: int) -> str:
        value = self.sor.get(key)
        if _absent(value):
            return ""
        if not isinstance(value, str):
            self.errors.append(f"{key}: must be a string")
            return ""
        if not value.strip():
            self.errors.append(f"{key}: must not be blank")
        if len(value) > limit:
            self.errors.append(f"{key}: must be at most {limit} characters (has {len(value)})")
        return value

    def enum(self, key: str, allowed: Sequence[str]) -> str:
        value = self.sor.get(key)
        if _absent(value):
            return ""
        if not isinstance(value, str) or value not in allowed:
            self.errors.append(f"{key}: {value!r} is not one of the allowed values")
            return ""
        return value

    def enum_list(self, key: str, allowed: Sequence[str]) -> list[str]:
        value = self.sor.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            self.errors.append(f"{key}: must be a list of strings")
            return []
        if key in REQUIRED and not value:
            return []  # reported as required
        wrong = [x for x in value if x not in allowed]
        if wrong:
            self.errors.append(f"{key}: {', '.join(wrong)} not among the allowed values")
        if len(set(value)) != len(value):
            self.errors.append(f"{key}: holds a value twice")
        return [x for x in value if x in allowed]

    def other(self, key: str, expected: bool) -> None:
        """A `*_other` free text: required with the OTHER value, forbidden without it."""
        value = self.text(key, SHORT)
        kind = key.removesuffix("_other")
        if expected and not value and not _absent(self.sor.get(kind)):
            self.errors.append(f"{key}: is required when {kind} is OTHER")
        if value and not expected:
            self.errors.append(f"{key}: only allowed when {kind} is OTHER")

    def conditional(self, key: str, expected: bool, limit: int, condition: str) -> None:
        value = self.text(key, limit)
        if expected and not value:
            self.errors.append(f"{key}: is required when {condition}")
        if value and not expected:
            self.errors.append(f"{key}: only allowed when {condition}")

    def url(self, key: str) -> None:
        value = self.text(key, SHORT)
        if value and not URL.fullmatch(value):
            self.errors.append(f"{key}: must be an http or https URL")

    def day(self, key: str, first: date | None, last: date) -> date | None:
        value = self.sor.get(key)
        if _absent(value):
            return None
        if not isinstance(value, str) or not DAY.fullmatch(value):
            self.errors.append(f"{key}: must be a date written YYYY-MM-DD")
            return None
        try:
            day = date.fromisoformat(value)
        except ValueError:
            self.errors.append(f"{key}: {value} is not a real date")
            return None
        if first is not None and day < first:
            self.errors.append(f"{key}: must not be before {first.isoformat()}")
        if day > last:
            self.errors.append(f"{key}: must not be after {last.isoformat()}")
        return day


# -- from a decision ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionFields:
    """What a statement of reasons needs from a decision (the `decisions` columns, plus the
    rule's text and the public link of the ground, which the service looks up)."""

    puid: str
    action: str  # parvis.domain.moderation ACTIONS
    ground: str  # law | rule
    dsa_category: str
    content_date: datetime
    starts_at: datetime
    source_type: str
    subject_type: str = "status"  # status | account
    legal_ground: str = ""
    rule_id: str = ""
    rule_version: int | None = None
    rule_text: str = ""
    explanation: str = ""
    facts: str = ""
    keywords: tuple[str, ...] = ()
    keyword_other: str = ""  # what KEYWORD_OTHER stands for, if used
    territorial_scope: tuple[str, ...] = ()
    content_type: tuple[str, ...] = ()
    content_language: str = ""
    label: str = ""
    ends_at: datetime | None = None
    source_identity: str = ""
    automated_detection: bool = False
    automated_decision: str = "AUTOMATED_DECISION_NOT_AUTOMATED"
    reference_url: str = ""  # link to the law or to the rule relied on
    created_at: datetime | None = None
    notified_at: datetime | None = None
    reversed_at: datetime | None = None


@dataclass(frozen=True)
class Effect:
    """How an action is written in the schema: a visibility decision, or an account one."""

    visibility: str = ""
    account: str = ""
    territorial: bool = False  # the decision's territorial scope is the measure itself


EFFECTS: dict[str, Effect] = {
    "label": Effect(visibility="DECISION_VISIBILITY_CONTENT_LABELLED"),
    # A label on the account, shown with each of its posts: the account's content is labelled.
    "label_account": Effect(visibility="DECISION_VISIBILITY_CONTENT_LABELLED"),
    "demote": Effect(visibility="DECISION_VISIBILITY_CONTENT_DEMOTED"),
    "restrict_interactions": Effect(
        visibility="DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED"
    ),
    "age_restrict": Effect(visibility="DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED"),
    "territorial_restrict": Effect(
        visibility="DECISION_VISIBILITY_CONTENT_DISABLED", territorial=True
    ),
    "disable": Effect(visibility="DECISION_VISIBILITY_CONTENT_DISABLED"),
    "remove": Effect(visibility="DECISION_VISIBILITY_CONTENT_REMOVED"),
    "suspend": Effect(account="DECISION_ACCOUNT_SUSPENDED"),
    "terminate": Effect(account="DECISION_ACCOUNT_TERMINATED"),
}
# Every restriction of the moderation vocabulary, and only those, has an effect.
assert set(EFFECTS) == {k for k, a in ACTIONS.items() if a.restriction}


def is_restriction(action: str) -> bool:
    """Whether a statement of reasons is due for this action (not for "none" or "warn")."""
    return action in EFFECTS


_STANDARD_SOURCE = {
    SOURCE_ARTICLE_16: "The decision follows a notice of allegedly illegal content submitted "
    "under Article 16 of the Digital Services Act.",
    SOURCE_TRUSTED_FLAGGER: "The decision follows a notice from a trusted flagger (Article 22 "
    "of the Digital Services Act).",
    SOURCE_OTHER: "The decision follows a notification other than an Article 16 notice (an "
    "order from an authority or a report from another server).",
    SOURCE_VOLUNTARY: "The decision was taken on the provider's own initiative.",
}
_ACCOUNT_LABEL_WORDS = {
    "automated": "Automated account",
    "coordinated": "Part of a coordinated group",
}
_STANDARD_MEASURE = {
    "label": "A label or content warning was added to the post.",
    "label_account": "A label was added to the account; it is shown with the account and its "
    "posts to the users who choose to see it.",
    "demote": "The post was removed from recommendations and trends.",
    "restrict_interactions": "Replies, boosts and quotes of the post were restricted.",
    "age_restrict": "The post was restricted to adults.",
    "territorial_restrict": "Access to the post was disabled in the listed territories.",
    "disable": "Access to the post was disabled.",
    "remove": "The post was removed.",
    "suspend": "The account was suspended for a limited time.",
    "terminate": "The account was terminated.",
}


def from_decision(d: DecisionFields) -> dict[str, object]:
    """The Transparency Database statement of reasons (schema v2) of a restriction.

    Raises ValueError for an action that restricts nothing ("none", "warn"). Free texts are
    scrubbed of personal data and cut to the schema's limits; dates are clamped into its range
    (an end date past 2038-01-01, the database's horizon, is left out: open-ended); keywords
    outside the decision's category are dropped."""
    effect = EFFECTS.get(d.action)
    if effect is None:
        raise ValueError(f"no statement of reasons for {d.action!r}: not a restriction")
    sor: dict[str, object] = {}
    end_key = ""
    if effect.visibility:
        sor["decision_visibility"] = [effect.visibility]
        end_key = "end_date_visibility_restriction"
    if effect.account:
        sor["decision_account"] = effect.account
        end_key = "end_date_account_restriction"

    if d.ground == "law":
        sor["decision_ground"] = ILLEGAL
        sor["illegal_content_legal_ground"] = _cut(scrub(d.legal_ground, links=False), SHORT)
        sor["illegal_content_explanation"] = _cut(scrub(d.explanation), EXPLANATION)
    elif d.ground == "rule":
        sor["decision_ground"] = INCOMPATIBLE
        sor["incompatible_content_ground"] = _cut(_rule_ground(d), SHORT)
        sor["incompatible_content_explanation"] = _cut(scrub(d.explanation), EXPLANATION)
        sor["incompatible_content_illegal"] = "Yes" if d.legal_ground.strip() else "No"
    if d.reference_url and URL.fullmatch(d.reference_url) and len(d.reference_url) <= SHORT:
        sor["decision_ground_reference_url"] = d.reference_url

    content_types = list(dict.fromkeys(t for t in d.content_type if t in CONTENT_TYPES))
    if not content_types:
        content_types = [
            "CONTENT_TYPE_TEXT" if d.subject_type == "status" else "CONTENT_TYPE_OTHER"
        ]
    sor["content_type"] = content_types
    if "CONTENT_TYPE_OTHER" in content_types:
        sor["content_type_other"] = "User account" if d.subject_type == "account" else "Post"

    sor["category"] = d.dsa_category
    # Only the category's own keywords: one left over from another category (a moderator who
    # changed the notice's category) would make the database refuse the whole statement.
    fitting = {KEYWORD_OTHER, *KEYWORDS.get(d.dsa_category, ())}
    keywords = list(dict.fromkeys(k for k in d.keywords if k in fitting))
    if keywords:
        sor["category_specification"] = keywords
    other = _cut(scrub(d.keyword_other), SHORT)
    if KEYWORD_OTHER in keywords and other.strip():
        sor["category_specification_other"] = other

    scope = sorted({s.upper() for s in d.territorial_scope} & TERRITORIES)
    # A territorial restriction applies where it says; anything else applies everywhere.
    sor["territorial_scope"] = scope if effect.territorial or scope else sorted(TERRITORIES)
    language = d.content_language.upper()
    if language in LANGUAGE_CODES:
        sor["content_language"] = language

    applied = _clamp(_day(d.starts_at), *APPLICATION_DATES)
    sor["content_date"] = _clamp(_day(d.content_date), *CONTENT_DATES).isoformat()
    sor["application_date"] = applied.isoformat()
    if d.ends_at is not None and ACTIONS[d.action].duration != "none":
        end = max(_day(d.ends_at), applied)
        if end <= LAST_DATE:
            sor[end_key] = end.isoformat()

    sor["decision_facts"] = _facts(d)
    sor["source_type"] = d.source_type
    identity = _cut(scrub(d.source_identity, links=False), SHORT)
    if d.source_type != SOURCE_VOLUNTARY and identity.strip():
        sor["source_identity"] = identity
    sor["automated_detection"] = "Yes" if d.automated_detection else "No"
    sor["automated_decision"] = d.automated_decision
    sor["puid"] = d.puid
    return sor


def _rule_ground(d: DecisionFields) -> str:
    if not d.rule_id.strip():
        return ""
    ground = f"Server rule {d.rule_id}"
    if d.rule_version is not None:
        ground += f", version {d.rule_version}"
    text = scrub(d.rule_text).strip()
    return f"{ground}: {text}" if text else ground


def _facts(d: DecisionFields) -> str:
    parts = [
        _STANDARD_SOURCE.get(d.source_type, ""),
        _STANDARD_MEASURE[d.action],
    ]
    label = scrub(d.label).strip()
    if d.action == "label" and label:
        parts.append(f'Label shown: "{label}".')
    if d.action == "label_account" and label:
        parts.append(f'Label shown: "{_ACCOUNT_LABEL_WORDS.get(label, label)}".')
    facts = scrub(d.facts).strip()
    if facts:
        parts.append(facts)
    return _cut(" ".join(p for p in parts if p), FACTS)


def _day(moment: datetime) -> date:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()


def _clamp(day: date, first: date, last: date) -> date:
    return min(max(day, first), last)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# -- personal data ------------------------------------------------------------------------------

_LINK = re.compile(
    r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)[^\s<>\"]*[^\s<>\".,;:!?'\")\]]", re.IGNORECASE
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MENTION = re.compile(r"(?<![\w@])@[\w.-]*\w(?:@[\w-]+(?:\.[\w-]+)*)?")


def scrub(text: str, *, links: bool = True) -> str:
    """`text` without @mentions, e-mail addresses and (unless `links` is False: legal grounds
    may cite a law's public page) links, which can all point at a person."""
    if links:
        text = _LINK.sub("[link]", text)
    text = _MENTION.sub("[account]", text)  # before e-mails: @user@host is a mention
    return _EMAIL.sub("[e-mail address]", text)


# -- what the author is told --------------------------------------------------------------------

REDRESS = ("internal_complaint", "out_of_court", "judicial")
_SOURCES = {
    SOURCE_ARTICLE_16: "notice",
    SOURCE_TRUSTED_FLAGGER: "trusted_flagger",
    SOURCE_OTHER: "other_notification",
    SOURCE_VOLUNTARY: "own_initiative",
}
_AUTOMATION = {
    "AUTOMATED_DECISION_FULLY": "fully",
    "AUTOMATED_DECISION_PARTIALLY": "partially",
    "AUTOMATED_DECISION_NOT_AUTOMATED": "not_automated",
}


@dataclass(frozen=True)
class Statement:
    """The statement of reasons as the author reads it: language-neutral keys and the
    moderator's (scrubbed) texts; the web page and the notification translate the keys."""

    puid: str
    action: str  # ACTIONS key
    measure: str  # "visibility" | "account" | "warning" | "none"
    subject_type: str
    ground: str  # law | rule | ""
    legal_ground: str
    rule_id: str
    rule_version: int | None
    rule_text: str
    explanation: str
    facts: str
    label: str
    category: str
    keywords: tuple[str, ...]
    source: str  # notice | trusted_flagger | other_notification | own_initiative
    automated_detection: bool
    automation: str  # fully | partially | not_automated
    territorial_scope: tuple[str, ...]  # () = everywhere
    starts_at: datetime
    ends_at: datetime | None
    reversed: bool
    appeal_until: datetime | None  # None: the decision restricts nothing to appeal against
    redress: tuple[str, ...]
    out_of_court_bodies: tuple[str, ...]
    filed: bool  # a restriction: this statement is also sent to the Transparency Database


def explain(d: DecisionFields, *, out_of_court_bodies: Sequence[str] = ()) -> Statement:
    """What the author is told about a decision (any action: a warning is explained too)."""
    effect = EFFECTS.get(d.action)
    if effect is None:
        measure = "warning" if d.action == "warn" else "none"
    else:
        measure = "visibility" if effect.visibility else "account"
    informed = d.notified_at or d.created_at or d.starts_at
    appeal_until = informed + APPEAL_WINDOW if d.action != "none" else None
    scope = tuple(sorted({s.upper() for s in d.territorial_scope}))
    return Statement(
        puid=d.puid,
        action=d.action,
        measure=measure,
        subject_type=d.subject_type,
        ground=d.ground,
        legal_ground=scrub(d.legal_ground, links=False),
        rule_id=d.rule_id,
        rule_version=d.rule_version,
        rule_text=d.rule_text,
        explanation=scrub(d.explanation),
        facts=scrub(d.facts),
        label=scrub(d.label),
        category=d.dsa_category,
        keywords=tuple(k for k in d.keywords if k),
        source=_SOURCES.get(d.source_type, "own_initiative"),
        automated_detection=d.automated_detection,
        automation=_AUTOMATION.get(d.automated_decision, "not_automated"),
        territorial_scope=scope if effect is not None and effect.territorial else (),
        starts_at=d.starts_at,
        ends_at=d.ends_at if d.action in EFFECTS or d.action == "warn" else None,
        reversed=d.reversed_at is not None,
        appeal_until=appeal_until,
        redress=REDRESS if appeal_until is not None else ("judicial",),
        out_of_court_bodies=tuple(out_of_court_bodies),
        filed=effect is not None,
    )


def appeal_open(s: Statement, now: datetime) -> bool:
    """Whether the internal complaint (Art. 20) can still be filed."""
    return s.appeal_until is not None and not s.reversed and now <= s.appeal_until
