"""The detection run behind the label signals (a periodic job, hourly: jobs/labels.py).

1. Read, in one read-only unit of work, the recent public and unlisted original posts of local
   and remote accounts: those of the last `label_window_hours` (a week by default: a daily bot
   or a campaign in several waves shows only over days), at most `label_max_posts` of them
   (the newest), with their authors.
2. Compute, with no transaction open: `assess_automation` for each account with enough posts
   (self-declared bots need no detection; suspended accounts and accounts already labelled
   "automated" are skipped), and `find_coordination` over the whole window (clusters whose
   accounts all already carry "coordinated" are skipped).
3. Record, in one write: each finding with its evidence — for automation every component with
   its value, threshold, strength, weight and sentence, and a few of the posts; for
   coordination each member's copies (text, time) and the near-identical pairs with their
   estimated similarity. A finding is the same as an earlier signal of its kind when their
   accounts overlap by half or more (overlap coefficient; for automation: the same account):
   an open one is refreshed with the new evidence; a dismissed one within `MEMORY` (30 days)
   suppresses it; a confirmed one within `MEMORY` suppresses it unless it brings new accounts
   (so a label reversed on appeal is not raised again at once). Anything else is a new signal.

Signals wait for a moderator (services/label_signals.py): nothing here changes what anyone
sees. Post texts kept as evidence are cut to `MAX_EVIDENCE_TEXT` characters.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

import numpy as np

from parvis.domain.content import html_to_text
from parvis.domain.labels.automation import FLAG_AT, PostSample, assess_automation
from parvis.domain.labels.coordination import Post, Rules, find_coordination
from parvis.domain.labels.minhash import MinHasher
from parvis.services.context import Work
from parvis.services.label_signals import MEMORY
from parvis.storage.labels import AuthorRow, PostRow, SignalRow

T = TypeVar("T")
HASHER = MinHasher()
RULES = Rules()
MIN_POSTS = 5  # fewer posts than this: no component can be measured but the client's name
MAX_EVIDENCE_TEXT = 500
MAX_EXAMPLES = 10  # posts shown with an automation signal
MAX_COPIES = 200  # posts kept with a coordination signal
MAX_PAIRS = 300
SAME = 0.5  # overlap coefficient of the accounts at which two findings are the same


class Units(Protocol):
    """What the run needs of the runtime (jobs/runtime.py Runtime)."""

    def read(self, use_case: Callable[[Work], T]) -> T: ...

    def write(self, use_case: Callable[[Work], T]) -> T: ...


@dataclass(frozen=True)
class Window:
    now: datetime
    since: datetime
    posts: tuple[PostRow, ...]
    authors: dict[int, AuthorRow]
    automated: frozenset[int]  # accounts already labelled
    coordinated: frozenset[int]


@dataclass(frozen=True)
class Finding:
    kind: str  # automation | coordination
    accounts: tuple[int, ...]
    score: float
    evidence: dict[str, Any]


@dataclass(frozen=True)
class Run:
    posts: int
    accounts: int
    found: dict[str, int]  # kind -> findings
    raised: int
    refreshed: int
    suppressed: int


def read_window(work: Work) -> Window:
    now = work.now()
    since = now - timedelta(hours=work.settings.label_window_hours)
    posts = work.store.labels.recent_posts(since, work.settings.label_max_posts)
    ids = {p.account_id for p in posts}
    return Window(
        now=now,
        since=since,
        posts=tuple(posts),
        authors=work.store.labels.authors(ids),
        automated=frozenset(work.store.labels.labelled("automated", ids)),
        coordinated=frozenset(work.store.labels.labelled("coordinated", ids)),
    )


def _text(post: PostRow) -> str:
    return post.text if post.text.strip() else html_to_text(post.content)


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_EVIDENCE_TEXT else text[: MAX_EVIDENCE_TEXT - 1] + "…"


def _post_json(post: PostRow, text: str) -> dict[str, Any]:
    return {
        "id": str(post.id),
        "account_id": str(post.account_id),
        "created_at": post.created_at.isoformat(),
        "text": _cut(text),
    }


def find(window: Window) -> list[Finding]:
    """Every finding in the window (pure computation: no database)."""
    texts = {p.id: _text(p) for p in window.posts}
    live = [p for p in window.posts if p.account_id in window.authors]
    live = [p for p in live if not window.authors[p.account_id].suspended]
    return _automation(window, live, texts) + _coordination(window, live, texts)


def _automation(window: Window, posts: Sequence[PostRow], texts: dict[int, str]) -> list[Finding]:
    by_account: dict[int, list[PostRow]] = defaultdict(list)
    for post in posts:
        by_account[post.account_id].append(post)
    found = []
    for account_id, own in sorted(by_account.items()):
        author = window.authors[account_id]
        if author.bot or account_id in window.automated or len(own) < MIN_POSTS:
            continue
        samples = [PostSample(p.created_at, texts[p.id], p.application) for p in own]
        signal = assess_automation(samples, hasher=HASHER)
        if not signal.flagged:
            continue
        ordered = sorted(own, key=lambda p: p.created_at)
        evidence = {
            "posts": signal.posts,
            "start": ordered[0].created_at.isoformat(),
            "end": ordered[-1].created_at.isoformat(),
            "flag_at": FLAG_AT,
            "local": author.local,
            "components": [
                {
                    "name": c.name,
                    "value": c.value,
                    "threshold": c.threshold,
                    "strength": round(c.strength, 3),
                    "weight": c.weight,
                    "sentence": c.sentence,
                }
                for c in signal.components
            ],
            "examples": [_post_json(p, texts[p.id]) for p in ordered[-MAX_EXAMPLES:]],
        }
        found.append(Finding("automation", (account_id,), signal.score, evidence))
    return found


def _coordination(window: Window, posts: Sequence[PostRow], texts: dict[int, str]) -> list[Finding]:
    inputs = [Post(p.id, p.account_id, p.created_at, texts[p.id]) for p in posts]
    created = {a: r.created_at for a, r in window.authors.items()}
    by_id = {p.id: p for p in posts}
    found = []
    for cluster in find_coordination(inputs, created, RULES, HASHER):
        if set(cluster.accounts) <= window.coordinated:
            continue
        copies = sorted((by_id[i] for i in cluster.posts), key=lambda p: (p.created_at, p.id))
        copies = copies[:MAX_COPIES]
        members: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for post in copies:
            members[post.account_id].append(_post_json(post, texts[post.id]))
        evidence = {
            "accounts": len(cluster.accounts),
            "texts": cluster.texts,
            "similarity": cluster.similarity,
            "reasons": list(cluster.reasons),
            "sentences": list(cluster.evidence),
            "start": cluster.start.isoformat(),
            "end": cluster.end.isoformat(),
            "window_minutes": int(RULES.window.total_seconds() // 60),
            "members": [
                {"account_id": str(a), "posts": members[a]}
                for a in cluster.accounts
                if a in members
            ],
            "pairs": _pairs(copies, texts),
        }
        found.append(Finding("coordination", cluster.accounts, cluster.similarity, evidence))
    return found


def _pairs(copies: Sequence[PostRow], texts: dict[int, str]) -> list[dict[str, Any]]:
    """The near-identical pairs among the copies of different accounts, most alike first (the
    estimated Jaccard similarity of every pair at once: at most MAX_COPIES² / 2 of them)."""
    if len(copies) < 2:
        return []
    signatures = HASHER.signatures([texts[p.id] for p in copies])
    alike = (signatures[:, None, :] == signatures[None, :, :]).mean(axis=2)
    accounts = np.array([p.account_id for p in copies])
    left, right = np.triu_indices(len(copies), k=1)
    keep = (accounts[left] != accounts[right]) & (alike[left, right] >= RULES.similarity)
    found = sorted(
        (round(float(alike[i, j]), 3), str(copies[i].id), str(copies[j].id))
        for i, j in zip(left[keep].tolist(), right[keep].tolist(), strict=True)
    )
    found.sort(key=lambda p: -p[0])  # stable: ties stay in id order
    return [{"a": a, "b": b, "similarity": s} for s, a, b in found[:MAX_PAIRS]]


def fingerprint(kind: str, accounts: Iterable[int]) -> str:
    if kind == "automation":
        return f"automation:{min(accounts)}"
    joined = ",".join(str(a) for a in sorted(accounts))
    return "coordination:" + hashlib.sha256(joined.encode()).hexdigest()[:40]


def _overlap(a: set[int], b: set[int]) -> float:
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def record(work: Work, findings: Sequence[Finding], window: Window | None = None) -> Run:
    """Stores the findings as signals (see the module docstring)."""
    now = work.now()
    store = work.store.labels
    raised = refreshed = suppressed = 0
    known: dict[str, list[SignalRow]] = {}
    for finding in findings:
        if finding.kind not in known:
            known[finding.kind] = store.comparable(finding.kind, now - MEMORY)
        accounts = set(finding.accounts)
        same = [s for s in known[finding.kind] if _overlap(accounts, set(s.accounts)) >= SAME]
        same.sort(key=lambda s: (-_overlap(accounts, set(s.accounts)), -s.id))
        still_open = [s for s in same if s.state == "open"]
        if still_open:
            target = still_open[0]
            store.refresh_signal(target.id, finding.score, finding.evidence, finding.accounts, now)
            refreshed += 1
            continue
        if any(s.state == "dismissed" or accounts <= set(s.accounts) for s in same):
            suppressed += 1
            continue
        fp = fingerprint(finding.kind, finding.accounts)
        signal_id = store.insert_signal(
            finding.kind, fp, finding.score, finding.evidence, finding.accounts, now
        )
        known[finding.kind].append(
            SignalRow(
                id=signal_id,
                kind=finding.kind,
                fingerprint=fp,
                score=finding.score,
                evidence=finding.evidence,
                detected_at=now,
                updated_at=now,
                state="open",
                decided_by=None,
                decided_at=None,
                decision_note="",
                accounts=finding.accounts,
            )
        )
        raised += 1
    counts: dict[str, int] = defaultdict(int)
    for finding in findings:
        counts[finding.kind] += 1
    return Run(
        posts=len(window.posts) if window else 0,
        accounts=len(window.authors) if window else 0,
        found=dict(counts),
        raised=raised,
        refreshed=refreshed,
        suppressed=suppressed,
    )


def detect(runtime: Units) -> Run:
    """The periodic run: read, compute with no transaction open, record."""
    window = runtime.read(read_window)
    findings = find(window)
    return runtime.write(lambda work: record(work, findings, window))
