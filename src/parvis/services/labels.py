"""Labels as users meet them: each user's choice per label (show, warn, hide), applied wherever
filters apply, and the labels an account carries with the decision behind each.

Applying (`marks`, called by services/filters.py on every read path): a post by a labelled
account (or boosted by one) that the reader chose to `warn` about gets a filter result of a
filter the server makes for the label (id "label-automated", title the label's name in the
reader's language, action "warn"), so Mastodon apps show their usual warning and the web app
its "Show anyway"; one the reader chose to `hide` is left out like a post matching a hide
filter, except in a thread or on the account's own page, where the reader asked for it and a
warning stands instead. The reader's own posts are never marked. The labels come loaded with
the accounts (AccountStore), so a page costs one query for the reader's choices, and only
when a labelled account is on it.

Signals and their review are in `label_signals`; the detection job in `label_detection`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from parvis.domain.errors import Invalid
from parvis.domain.filters import CONTEXTS, Filter, FilterMatch
from parvis.domain.labels import vocabulary as vocab
from parvis.domain.models import Account, Status
from parvis.services.context import Work

# The label's name as the title of the filter Mastodon apps show (English, French); the web
# app translates its own words.
TITLES: Mapping[str, tuple[str, str]] = {
    "bot": ("Bot (self-declared)", "Bot (autodéclaré)"),
    "automated": ("Automated account", "Compte automatisé"),
    "coordinated": ("Part of a coordinated group", "Membre d’un groupe coordonné"),
}


# -- choices -----------------------------------------------------------------------------------


def preferences(work: Work, account_id: int) -> dict[str, str]:
    """The user's choice for every label (saved, else the default)."""
    return vocab.preferences(work.store.labels.preferences(account_id))


def set_preferences(work: Work, account_id: int, choices: Mapping[str, object]) -> dict[str, str]:
    """Saves some or all of the user's choices; an unknown label or action is refused with
    the field named, and nothing is saved."""
    errors = []
    clean: dict[str, str] = {}
    for label, action in choices.items():
        if label not in vocab.LABELS:
            errors.append(f"{label}: not a label (one of {', '.join(vocab.LABELS)})")
        elif not isinstance(action, str) or action not in vocab.CHOICES:
            errors.append(f"{label}: one of {', '.join(vocab.CHOICES)}")
        else:
            clean[label] = action
    if errors:
        raise Invalid("Validation failed: " + "; ".join(errors[:10]))
    work.store.labels.set_preferences(account_id, clean)
    return preferences(work, account_id)


# -- applying them -----------------------------------------------------------------------------


def _labels(account: Account) -> tuple[str, ...]:
    return vocab.labels_of(account.bot, account.labels)


def _filter(label: str, action: str, french: bool) -> Filter:
    english, francais = TITLES[label]
    return Filter(
        id=0,
        key=f"{vocab.FILTER_PREFIX}{label}",
        title=francais if french else english,
        context=CONTEXTS,
        action=action,
        expires_at=None,
    )


def marks(
    work: Work, viewer_id: int | None, context: str | None, statuses: Sequence[Status]
) -> dict[int, tuple[FilterMatch, ...]]:
    """Filter results by status id (a boost and its boosted status both) for the posts the
    reader chose to be warned about or not to see (see the module docstring)."""
    if viewer_id is None:
        return {}
    found: dict[int, tuple[str, ...]] = {}
    for status in statuses:
        proper = status.reblog or status
        if proper.account.id == viewer_id:
            continue
        labels = _labels(proper.account)
        if status.reblog is not None and status.account.id != viewer_id:
            labels = tuple(dict.fromkeys(labels + _labels(status.account)))
        if labels:
            found[status.id] = labels
    if not found:
        return {}
    chosen = preferences(work, viewer_id)
    user = work.store.accounts.user(viewer_id)
    french = user is not None and (user.locale or "").startswith("fr")
    out: dict[int, tuple[FilterMatch, ...]] = {}
    by_id = {s.id: s for s in statuses}
    for status_id, labels in found.items():
        acting = vocab.choices_for(labels, chosen, context)
        if not acting:
            continue
        matches = tuple(FilterMatch(_filter(label, a, french)) for label, a in acting.items())
        out[status_id] = matches
        boosted = by_id[status_id].reblog
        if boosted is not None:
            out[boosted.id] = matches
    return out


# -- an account's labels -----------------------------------------------------------------------


@dataclass(frozen=True)
class ShownLabel:
    """A label on a profile: the decision behind a confirmed one, and its statement's PUID."""

    label: str
    decision_id: int | None = None
    puid: str = ""


def of_account(work: Work, account: Account) -> list[ShownLabel]:
    """The labels an account carries, in the order of vocabulary.LABELS."""
    rows = {r.label: r for r in work.store.labels.labels_of([account.id]).get(account.id, [])}
    shown = []
    for label in vocab.labels_of(account.bot, rows):
        row = rows.get(label)
        if row is None or row.decision_id is None:
            shown.append(ShownLabel(label))
            continue
        decision = work.store.decisions.get(row.decision_id)
        shown.append(ShownLabel(label, row.decision_id, decision.puid if decision else ""))
    return shown
