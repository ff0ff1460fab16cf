"""The moderators' review of label signals (automation, coordination): the open signals with
their evidence, and the two answers.

- Confirm: a moderation decision on each account of the signal, through the decision machinery
  (services/moderation.py): action `label_account` with the label ("automated" or
  "coordinated"), on the ground of a rule of this server (the one about bots, or about
  coordinated inauthentic behaviour, unless the moderator names another), with a statement of
  reasons to the account, appealable, in the public transparency log (without personal data),
  marked as found by automated means and decided by a person. The label is in force while the
  decision is (services/restrictions.py); reversed on appeal, it is gone.
- Dismiss: the signal is closed with who dismissed it and why; nothing changes for anyone, and
  the same finding is not raised again for `MEMORY` (services/label_detection.py).

A signal by itself never changes what anyone sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from parvis.domain.errors import Invalid, NotFound
from parvis.domain.labels import vocabulary as vocab
from parvis.domain.models import Account
from parvis.services import moderation, rules
from parvis.services.context import Work
from parvis.storage.labels import SignalRow
from parvis.storage.moderation import DecisionRow

MAX_TEXT = moderation.MAX_TEXT
MEMORY = timedelta(days=30)  # a decided finding is not raised again for this long
ORDERS = ("score", "newest")
CATEGORY = "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"  # a breach of this server's rules
# How the rule a confirmation cites is found among the rules in force, when none is named.
RULE_WORDS = {
    "automation": re.compile(r"\bbots?\b|automat", re.IGNORECASE),
    "coordination": re.compile(r"coordinat|inauthenti|in step", re.IGNORECASE),
}


@dataclass(frozen=True)
class SignalView:
    signal: SignalRow
    accounts: tuple[Account, ...]  # those that still exist, in the signal's order
    decider: Account | None = None

    @property
    def label(self) -> str:
        return vocab.KIND_LABEL[self.signal.kind]


def _views(work: Work, found: list[SignalRow]) -> list[SignalView]:
    ids = {a for s in found for a in s.accounts}
    ids |= {s.decided_by for s in found if s.decided_by is not None}
    people = work.store.accounts.get_many(ids)
    return [
        SignalView(
            s,
            tuple(people[a] for a in s.accounts if a in people),
            people.get(s.decided_by) if s.decided_by is not None else None,
        )
        for s in found
    ]


def open_signals(
    work: Work,
    moderator_id: int | None,
    *,
    kind: str = "",
    order: str = "score",
    limit: int = 50,
    offset: int = 0,
) -> list[SignalView]:
    """The open signals, strongest (or newest) first, with their accounts."""
    moderation.require_moderator(work, moderator_id)
    errors = []
    if kind and kind not in vocab.SIGNAL_KINDS:
        errors.append(f"kind: one of {', '.join(vocab.SIGNAL_KINDS)}")
    if order not in ORDERS:
        errors.append(f"order: one of {', '.join(ORDERS)}")
    if errors:
        raise Invalid("Validation failed: " + "; ".join(errors))
    found = work.store.labels.open_signals(
        kind=kind or None, order=order, limit=max(1, min(limit, 200)), offset=max(0, offset)
    )
    return _views(work, found)


def count_open(work: Work) -> int:
    return work.store.labels.count_open()


def detail(work: Work, moderator_id: int | None, signal_id: int) -> SignalView:
    moderation.require_moderator(work, moderator_id)
    found = work.store.labels.get(signal_id)
    if found is None:
        raise NotFound("No such signal")
    return _views(work, [found])[0]


def default_rule(work: Work, kind: str) -> str:
    """The id of the rule in force a confirmation of this kind cites, or "" when none fits."""
    words = RULE_WORDS[kind]
    return next((r.id for r in rules.current(work) if words.search(r.text)), "")


def _listing(names: list[str]) -> str:
    return ", ".join(names) if names else "none"


def facts(signal: SignalRow) -> str:
    """What the statement of reasons says happened (numbers and rule names only: no personal
    data, no post text)."""
    e = signal.evidence
    if signal.kind == "automation":
        strong = [c["name"] for c in e.get("components", []) if c.get("strength", 0) > 0]
        return (
            f"An automated detector flagged the account's posting behaviour (score "
            f"{signal.score:.2f} over {e.get('posts', 0)} posts; signs: {_listing(strong)}), "
            "and a moderator reviewed the evidence before deciding."
        )
    return (
        f"An automated detector found {len(signal.accounts)} accounts posting "
        f"{e.get('texts', 0)} near-identical message(s) in step (reasons: "
        f"{_listing(list(e.get('reasons', [])))}), and a moderator reviewed the evidence before "
        "deciding."
    )


def default_explanation(signal: SignalRow) -> str:
    """What the account is told when the moderator adds nothing: the detector's sentences."""
    e = signal.evidence
    if signal.kind == "automation":
        why = " ".join(
            str(c["sentence"]) for c in e.get("components", []) if c.get("strength", 0) > 0
        )
        return (
            "The recent posts of this account show the signs of a program posting, and the "
            "account does not say it is automated (the bot setting of its profile). "
            f"{why} The account is labelled as an automated account; turning on the bot "
            "setting says so yourself."
        ).replace("  ", " ")
    why = " ".join(str(s) for s in e.get("sentences", []))
    return (
        "This account posted near-identical messages in step with other accounts, which this "
        f"server's rules do not allow (coordinated inauthentic behaviour). {why} The account is "
        "labelled as part of a coordinated group."
    )


def _open(work: Work, signal_id: int) -> SignalRow:
    found = work.store.labels.get(signal_id)
    if found is None:
        raise NotFound("No such signal")
    if found.state != "open":
        raise Invalid(f"Validation failed: signal: already {found.state}")
    return found


def confirm(
    work: Work,
    moderator_id: int | None,
    signal_id: int,
    *,
    explanation: str = "",
    rule_id: str = "",
    duration: timedelta | None = None,
) -> list[DecisionRow]:
    """Labels every account of the signal through a moderation decision each (see the module
    docstring); accounts already carrying the label, suspended or gone are left as they are.
    Returns the decisions taken."""
    me = moderation.require_moderator(work, moderator_id)
    signal = _open(work, signal_id)
    label = vocab.KIND_LABEL[signal.kind]
    explanation = explanation.strip()
    if len(explanation) > MAX_TEXT:
        raise Invalid(f"Validation failed: explanation: at most {MAX_TEXT} characters")
    rule = rule_id.strip() or default_rule(work, signal.kind)
    if not rule:
        raise Invalid(
            "Validation failed: rule_id: no rule of this server is about "
            f"{'bots' if signal.kind == 'automation' else 'coordinated behaviour'}: name one"
        )
    verdict = moderation.Verdict(
        action="label_account",
        label=label,
        ground="rule",
        rule_id=rule,
        explanation=(explanation or default_explanation(signal))[:MAX_TEXT],
        duration=duration,
        dsa_category=CATEGORY,
        facts=facts(signal),
        automated_detection=True,
    )
    people = work.store.accounts.get_many(signal.accounts)
    already = work.store.labels.labelled(label, signal.accounts)
    targets = [
        a for a in signal.accounts if a in people and not people[a].suspended and a not in already
    ]
    taken = [moderation.own_initiative(work, me, "account", a, verdict) for a in targets]
    if not work.store.labels.decide(signal.id, "confirmed", me, work.now(), verdict.explanation):
        raise Invalid("Validation failed: signal: already decided")
    for decision in taken:
        work.store.labels.attach_signal(decision.subject_id, label, signal.id)
    return taken


def dismiss(work: Work, moderator_id: int | None, signal_id: int, reason: str) -> SignalRow:
    """Closes the signal without any effect, recording who and why."""
    me = moderation.require_moderator(work, moderator_id)
    signal = _open(work, signal_id)
    reason = reason.strip()
    if not reason or len(reason) > MAX_TEXT:
        raise Invalid(f"Validation failed: reason: say why, in at most {MAX_TEXT} characters")
    if not work.store.labels.decide(signal.id, "dismissed", me, work.now(), reason):
        raise Invalid("Validation failed: signal: already decided")
    found = work.store.labels.get(signal.id)
    assert found is not None
    return found


def summary(signal: SignalRow) -> dict[str, Any]:
    """The few figures a list shows of a signal's evidence."""
    e = signal.evidence
    if signal.kind == "automation":
        strong = [c["name"] for c in e.get("components", []) if c.get("strength", 0) > 0]
        return {"posts": e.get("posts", 0), "signs": strong}
    return {
        "texts": e.get("texts", 0),
        "posts": sum(len(m.get("posts", [])) for m in e.get("members", [])),
        "reasons": list(e.get("reasons", [])),
        "similarity": e.get("similarity"),
    }
