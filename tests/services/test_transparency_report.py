"""The transparency report on small, hand-checked cases: periods, boundaries, each section,
the percentile rule and the CSV shape. (tests/services/test_transparency_month.py checks every
figure of a simulated month against a brute-force recount.)"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parvis.app import Parvis
from parvis.domain import moderation as vocab
from parvis.domain.errors import Invalid
from parvis.services import accounts, appeals, authority, moderation, notices, posting, roster
from parvis.services import transparency_report as tr
from parvis.services.context import Work
from parvis.services.notices import Item, NewNotice
from parvis.services.posting import NewStatus

T = TypeVar("T")
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class World:
    """A server whose clock the test moves, and the people in it."""

    def __init__(self, parvis: Parvis) -> None:
        self.parvis = parvis
        self.now = START
        parvis.runtime.clock = lambda: self.now
        self.author = self.user("author")
        self.reporter = self.user("reporter")
        self.mod1 = self.user("mod1", role="moderator")
        self.mod2 = self.user("mod2", role="moderator")

    def write(self, fn: Callable[[Work], T]) -> T:
        return self.parvis.runtime.write(fn)

    def user(self, name: str, role: str = "user") -> int:
        reg = accounts.Registration(name, f"{name}@example.org", "a long password", True)
        return self.write(lambda w: accounts.register(w, reg, role=role).account_id)

    def post(self, text: str = "some words") -> int:
        return self.write(lambda w: posting.create_status(w, self.author, NewStatus(text)).id)

    def notice(self, status_id: int, offence: str = "harassment") -> int:
        new = NewNotice(offence, "why it is wrong", (Item(status_id=status_id),), good_faith=True)
        return self.write(lambda w: notices.submit(w, self.reporter, new).notice.id)

    def case_of(self, status_id: int) -> int:
        def run(w: Work) -> int:
            case = w.store.cases.for_subject("status", status_id)
            assert case is not None
            return case.id

        return self.write(run)

    def decide(self, status_id: int, verdict: moderation.Verdict, moderator: int = 0) -> int:
        case_id = self.case_of(status_id)
        who = moderator or self.mod1
        return self.write(lambda w: moderation.decide(w, who, case_id, verdict).id)

    def report(self, start: date, end: date) -> tr.Report:
        return self.parvis.runtime.read(lambda w: tr.report(w, start, end))


REMOVE_RULE = moderation.Verdict("remove", "It harasses someone.", ground="rule", rule_id="2")
REMOVE_LAW = moderation.Verdict(
    "remove", "Racist insult.", ground="law", legal_ground="Loi du 29 juillet 1881, art. 33"
)
REJECT = moderation.Verdict("none", "Nothing wrong with it.")


@pytest.fixture
def world(parvis: Parvis) -> World:
    return World(parvis)


def test_an_empty_period_lists_every_category_with_zeros(world: World) -> None:
    found = world.report(date(2026, 1, 1), date(2026, 2, 1))
    assert found.notices.received == 0
    assert set(found.notices.by_category) == set(vocab.DSA_CATEGORIES)
    assert set(found.notices.by_offence) == set(vocab.OFFENCES)
    assert all(v == 0 for v in found.notices.by_category.values())
    assert found.notices.time_to_decision == tr.Durations(0, None, None)
    assert found.notices.share_within_24h is None
    assert found.suspensions.by_misuse == dict.fromkeys(vocab.MISUSE, 0)
    assert found.complaints.filed == 0 and found.orders.passed_to_authorities == 0


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (date(2026, 3, 2), date(2026, 3, 1), "after from"),
        (date(2026, 3, 1), date(2026, 3, 1), "after from"),
        (date(2026, 1, 1), date(2029, 1, 2), "at most 3 years"),
        (date(2024, 2, 29), date(2027, 3, 2), "at most 3 years"),
    ],
)
def test_bad_periods_are_refused(world: World, start: date, end: date, message: str) -> None:
    with pytest.raises(Invalid, match=message):
        world.report(start, end)


def test_three_years_exactly_is_allowed(world: World) -> None:
    assert world.report(date(2024, 2, 29), date(2027, 3, 1)).notices.received == 0
    assert world.report(date(2023, 1, 1), date(2026, 1, 1)).notices.received == 0


def test_the_period_includes_its_first_day_and_excludes_its_end(world: World) -> None:
    status = world.post()
    world.now = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)  # the first instant of 1 March
    world.notice(status)
    world.now = datetime(2026, 3, 31, 23, 59, 59, 999999, tzinfo=UTC)
    world.notice(status)
    world.now = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)  # already April
    world.notice(status)
    assert world.report(date(2026, 3, 1), date(2026, 4, 1)).notices.received == 2
    assert world.report(date(2026, 4, 1), date(2026, 4, 2)).notices.received == 1
    assert world.report(date(2026, 2, 1), date(2026, 3, 1)).notices.received == 0


def test_notices_actions_and_clocks(world: World) -> None:
    fast, slow, rejected, late = world.post(), world.post(), world.post(), world.post()
    world.notice(fast, "harassment")
    world.notice(slow, "racial_hatred")
    world.notice(slow, "racial_hatred")  # a duplicate: the same case, decided together
    world.notice(rejected, "spam")
    world.notice(late, "copyright")
    world.now += timedelta(hours=2)
    world.decide(fast, REMOVE_RULE)
    world.now += timedelta(hours=28)  # 30 h after receipt
    world.decide(slow, REMOVE_LAW)
    world.decide(rejected, REJECT)
    found = world.report(date(2026, 3, 1), date(2026, 4, 1))
    n = found.notices
    assert n.received == 5 and n.decided == 4 and n.pending == 1
    assert n.by_offence["racial_hatred"] == 2 and n.by_offence["copyright"] == 1
    assert n.by_category["STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"] == 2
    assert n.by_category["STATEMENT_CATEGORY_CYBER_VIOLENCE"] == 1
    assert (n.actioned, n.no_action) == (3, 1)
    assert (n.within_24h, n.within_48h) == (1, 4)
    assert n.share_within_24h == 1 / 5 and n.share_within_48h == 4 / 5
    hour = 3600.0
    # 2 h, 30 h, 30 h, 30 h: the median of an even count is the mean of the middle two
    assert n.time_to_decision == tr.Durations(4, 30 * hour, 30 * hour)
    assert n.time_to_action == tr.Durations(3, 30 * hour, 30 * hour)
    a = found.actions
    assert a.total == 2 and a.notices_rejected == 1
    assert a.by_ground == {"law": 1, "rule": 1}
    assert a.by_rule == {"2": 1}
    assert a.by_legal_ground == {"Loi du 29 juillet 1881, art. 33": 1}
    assert a.by_action["remove"] == 2 and a.by_action["suspend"] == 0
    assert a.on_notices == 2 and a.on_notices_by_source == {"SOURCE_ARTICLE_16": 2}
    assert found.own_initiative.total == 0


def test_own_initiative_suspensions_and_complaints(world: World) -> None:
    status = world.post()
    label = moderation.Verdict("label", "Misleading.", ground="rule", rule_id="1", label="Disputed")
    suspend = moderation.Verdict(
        "suspend",
        "Posts illegal content again and again.",
        ground="law",
        legal_ground="Code pénal",
        duration=timedelta(days=30),
        misuse="manifestly_illegal_content",
    )
    world.write(lambda w: moderation.own_initiative(w, world.mod1, "status", status, label))
    world.write(
        lambda w: moderation.own_initiative(w, world.mod1, "account", world.author, suspend)
    )
    found = world.report(date(2026, 3, 1), date(2026, 4, 1))
    own = found.own_initiative
    assert own.total == 2
    assert own.by_action == {"suspend": 1, "label": 1}
    assert own.by_detection == {"human": 2, "automated": 0}
    assert found.suspensions.by_misuse["manifestly_illegal_content"] == 1
    assert found.suspensions.by_misuse["unfounded_notices"] == 0


def test_complaints_upheld_and_reversed(world: World) -> None:
    one, two = world.post(), world.post()
    world.notice(one)
    world.notice(two)
    first = world.decide(one, REMOVE_RULE)
    second = world.decide(two, REMOVE_LAW)
    world.now += timedelta(hours=1)
    a1 = world.write(lambda w: appeals.file(w, world.author, first, "It was a joke.").id)
    a2 = world.write(lambda w: appeals.file(w, world.author, second, "It is lawful.").id)
    world.now += timedelta(hours=5)
    world.write(lambda w: appeals.decide(w, world.mod2, a1, "reversed", "Fair enough."))
    world.now += timedelta(hours=5)
    world.write(lambda w: appeals.decide(w, world.mod2, a2, "upheld", "It is not."))
    c = world.report(date(2026, 3, 1), date(2026, 4, 1)).complaints
    assert (c.filed, c.upheld, c.reversed, c.pending) == (2, 1, 1, 0)
    assert c.by_appellant == {"author": 2, "notifier": 0}
    assert c.by_ground == {"law": 1, "rule": 1, "none": 0}
    assert c.decision_time == tr.Durations(2, 7.5 * 3600, 10 * 3600)
    assert world.report(date(2026, 3, 1), date(2026, 4, 1)).actions.reversed == 1


def test_orders_and_information_passed(world: World) -> None:
    def order(kind: str, state: str, category: str) -> int:
        new = authority.NewOrder(
            kind=kind,
            authority="Parquet de Paris",
            member_state=state,
            legal_basis="Art. 10 DSA",
            dsa_category=category,
            reference="REF-1",
            items=("https://parvis.test/@author",),
        )
        return world.write(lambda w: authority.record(w, world.mod1, new).id)

    hate = "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"
    info = order("info", "FR", hate)
    act = order("act", "DE", "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY")
    order("act", "DE", "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY")
    world.write(
        lambda w: authority.escalate(
            w, world.mod1, authority="Police", member_state="FR", transmitted="The post."
        )
    )
    world.now += timedelta(hours=1)
    world.write(lambda w: authority.acknowledge(w, act))
    world.now += timedelta(hours=3)
    world.write(lambda w: authority.carry_out(w, act, effect="Removed."))
    world.write(lambda w: authority.carry_out(w, info, provided="Sign-up date."))
    o = world.report(date(2026, 3, 1), date(2026, 4, 1)).orders
    assert (o.to_act, o.to_provide_information, o.escalations) == (2, 1, 1)
    assert o.information_provided == 1 and o.passed_to_authorities == 2
    (group,) = o.to_act_groups
    assert (group.member_state, group.count) == ("DE", 2)
    assert group.to_acknowledge == tr.Durations(1, 3600.0, 3600.0)
    assert group.to_carry_out == tr.Durations(1, 4 * 3600.0, 4 * 3600.0)
    (info_group,) = o.information_groups
    assert info_group.dsa_category == hate
    assert info_group.to_acknowledge == tr.Durations(1, 4 * 3600.0, 4 * 3600.0)


def test_moderators_in_aggregate(world: World) -> None:
    world.write(
        lambda w: roster.set_entry(
            w, world.mod1, languages=("fr", "en"), country="FR", training="DSA course", paid=True
        )
    )
    world.write(lambda w: roster.set_entry(w, world.mod2, languages=("de",), country="BE"))
    m = world.report(date(2026, 3, 1), date(2026, 4, 1)).moderators
    assert (m.total, m.paid, m.volunteer, m.trained) == (2, 1, 1, 1)
    assert m.by_language == {"de": 1, "en": 1, "fr": 1}
    assert m.by_country == {"BE": 1, "FR": 1}
    assert world.report(date(2026, 1, 1), date(2026, 2, 1)).moderators.total == 0


def test_people_who_decide_off_the_roster_are_counted(world: World) -> None:
    world.write(lambda w: roster.set_entry(w, world.mod1, languages=("fr",), country="FR"))
    first, second = world.post(), world.post()
    world.notice(first)
    world.notice(second)
    world.decide(first, REMOVE_RULE, moderator=world.mod2)  # mod2 is not on the roster
    world.decide(second, REJECT, moderator=world.mod1)
    m = world.report(date(2026, 3, 1), date(2026, 4, 1)).moderators
    assert (m.total, m.not_on_roster, m.volunteer) == (2, 1, 1)
    assert m.by_country == {"FR": 1}


def test_csv_has_one_row_per_figure_and_defuses_formulas(world: World) -> None:
    status = world.post()
    world.notice(status)
    world.decide(
        status,
        moderation.Verdict("remove", "x", ground="law", legal_ground="=HYPERLINK(1)"),
    )
    found = world.report(date(2026, 3, 1), date(2026, 4, 1))
    rows = list(csv.reader(io.StringIO(tr.to_csv(found))))
    assert rows[0] == ["section", "metric", "dimension", "dimension2", "value"]
    assert len(rows) - 1 == len(list(tr.figures(found)))
    assert ["notices", "received", "", "", "1"] in rows
    assert ["actions", "by_legal_ground", "'=HYPERLINK(1)", "", "1"] in rows
    assert ["notices", "time_to_decision.median_s", "", "", "0.0"] in rows
    json_form = tr.to_json(found)
    assert json_form["period"] == {"start": "2026-03-01", "end": "2026-04-01"}
    assert json_form["actions"]["by_legal_ground"] == {"=HYPERLINK(1)": 1}


def _nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


@given(st.lists(st.floats(min_value=0, max_value=1e7, allow_nan=False), min_size=1))
def test_the_95th_percentile_is_the_nearest_rank(values: list[float]) -> None:
    found = tr.durations(values)
    assert found.count == len(values)
    assert found.p95_s == _nearest_rank(values, 0.95)
    assert found.p95_s in values
    assert sum(v <= found.p95_s for v in values) >= 0.95 * len(values)
    assert found.median_s is not None and min(values) <= found.median_s <= max(values)
