"""The labels users see on accounts, what each user chooses to do with them, and how a choice
applies to a post (pure data and pure functions, shared by the services, the API and the web).

- `bot`: the account says it is automated (Mastodon's `bot` flag; a remote `Service` actor);
- `automated`: the moderators confirmed an automation signal (a decision, with its statement
  of reasons, appealable);
- `coordinated`: the moderators confirmed that the account posted in step with others
  (coordinated inauthentic behaviour), the same way.

Each user chooses per label: `show` (nothing changes), `warn` (the post is shown behind a
warning naming the label; Mastodon apps get a `filtered` result with `filter_action` "warn")
or `hide` (the post is left out of timelines and notifications). A label never hides a post
silently: hiding is the reader's own choice, and a post one opens (its thread) or an account
one visits keeps a warning instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

LABELS = ("bot", "automated", "coordinated")
CONFIRMED = ("automated", "coordinated")  # set by moderators' decisions (account_labels)
CHOICES = ("show", "warn", "hide")
DEFAULTS: Mapping[str, str] = {"bot": "show", "automated": "warn", "coordinated": "warn"}
# Which signal kind raises which label.
KIND_LABEL: Mapping[str, str] = {"automation": "automated", "coordination": "coordinated"}
SIGNAL_KINDS = tuple(KIND_LABEL)
# Contexts where the reader asked for the post or the account itself: `hide` warns there.
ASKED_FOR = ("thread", "account")
FILTER_PREFIX = "label-"  # the id of the synthetic filter Mastodon apps see: "label-automated"


def preferences(saved: Mapping[str, str]) -> dict[str, str]:
    """The user's choice for every label: what they saved, else the default."""
    return {label: saved.get(label, DEFAULTS[label]) for label in LABELS}


def labels_of(bot: bool, confirmed: Iterable[str]) -> tuple[str, ...]:
    """An account's labels, in the order of LABELS."""
    found = set(confirmed) | ({"bot"} if bot else set())
    return tuple(label for label in LABELS if label in found)


def choices_for(
    labels: Iterable[str], chosen: Mapping[str, str], context: str | None
) -> dict[str, str]:
    """label -> "warn" | "hide" for the labels the reader does not simply show; `hide` is a
    warning in the contexts where the reader asked for the post or the account."""
    out: dict[str, str] = {}
    for label in labels:
        action = chosen.get(label, DEFAULTS.get(label, "show"))
        if action == "hide" and context in ASKED_FOR:
            action = "warn"
        if action in ("warn", "hide"):
            out[label] = action
    return out
