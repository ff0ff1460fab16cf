"""The vocabulary of accountable moderation (EU Digital Services Act, French law): what a notice
can allege, what a moderator can do about it, on which ground, and how urgent it is.

Everything here is pure data and pure functions, shared by the report form, the moderator
queue, the statements of reasons and the transparency report, so that they can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# The 16 categories of the DSA Transparency Database (schema v2) and of the harmonised
# transparency report templates (Implementing Regulation (EU) 2024/2835).
DSA_CATEGORIES = (
    "STATEMENT_CATEGORY_ANIMAL_WELFARE",
    "STATEMENT_CATEGORY_CONSUMER_INFORMATION",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
    "STATEMENT_CATEGORY_SELF_HARM",
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
    "STATEMENT_CATEGORY_VIOLENCE",
)


@dataclass(frozen=True)
class Offence:
    """One plain-language choice of the report form, mapped to the DSA category and keyword it
    is counted under, with the French legal ground it usually rests on (a suggestion the
    moderator confirms or corrects)."""

    key: str
    category: str
    keyword: str
    legal_ground: str = ""
    severity: int = 2  # 1 (least) … 5 (most): orders the queue after urgency
    life_or_safety: bool = False  # threats to life or safety are handled first (Art. 18)
    anonymous_only: bool = False  # child sexual abuse: the notifier is never asked who they are


_LOI_1881 = "Loi du 29 juillet 1881 sur la liberté de la presse"
OFFENCES: dict[str, Offence] = {
    o.key: o
    for o in (
        Offence(
            "threat_to_life",
            "STATEMENT_CATEGORY_VIOLENCE",
            "KEYWORD_COORDINATED_HARM",
            "Code pénal, art. 222-17 et 222-18 (menaces)",
            severity=5,
            life_or_safety=True,
        ),
        Offence(
            "self_harm",
            "STATEMENT_CATEGORY_SELF_HARM",
            "KEYWORD_SUICIDE",
            severity=5,
            life_or_safety=True,
        ),
        Offence(
            "child_abuse",
            "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
            "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
            "Code pénal, art. 227-23",
            severity=5,
            anonymous_only=True,
        ),
        Offence(
            "terrorism",
            "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
            "KEYWORD_TERRORIST_CONTENT",
            "Code pénal, art. 421-2-5",
            severity=5,
        ),
        Offence(
            "crimes_against_humanity",
            "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
            "KEYWORD_HATE_SPEECH",
            f"{_LOI_1881}, art. 24 al. 5 et art. 24 bis",
            severity=4,
        ),
        Offence(
            "racial_hatred",
            "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
            "KEYWORD_HATE_SPEECH",
            f"{_LOI_1881}, art. 24 al. 7",
            severity=4,
        ),
        Offence(
            "hatred_identity",
            "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
            "KEYWORD_HATE_SPEECH",
            f"{_LOI_1881}, art. 24 al. 8",
            severity=4,
        ),
        Offence(
            "incitement_to_violence",
            "STATEMENT_CATEGORY_VIOLENCE",
            "KEYWORD_INCITEMENT_VIOLENCE_HATRED",
            f"{_LOI_1881}, art. 24",
            severity=4,
        ),
        Offence(
            "harassment",
            "STATEMENT_CATEGORY_CYBER_VIOLENCE",
            "KEYWORD_CYBER_HARASSMENT",
            "Code pénal, art. 222-33-2-2",
            severity=3,
        ),
        Offence(
            "non_consensual_images",
            "STATEMENT_CATEGORY_CYBER_VIOLENCE",
            "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",
            "Code pénal, art. 226-2-1",
            severity=4,
        ),
        Offence(
            "human_dignity",
            "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
            "KEYWORD_OTHER",
            severity=3,
        ),
        Offence(
            "defamation",
            "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
            "KEYWORD_DEFAMATION",
            f"{_LOI_1881}, art. 29 al. 1 et 32",
            severity=2,
        ),
        Offence(
            "privacy",
            "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
            "KEYWORD_OTHER",
            "Code civil, art. 9",
            severity=3,
        ),
        Offence(
            "scam",
            "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
            "KEYWORD_PHISHING",
            "Code pénal, art. 313-1",
            severity=3,
        ),
        Offence(
            "impersonation",
            "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
            "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING",
            "Code pénal, art. 226-4-1",
            severity=2,
        ),
        Offence(
            "copyright",
            "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
            "KEYWORD_COPYRIGHT_INFRINGEMENT",
            "Code de la propriété intellectuelle, art. L335-2",
            severity=1,
        ),
        Offence(
            "spam",
            "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
            "KEYWORD_OTHER",
            severity=1,
        ),
        Offence(
            "rules",
            "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
            "KEYWORD_OTHER",
            severity=1,
        ),
        Offence(
            "other",
            "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
            "",
            severity=1,
        ),
    )
}

# Mastodon's report categories (POST /api/v1/reports) and the offence each one files under.
MASTODON_CATEGORIES = {"spam": "spam", "legal": "other", "violation": "rules", "other": "other"}

# How a notice arrived: the web app's form and the API with the good-faith statement are DSA
# art. 16 notices; "app" is a report from a Mastodon client (no statement: counted as another
# kind of notification); "federation" is a Flag from another server.
CHANNELS = ("web", "api", "app", "federation", "trusted_flagger")


@dataclass(frozen=True)
class Action:
    """A measure a moderator can take, from least to most restrictive (`rank`)."""

    key: str
    rank: int
    on_content: bool  # acts on a post (else on the account)
    restriction: bool  # restricts visibility or the service: a statement of reasons is due
    duration: str  # "none" (no end), "optional" or "required"


ACTIONS: dict[str, Action] = {
    a.key: a
    for a in (
        Action("none", 0, on_content=False, restriction=False, duration="none"),
        Action("label", 1, on_content=True, restriction=True, duration="optional"),
        # A label on the account ("automated", "coordinated": ACCOUNT_LABELS), shown with its
        # posts to the users who choose to see it (parvis.domain.labels.vocabulary).
        Action("label_account", 1, on_content=False, restriction=True, duration="optional"),
        Action("demote", 2, on_content=True, restriction=True, duration="optional"),
        Action("restrict_interactions", 3, on_content=True, restriction=True, duration="optional"),
        Action("age_restrict", 4, on_content=True, restriction=True, duration="optional"),
        Action("territorial_restrict", 5, on_content=True, restriction=True, duration="optional"),
        Action("disable", 6, on_content=True, restriction=True, duration="optional"),
        Action("remove", 7, on_content=True, restriction=True, duration="none"),
        Action("warn", 8, on_content=False, restriction=False, duration="none"),
        Action("suspend", 9, on_content=False, restriction=True, duration="required"),
        Action("terminate", 10, on_content=False, restriction=True, duration="none"),
    )
}

# The labels `label_account` puts on an account (the verdict's `label`).
ACCOUNT_LABELS = ("automated", "coordinated")

# Content restrictions that hide the post from everyone but its author.
HIDING = frozenset({"disable", "remove"})

GROUNDS = ("law", "rule")

# Why an account is warned or suspended under DSA Art. 23.
MISUSE = ("manifestly_illegal_content", "unfounded_notices", "unfounded_complaints")

# EU and EEA member states (ISO 3166 alpha-2 as the Transparency Database spells them).
# fmt: off
EU_STATES = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
)
# fmt: on
EEA_STATES = (*EU_STATES, "IS", "LI", "NO")

APPEAL_WINDOW = timedelta(days=183)  # "at least six months" (DSA Art. 20(1))
LEGAL_LINE = timedelta(hours=48)  # the line a court bailiff checked: shown on every clock


def offence(key: str) -> Offence:
    return OFFENCES.get(key) or OFFENCES["other"]


def priority(offence_key: str, trusted: bool) -> int:
    """The queue lane, lowest first: 0 threats to life or safety, 1 trusted flaggers, then
    2 + (5 - severity) so that graver allegations come before lighter ones."""
    found = offence(offence_key)
    if found.life_or_safety:
        return 0
    if trusted:
        return 1
    return 2 + (5 - found.severity)


def due(received_at: datetime, offence_key: str, target: timedelta) -> datetime:
    """When the notice should be decided: the configured target (default 24 h), one hour for
    threats to life or safety."""
    if offence(offence_key).life_or_safety:
        return received_at + min(target, timedelta(hours=1))
    return received_at + target
