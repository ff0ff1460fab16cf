"""What a moderation decision does, and undoing it.

A post carries the strongest content restriction in force on it (statuses.restriction, with its
end and label), so every read path applies it cheaply: `disable` and `remove` hide the post
from everyone but its author (parvis.domain.visibility), `age_restrict` hides it from visitors
who are not signed in, `restrict_interactions` refuses replies, boosts, quotes and favourites
from others, `demote` keeps it out of trends and recommendations, `label` shows the moderators'
words as a content warning, `territorial_restrict` records the countries where access is to be
disabled (Parvis does not locate readers: the operator's proxy applies it; docs/moderation.md).
Removed posts are kept, hidden, so that a reversed decision restores them exactly.

Accounts: `suspend` (with an end) and `terminate` suspend the account (its tokens are revoked);
`warn` restricts nothing; `label_account` puts its label ("automated", "coordinated") on the
account (account_labels) for as long as a decision keeps it there. A reversal or the end of a
restriction recomputes what remains in force from the other decisions on the same subject.
"""

from __future__ import annotations

from datetime import datetime

from parvis.domain import moderation as vocab
from parvis.services import federate
from parvis.services.context import Work
from parvis.storage.moderation import DecisionRow

ACCOUNT_RESTRICTIONS = ("suspend", "terminate")


def _in_force(decision: DecisionRow, now: datetime) -> bool:
    return decision.reversed_at is None and (decision.ends_at is None or decision.ends_at > now)


def _strongest(decisions: list[DecisionRow]) -> DecisionRow | None:
    """The most restrictive decision; among equals, the latest."""
    best: DecisionRow | None = None
    for d in decisions:
        if best is None or vocab.ACTIONS[d.action].rank >= vocab.ACTIONS[best.action].rank:
            best = d
    return best


def refresh_status(work: Work, status_id: int) -> None:
    """Sets the post's restriction columns from the content decisions in force on it."""
    now = work.now()
    found = [
        d
        for d in work.store.decisions.in_force_on("status", status_id)
        if vocab.ACTIONS[d.action].on_content and _in_force(d, now)
    ]
    strongest = _strongest(found)
    if not work.store.statuses.exists(status_id):
        return
    federate.status_withheld(work, status_id, strongest.action if strongest else None)
    work.store.statuses.update(
        status_id,
        {
            "restriction": strongest.action if strongest else None,
            "restriction_until": strongest.ends_at if strongest else None,
            "restriction_scope": ",".join(strongest.territorial_scope) if strongest else "",
            "restriction_label": strongest.label if strongest else "",
        },
    )


def refresh_account(work: Work, account_id: int) -> None:
    """Suspends the account while a suspension or termination is in force, and lifts the
    suspension when none is (an operator's own suspension from the CLI has no decision and is
    left alone unless a decision had set it)."""
    now = work.now()
    found = [
        d
        for d in work.store.decisions.account_actions_in_force(account_id)
        if d.action in ACCOUNT_RESTRICTIONS and _in_force(d, now)
    ]
    account = work.store.accounts.get(account_id)
    if account is None:
        return
    if found:
        ends = [d.ends_at for d in found]
        until = None if any(e is None for e in ends) else max(e for e in ends if e is not None)
        values: dict[str, object] = {"suspended_until": until}
        if not account.suspended:
            values["suspended_at"] = now
            work.store.oauth.revoke_all_for(account_id, now)
        work.store.accounts.update(account_id, values)
    elif account.suspended and _suspended_by_decision(work, account_id):
        if _closed_for_deletion(work, account_id):
            return
        work.store.accounts.update(account_id, {"suspended_at": None, "suspended_until": None})


def _closed_for_deletion(work: Work, account_id: int) -> bool:
    """A deletion is pending (services/deletion.py): the account stays closed, and cancelling
    the deletion will open it (the suspension is now the request's)."""
    found = work.store.erasure.request(account_id)
    if found is None or found.delete_after is None:
        return False
    work.store.erasure.set_request(account_id, found.delete_after, True)
    work.store.accounts.update(account_id, {"suspended_until": None})
    return True


def _suspended_by_decision(work: Work, account_id: int) -> bool:
    return any(
        d.action in ACCOUNT_RESTRICTIONS for d in work.store.decisions.of_account(account_id, 500)
    )


def refresh_labels(work: Work, account_id: int) -> None:
    """Sets the account's labels from the `label_account` decisions in force (the latest for
    each label), and lifts those no decision keeps any more (reversed, or ended)."""
    now = work.now()
    keeping: dict[str, DecisionRow] = {}
    for d in work.store.decisions.of_account(account_id, 500):
        labelling = d.action == "label_account" and d.subject_type == "account"
        if (
            labelling
            and _in_force(d, now)
            and (d.label not in keeping or d.id > keeping[d.label].id)
        ):
            keeping[d.label] = d
    store = work.store.labels
    current = {row.label for row in store.labels_of([account_id]).get(account_id, [])}
    for label in current - set(keeping):
        store.remove_label(account_id, label)
    for label, d in keeping.items():
        store.put_label(account_id, label, decision_id=d.id, since=d.starts_at, until=d.ends_at)


def apply(work: Work, decision: DecisionRow) -> None:
    """Puts a new decision into effect."""
    if decision.action in ACCOUNT_RESTRICTIONS and decision.account_id is not None:
        refresh_account(work, decision.account_id)
    elif decision.action == "label_account" and decision.account_id is not None:
        refresh_labels(work, decision.account_id)
    elif vocab.ACTIONS[decision.action].on_content and decision.status_id is not None:
        refresh_status(work, decision.status_id)


def lift(work: Work, decision: DecisionRow) -> None:
    """After a reversal or at the end of its duration: what remains in force applies."""
    apply(work, decision)


def expire(work: Work) -> int:
    """Ends the restrictions whose time is up (a periodic job); returns how many ended."""
    now = work.now()
    ended = 0
    for status_id in work.store.statuses.restrictions_ended(now):
        refresh_status(work, status_id)
        ended += 1
    for account_id in work.store.accounts.suspensions_ended(now):
        refresh_account(work, account_id)
        ended += 1
    for account_id in work.store.labels.ended(now):
        refresh_labels(work, account_id)
        ended += 1
    return ended
