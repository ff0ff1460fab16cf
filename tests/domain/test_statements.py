"""Statements of reasons: every restriction gives a complete, schema-valid statement for the
DSA Transparency Database, without personal data; the validator catches every broken rule."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parvis.domain.moderation import ACTIONS, DSA_CATEGORIES, EEA_STATES
from parvis.domain.statement_schema import (
    AUTOMATED_DECISIONS,
    CONTENT_TYPES,
    KEYWORD_OTHER,
    KEYWORDS,
    REQUIRED,
    SOURCE_TYPES,
)
from parvis.domain.statements import (
    EFFECTS,
    DecisionFields,
    appeal_open,
    explain,
    from_decision,
    is_restriction,
    scrub,
    validate,
)

RESTRICTIONS = sorted(k for k, a in ACTIONS.items() if a.restriction)
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def decision(**changes: Any) -> DecisionFields:
    values: dict[str, Any] = {
        "puid": "parvis-0b7c4e0e-6f1e-4d0a-9a43-2f8f1d6f3a10",
        "action": "remove",
        "ground": "law",
        "legal_ground": "Loi du 29 juillet 1881, art. 24 al. 7",
        "explanation": "Calls for hatred against a group because of its origin.",
        "dsa_category": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        "keywords": ("KEYWORD_HATE_SPEECH",),
        "content_date": NOW - timedelta(days=2),
        "starts_at": NOW,
        "source_type": "SOURCE_ARTICLE_16",
    }
    values.update(changes)
    return DecisionFields(**values)


# -- the property: every restriction is complete and valid --------------------------------------

texts = st.text(max_size=40) | st.text(min_size=1900, max_size=6000)
personal = st.sampled_from(
    ["jean.dupont@example.fr", "@alice", "@bob@social.example", "https://social.example/@carol"]
)


@st.composite
def restrictions(draw: st.DrawFn) -> DecisionFields:
    action = draw(st.sampled_from(RESTRICTIONS))
    category = draw(st.sampled_from(DSA_CATEGORIES))
    keywords = draw(
        st.lists(st.sampled_from((*KEYWORDS[category], KEYWORD_OTHER)), unique=True, max_size=3)
    )
    # A keyword of another category (a moderator who changed the category) is dropped.
    stray = draw(st.lists(st.sampled_from(KEYWORDS["STATEMENT_CATEGORY_VIOLENCE"]), max_size=1))
    starts = draw(st.datetimes(datetime(2018, 1, 1), datetime(2040, 1, 1), timezones=st.just(UTC)))
    duration = ACTIONS[action].duration
    ends = None
    if duration != "none" and (duration == "required" or draw(st.booleans())):
        ends = starts + draw(st.timedeltas(timedelta(hours=1), timedelta(days=3650)))
    return DecisionFields(
        puid=draw(st.from_regex(r"[a-zA-Z0-9_-]{1,64}", fullmatch=True)),
        action=action,
        ground=draw(st.sampled_from(("law", "rule"))),
        # What decide() guarantees: a law named for a law ground, an explanation, a rule id.
        legal_ground=draw(st.just("Code pénal, art. 421-2-5") | texts.filter(str.strip)),
        rule_id=draw(st.sampled_from(("1", "2", "12"))),
        rule_version=draw(st.none() | st.integers(1, 50)),
        rule_text=draw(texts),
        explanation=draw(texts) + " " + draw(personal),
        facts=draw(texts) + " " + draw(personal),
        dsa_category=category,
        keywords=tuple(keywords + stray),
        keyword_other=draw(texts),
        territorial_scope=tuple(
            draw(st.lists(st.sampled_from((*EEA_STATES, "CH", "US", "fr")), max_size=5))
        ),
        content_type=tuple(draw(st.lists(st.sampled_from(CONTENT_TYPES), max_size=3))),
        content_language=draw(st.sampled_from(("", "fr", "EN", "ar", "xx", "fra"))),
        content_date=draw(
            st.datetimes(datetime(1970, 1, 1), datetime(2040, 1, 1), timezones=st.just(UTC))
        ),
        starts_at=starts,
        ends_at=ends,
        subject_type="status" if ACTIONS[action].on_content else "account",
        label=draw(texts),
        source_type=draw(st.sampled_from(SOURCE_TYPES)),
        source_identity=draw(st.sampled_from(("", "Point de Contact", "ARCOM")) | texts),
        automated_detection=draw(st.booleans()),
        automated_decision=draw(st.sampled_from(AUTOMATED_DECISIONS)),
        reference_url=draw(st.sampled_from(("", "https://www.legifrance.gouv.fr/x", "nope"))),
    )


@settings(max_examples=150, deadline=None)
@given(restrictions())
def test_every_restriction_has_a_complete_valid_statement(d: DecisionFields) -> None:
    sor = from_decision(d)
    assert validate(sor) == []
    effect = EFFECTS[d.action]
    if effect.visibility:
        assert sor["decision_visibility"] == [effect.visibility]
    else:
        assert sor["decision_account"] == effect.account
    assert sor["puid"] == d.puid
    assert sor["category"] == d.dsa_category
    grounds = {
        "law": "DECISION_GROUND_ILLEGAL_CONTENT",
        "rule": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
    }
    assert sor["decision_ground"] == grounds[d.ground]
    # No personal data survives: none of the addresses, mentions or links written in.
    written = json.dumps(sor, ensure_ascii=False)
    for marker in ("jean.dupont@", "@alice", "@bob", "social.example"):
        assert marker not in written


@settings(max_examples=100, deadline=None)
@given(restrictions(), st.sampled_from(REQUIRED))
def test_removing_a_required_field_is_reported(d: DecisionFields, key: str) -> None:
    sor = from_decision(d)
    del sor[key]
    assert any(e.startswith(f"{key}:") for e in validate(sor))


BROKEN: dict[str, list[object]] = {
    "decision_ground": ["DECISION_GROUND_OTHER", 3, ""],
    "content_type": [["CONTENT_TYPE_TEXT", "CONTENT_TYPE_TEXT"], ["CONTENT_TYPE_HTML"], "x"],
    "category": ["STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT", ["x"]],
    "content_date": ["1999-12-31", "2038-01-02", "2026-02-30", "23/11/2026", 20261123],
    "application_date": ["2019-12-31", "2038-01-02", "2026-13-01", ""],
    "decision_facts": ["x" * 5001, "   ", None],
    "source_type": ["SOURCE_NOTICE", None],
    "automated_detection": ["yes", True, None],
    "automated_decision": ["Yes", "AUTOMATED_DECISION_SOMETIMES"],
    "puid": ["has space", "a/b", "é", "x" * 501, ""],
}


@settings(max_examples=100, deadline=None)
@given(restrictions(), st.sampled_from(sorted(BROKEN)), st.data())
def test_breaking_a_required_field_is_reported(d: DecisionFields, key: str, data: Any) -> None:
    sor = from_decision(d)
    sor[key] = data.draw(st.sampled_from(BROKEN[key]))
    assert any(e.startswith(f"{key}:") for e in validate(sor)), sor[key]


@pytest.mark.parametrize("action", ["none", "warn"])
def test_no_statement_for_what_restricts_nothing(action: str) -> None:
    assert not is_restriction(action)
    with pytest.raises(ValueError, match="not a restriction"):
        from_decision(decision(action=action))


# -- the mapping ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "field", "value"),
    [
        ("label", "decision_visibility", ["DECISION_VISIBILITY_CONTENT_LABELLED"]),
        ("demote", "decision_visibility", ["DECISION_VISIBILITY_CONTENT_DEMOTED"]),
        (
            "restrict_interactions",
            "decision_visibility",
            ["DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED"],
        ),
        ("age_restrict", "decision_visibility", ["DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED"]),
        ("territorial_restrict", "decision_visibility", ["DECISION_VISIBILITY_CONTENT_DISABLED"]),
        ("disable", "decision_visibility", ["DECISION_VISIBILITY_CONTENT_DISABLED"]),
        ("remove", "decision_visibility", ["DECISION_VISIBILITY_CONTENT_REMOVED"]),
        ("suspend", "decision_account", "DECISION_ACCOUNT_SUSPENDED"),
        ("terminate", "decision_account", "DECISION_ACCOUNT_TERMINATED"),
    ],
)
def test_actions_map_to_the_schema(action: str, field: str, value: object) -> None:
    subject = "status" if ACTIONS[action].on_content else "account"
    sor = from_decision(
        decision(action=action, subject_type=subject, territorial_scope=("FR",), label="CW")
    )
    assert sor[field] == value
    assert validate(sor) == []


def test_suspension_carries_its_end_date_and_termination_none() -> None:
    suspended = from_decision(
        decision(action="suspend", subject_type="account", ends_at=NOW + timedelta(days=30))
    )
    assert suspended["end_date_account_restriction"] == "2026-12-23"
    assert "end_date_visibility_restriction" not in suspended
    ended = from_decision(
        decision(action="terminate", subject_type="account", ends_at=NOW + timedelta(days=30))
    )
    assert "end_date_account_restriction" not in ended
    far = from_decision(
        decision(action="suspend", subject_type="account", ends_at=datetime(2040, 1, 1, tzinfo=UTC))
    )
    assert "end_date_account_restriction" not in far  # past the database's horizon: open-ended


def test_territorial_scope() -> None:
    local = from_decision(decision(action="territorial_restrict", territorial_scope=("fr", "DE")))
    assert local["territorial_scope"] == ["DE", "FR"]
    everywhere = from_decision(decision(action="remove"))
    assert everywhere["territorial_scope"] == sorted(EEA_STATES)


def test_grounds() -> None:
    law = from_decision(decision())
    assert law["illegal_content_legal_ground"] == "Loi du 29 juillet 1881, art. 24 al. 7"
    assert "incompatible_content_ground" not in law
    rule = from_decision(
        decision(ground="rule", legal_ground="", rule_id="2", rule_version=3, rule_text="No spam")
    )
    assert rule["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    assert rule["incompatible_content_ground"] == "Server rule 2, version 3: No spam"
    assert rule["incompatible_content_illegal"] == "No"
    assert "illegal_content_legal_ground" not in rule
    assert validate(rule) == []
    # A rule ground with no rule named is incomplete, and said so.
    assert any(
        e.startswith("incompatible_content_ground:")
        for e in validate(from_decision(decision(ground="rule", rule_id="")))
    )


def test_facts_say_where_the_decision_came_from_without_the_notifier() -> None:
    sor = from_decision(
        decision(
            source_type="SOURCE_VOLUNTARY",
            source_identity="Jean Dupont",
            facts="Seen by @modo, mail me at modo@example.org",
        )
    )
    facts = str(sor["decision_facts"])
    assert facts.startswith("The decision was taken on the provider's own initiative.")
    assert "[account]" in facts and "[e-mail address]" in facts and "modo" not in facts
    assert "source_identity" not in sor
    flagged = from_decision(
        decision(source_type="SOURCE_TRUSTED_FLAGGER", source_identity="Point de Contact")
    )
    assert flagged["source_identity"] == "Point de Contact"


def test_scrub() -> None:
    assert scrub("@bob@social.example said hi") == "[account] said hi"
    assert scrub("write to a.b+c@mail.example.co.uk!") == "write to [e-mail address]!"
    assert scrub("see https://social.example/@carol.") == "see [link]."
    assert scrub("Loi n° 2004-575, art. 6", links=False) == "Loi n° 2004-575, art. 6"
    assert scrub("see www.example.org/x, then") == "see [link], then"


# -- the validator, rule by rule -----------------------------------------------------------------


def valid() -> dict[str, object]:
    sor = from_decision(decision())
    assert validate(sor) == []
    return sor


def errors_with(**changes: object) -> list[str]:
    sor = valid()
    for key, value in changes.items():
        if value is None:
            sor.pop(key, None)
        else:
            sor[key] = value
    return validate(sor)


def test_one_kind_of_decision_is_required() -> None:
    assert any(e.startswith("decision_visibility:") for e in errors_with(decision_visibility=None))
    assert (
        errors_with(
            decision_visibility=None, decision_provision="DECISION_PROVISION_TOTAL_SUSPENSION"
        )
        == []
    )
    assert (
        errors_with(decision_visibility=None, decision_monetary="DECISION_MONETARY_SUSPENSION")
        == []
    )


def test_other_fields_go_with_other_values() -> None:
    other = ["DECISION_VISIBILITY_OTHER"]
    assert any("decision_visibility_other" in e for e in errors_with(decision_visibility=other))
    assert errors_with(decision_visibility=other, decision_visibility_other="Hidden") == []
    assert any("only allowed" in e for e in errors_with(decision_visibility_other="Hidden"))
    monetary = "DECISION_MONETARY_OTHER"
    assert any("decision_monetary_other" in e for e in errors_with(decision_monetary=monetary))
    assert any("content_type_other" in e for e in errors_with(content_type=["CONTENT_TYPE_OTHER"]))
    assert any(
        "category_specification_other" in e for e in errors_with(category_specification_other="x")
    )
    assert (
        errors_with(category_specification=[KEYWORD_OTHER], category_specification_other="Apologie")
        == []
    )


def test_ground_fields_follow_the_ground() -> None:
    assert any(
        e.startswith("illegal_content_explanation:")
        for e in errors_with(illegal_content_explanation=None)
    )
    assert any(
        e.startswith("illegal_content_explanation:")
        for e in errors_with(illegal_content_explanation="x" * 2001)
    )
    assert any(
        e.startswith("incompatible_content_ground:")
        for e in errors_with(incompatible_content_ground="Rule 1")
    )
    assert any(
        e.startswith("incompatible_content_illegal:")
        for e in errors_with(incompatible_content_illegal="Yes")
    )
    assert any(
        e.startswith("illegal_content_legal_ground:")
        for e in errors_with(illegal_content_legal_ground="x" * 501)
    )
    assert any(
        e.startswith("decision_ground_reference_url:")
        for e in errors_with(decision_ground_reference_url="javascript:alert(1)")
    )


def test_keywords_belong_to_their_category() -> None:
    assert any(
        "not a keyword of" in e for e in errors_with(category_specification=["KEYWORD_PHISHING"])
    )
    assert (
        errors_with(
            category_specification=["KEYWORD_PHISHING"],
            category_addition=["STATEMENT_CATEGORY_SCAMS_AND_FRAUD"],
        )
        == []
    )
    assert any(
        "not among the allowed" in e for e in errors_with(category_specification=["KEYWORD_NOPE"])
    )


def test_territories_languages_and_dates() -> None:
    assert any(e.startswith("territorial_scope:") for e in errors_with(territorial_scope=["EL"]))
    assert any(e.startswith("territorial_scope:") for e in errors_with(territorial_scope=["CH"]))
    assert errors_with(territorial_scope=["GR", "NO", "IS", "LI"]) == []
    assert any(e.startswith("content_language:") for e in errors_with(content_language="fr"))
    assert any(e.startswith("content_language:") for e in errors_with(content_language="FRA"))
    assert errors_with(content_language="AR") == []
    assert any(
        "before application_date" in e
        for e in errors_with(end_date_visibility_restriction="2026-11-22")
    )
    assert any(
        "only allowed with decision_account" in e
        for e in errors_with(end_date_account_restriction="2026-12-01")
    )
    assert errors_with(end_date_visibility_restriction="2026-11-23") == []


def test_identity_and_unknown_fields() -> None:
    assert any(
        e.startswith("source_identity:")
        for e in errors_with(source_type="SOURCE_VOLUNTARY", source_identity="Someone")
    )
    assert any(
        e.startswith("content_language_other:") for e in errors_with(content_language_other="x")
    )
    assert errors_with(content_id={"EAN-13": "1234567890123"}) == []
    assert any(e.startswith("content_id:") for e in errors_with(content_id={"EAN-13": "123"}))
    assert any(e.startswith("content_id:") for e in errors_with(content_id={"ISBN": "1"}))


# -- what the author is told ---------------------------------------------------------------------


def test_explain_for_the_author() -> None:
    d = decision(
        action="suspend",
        subject_type="account",
        ends_at=NOW + timedelta(days=7),
        created_at=NOW,
        notified_at=NOW,
        explanation="Threats sent to @victim",
    )
    s = explain(d, out_of_court_bodies=("User Rights — https://user-rights.org",))
    assert (s.measure, s.source, s.automation, s.filed) == (
        "account",
        "notice",
        "not_automated",
        True,
    )
    assert s.explanation == "Threats sent to [account]"
    assert s.redress == ("internal_complaint", "out_of_court", "judicial")
    assert s.out_of_court_bodies == ("User Rights — https://user-rights.org",)
    assert s.appeal_until is not None and s.appeal_until > NOW + timedelta(days=180)
    assert appeal_open(s, NOW + timedelta(days=30))
    assert not appeal_open(s, NOW + timedelta(days=200))
    reversed_ = explain(decision(reversed_at=NOW, created_at=NOW))
    assert reversed_.reversed and not appeal_open(reversed_, NOW)
    warned = explain(decision(action="warn", subject_type="account"))
    assert (warned.measure, warned.filed) == ("warning", False)
    rejected = explain(decision(action="none", ground=""))
    assert (rejected.measure, rejected.appeal_until) == ("none", None)
