"""Community notes (issue 8): eligible users add context to public posts and rate each other's
notes; a note is shown on its post only when raters who usually disagree both find it helpful
(the bridging scorer, parvis.domain.notes.scoring, run by a periodic job and by
`parvis notes score`).

Who may take part (`eligibility`): a local account at least `notes_min_account_days` old, not
suspended, with no moderation decision restricting it or its posts in force or taken in the last
`notes_standing_days`; at most `notes_per_day` notes and `note_ratings_per_day` ratings a day.
The scorer adds its own guard: a rater enters the fit only with 10 ratings, a note with 5.

Notes are anonymous to readers (as on X: a note is judged on its words, and its author is not
exposed to the post's audience); the public exports name authors and raters by a keyed
pseudonym (`participant_id`).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import numpy as np
import orjson

from parvis.domain import models
from parvis.domain.errors import Forbidden, Invalid, NotFound, RateLimited
from parvis.domain.ids import new_id
from parvis.domain.notes import scoring
from parvis.domain.notes.model import (
    Classification,
    Helpfulness,
    Ratings,
    Status,
    reasons_for,
    tags_for,
)
from parvis.domain.notes.why import Why, explain
from parvis.domain.visibility import Visibility
from parvis.services.context import Work
from parvis.services.posting import visible_status
from parvis.storage.notes import (
    NoteRow,
    RatingRow,
    RunRow,
    ScorerInput,
    Sides,
    StatusChange,
    new_change,
)

SUMMARY_MAX = 500
SOURCES_MAX = 5
SOURCE_MAX_CHARS = 2048
LANGUAGE_MAX = 16

CLASSIFICATIONS = {
    "misleading": Classification.MISLEADING,
    "not_misleading": Classification.NOT_MISLEADING,
}
HELPFULNESS = {
    "helpful": Helpfulness.HELPFUL,
    "somewhat_helpful": Helpfulness.SOMEWHAT_HELPFUL,
    "not_helpful": Helpfulness.NOT_HELPFUL,
}


# -- who may take part -------------------------------------------------------------------------


@dataclass(frozen=True)
class Eligibility:
    """Whether an account may write and rate notes, and if not, why (codes and sentences)."""

    problems: tuple[tuple[str, str], ...]  # (code, English sentence)
    eligible_at: datetime | None = None  # when the account will be old enough

    @property
    def allowed(self) -> bool:
        return not self.problems

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self.problems)


def eligibility(work: Work, account_id: int | None) -> Eligibility:
    account = work.store.accounts.get(account_id) if account_id is not None else None
    if account is None:
        return Eligibility((("signed_out", "Sign in to write and rate community notes."),))
    if account.domain is not None:
        return Eligibility((("remote", "Notes from other servers arrive through federation."),))
    problems: list[tuple[str, str]] = []
    now = work.now()
    ready = account.created_at + timedelta(days=work.settings.notes_min_account_days)
    if now < ready:
        days = work.settings.notes_min_account_days
        problems.append(("too_new", f"Accounts can take part {days} days after they are created."))
    if account.suspended:
        problems.append(("suspended", "This account is suspended."))
    elif _standing_problem(work, account.id, now):
        problems.append(
            (
                "standing",
                "A recent moderation decision about this account or its posts: accounts can "
                f"take part {work.settings.notes_standing_days} days after such a decision.",
            )
        )
    return Eligibility(tuple(problems), ready if now < ready else None)


def in_good_standing(work: Work, account_id: int) -> bool:
    """No moderation decision bars the account (the rule above; remote raters too)."""
    return not _standing_problem(work, account_id, work.now())


def _standing_problem(work: Work, account_id: int, now: datetime) -> bool:
    since = now - timedelta(days=work.settings.notes_standing_days)
    for d in work.store.decisions.of_account(account_id):
        if d.action == "none" or d.reversed_at is not None:
            continue
        if d.created_at >= since or d.ends_at is None or d.ends_at > now:
            return True
    return False


def _require(work: Work, account_id: int | None) -> int:
    found = eligibility(work, account_id)
    if not found.allowed:
        raise Forbidden(found.problems[0][1])
    assert account_id is not None
    return account_id


# -- writing and rating ------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    classification: str  # misleading | not_misleading
    reasons: Sequence[str]
    summary: str
    sources: Sequence[str] = ()
    language: str = ""


def draft_errors(draft: Draft) -> list[str]:
    """Everything wrong with a draft, field by field."""
    errors: list[str] = []
    classification = CLASSIFICATIONS.get(draft.classification)
    if classification is None:
        errors.append("classification: misleading or not_misleading")
    else:
        allowed = reasons_for(classification)
        unknown = [r for r in draft.reasons if r not in allowed]
        if not draft.reasons:
            errors.append("reasons: give at least one reason")
        elif unknown:
            errors.append(f"reasons: unknown {_listed(unknown)}; one of {', '.join(allowed)}")
        if classification is Classification.MISLEADING and not draft.sources:
            errors.append("sources: a note on a misleading post needs at least one source link")
    summary = draft.summary.strip()
    if not summary:
        errors.append("summary: write the note")
    elif len(summary) > SUMMARY_MAX:
        errors.append(f"summary: at most {SUMMARY_MAX} characters")
    if len(draft.sources) > SOURCES_MAX:
        errors.append(f"sources: at most {SOURCES_MAX} links")
    for source in draft.sources:
        if not _is_web_link(source):
            errors.append(f"sources: not a web link (http or https): {source[:80]}")
            break
    if len(draft.language) > LANGUAGE_MAX:
        errors.append("language: a language code such as fr or en")
    return errors


def _listed(values: Sequence[str]) -> str:
    return ", ".join(repr(v)[:40] for v in values[:3])


def _is_web_link(text: str) -> bool:
    if len(text) > SOURCE_MAX_CHARS or any(c.isspace() or ord(c) < 32 for c in text):
        return False
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and "." in (parts.hostname or "").strip(".")


def write(work: Work, author_id: int | None, status_id: int, draft: Draft) -> NoteRow:
    """A new note on a public post. NotFound for a post that does not exist (or was deleted)
    or that the author may not see."""
    author_id = _require(work, author_id)
    status = visible_status(work, author_id, status_id)
    status = status.reblog or status
    if status.visibility not in (Visibility.PUBLIC, Visibility.UNLISTED):
        raise Invalid("Notes can be added to public posts only")
    if status.account.id == author_id:
        raise Forbidden("You cannot write a note on your own post")
    errors = draft_errors(draft)
    if errors:
        raise Invalid("Validation failed: " + "; ".join(errors))
    if work.store.notes.by_author_on(author_id, status.id) is not None:
        raise Invalid("You already wrote a note on this post")
    now = work.now()
    if (
        work.store.notes.written_since(author_id, now - timedelta(days=1))
        >= work.settings.notes_per_day
    ):
        raise RateLimited(f"At most {work.settings.notes_per_day} notes a day")
    note_id = new_id()
    row = NoteRow(
        id=note_id,
        uri=f"{work.settings.base_url}/notes/{note_id}",
        status_id=status.id,
        author_id=author_id,
        classification=CLASSIFICATIONS[draft.classification].value,
        reasons=tuple(dict.fromkeys(draft.reasons)),
        summary=draft.summary.strip(),
        sources=tuple(dict.fromkeys(s.strip() for s in draft.sources)),
        language=draft.language.strip(),
        created_at=now,
        rating_status=Status.NEEDS_MORE_RATINGS.value,
        intercept=None,
        factor=None,
        status_changed_at=None,
        first_status="",
        first_status_at=None,
        latest_status="",
        latest_status_at=None,
    )
    work.store.notes.insert(row)
    work.later("federate_note_created", note_id=note_id)  # to Parvis servers (FEDERATION.md)
    return row


def _note_for(work: Work, viewer_id: int | None, note_id: int) -> NoteRow:
    """A note whose post the viewer may see, else NotFound."""
    note = work.store.notes.get(note_id)
    if note is None:
        raise NotFound("Record not found")
    visible_status(work, viewer_id, note.status_id)
    return note


def rate(
    work: Work, rater_id: int | None, note_id: int, helpfulness: str, tags: Sequence[str] = ()
) -> RatingRow:
    """Adds or replaces the rater's rating of a note."""
    rater_id = _require(work, rater_id)
    note = _note_for(work, rater_id, note_id)
    if note.author_id == rater_id:
        raise Forbidden("You cannot rate your own note")
    level = HELPFULNESS.get(helpfulness)
    errors = []
    if level is None:
        errors.append("helpfulness: helpful, somewhat_helpful or not_helpful")
    else:
        allowed = tags_for(level)
        unknown = [t for t in tags if t not in allowed]
        if unknown:
            errors.append(f"tags: unknown {_listed(unknown)}; one of {', '.join(allowed)}")
    if errors:
        raise Invalid("Validation failed: " + "; ".join(errors))
    assert level is not None
    now = work.now()
    if work.store.notes.rating(note_id, rater_id) is None and (
        work.store.notes.ratings_since(rater_id, now - timedelta(days=1))
        >= work.settings.note_ratings_per_day
    ):
        raise RateLimited(f"At most {work.settings.note_ratings_per_day} ratings a day")
    found = work.store.notes.rate(note_id, rater_id, level.value, tuple(dict.fromkeys(tags)), now)
    work.later("federate_note_rated", note_id=note_id, rater_id=rater_id)
    return found


def unrate(work: Work, rater_id: int | None, note_id: int) -> None:
    if rater_id is None:
        raise Forbidden("Sign in to rate community notes.")
    _note_for(work, rater_id, note_id)
    previous = work.store.notes.rating(note_id, rater_id)
    if previous is None or not work.store.notes.unrate(note_id, rater_id):
        raise NotFound("You have not rated this note")
    rated_at = previous.updated_at.isoformat()  # names the rating the Undo withdraws
    work.later("federate_note_unrated", note_id=note_id, rater_id=rater_id, rated_at=rated_at)


def delete(work: Work, account_id: int | None, note_id: int) -> None:
    """The author takes their note back (with its ratings and history)."""
    note = work.store.notes.get(note_id)
    if note is None or account_id is None:
        raise NotFound("Record not found")
    if note.author_id != account_id:
        raise Forbidden("Only the note's author can delete it")
    work.store.notes.delete(note_id)
    work.later(
        "federate_note_deleted",
        note_uri=note.uri,
        author_id=note.author_id,
        status_id=note.status_id,
    )


# -- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteView:
    note: NoteRow
    why: Why
    sides: Sides
    mine: bool  # written by the viewer
    own_rating: RatingRow | None


def _views(work: Work, viewer_id: int | None, notes: list[NoteRow]) -> list[NoteView]:
    ids = [n.id for n in notes]
    sides = work.store.notes.sides(ids)
    own = work.store.notes.ratings_by(viewer_id, ids) if viewer_id is not None else {}
    views = []
    for note in notes:
        counted = sides[note.id]
        views.append(
            NoteView(
                note,
                explain(
                    Status(note.rating_status),
                    note.classification != Classification.NOT_MISLEADING.value,
                    note.intercept,
                    note.factor,
                    counted.in_fit,
                ),
                counted,
                note.author_id == viewer_id,
                own.get(note.id),
            )
        )
    return views


def view(work: Work, viewer_id: int | None, note_id: int) -> NoteView:
    return _views(work, viewer_id, [_note_for(work, viewer_id, note_id)])[0]


def on_status(work: Work, viewer_id: int | None, status_id: int) -> list[NoteView]:
    """Every note on a post the viewer may see: the shown one first. All are public (their
    statuses too); only a helpful note is shown on the post itself."""
    status = visible_status(work, viewer_id, status_id)
    return _views(work, viewer_id, work.store.notes.of_status((status.reblog or status).id))


def shown_on(work: Work, status_ids: Sequence[int]) -> dict[int, NoteRow]:
    """The note shown on each post, for a page of posts (boosts: pass the originals' ids)."""
    return work.store.notes.shown_on(status_ids)


def shown_notes(work: Work, statuses: Sequence[models.Status]) -> dict[int, models.ShownNote]:
    """The note shown on each of these posts, on the originals of boosts and on quoted posts
    (one query), as the API and the web app show it: `ViewerFlags.notes`."""
    ids = [s.id for s in statuses] + [s.reblog.id for s in statuses if s.reblog]
    ids += [s.quote.quoted_status.id for s in statuses if s.quote and s.quote.quoted_status]
    shown = shown_on(work, ids) if ids else {}
    return {
        status_id: models.ShownNote(n.id, n.summary, n.sources, n.rating_status)
        for status_id, n in shown.items()
    }


def to_rate(
    work: Work, rater_id: int | None, limit: int = 20, max_id: int | None = None
) -> list[NoteView]:
    """Notes that need more ratings, for an eligible rater, newest first, on posts they may see."""
    rater_id = _require(work, rater_id)
    found = []
    for note in work.store.notes.needing_ratings(rater_id, limit * 2, max_id):
        try:
            visible_status(work, rater_id, note.status_id)
        except NotFound:
            continue
        found.append(note)
        if len(found) == limit:
            break
    return _views(work, rater_id, found)


def history(work: Work, viewer_id: int | None, note_id: int) -> list[StatusChange]:
    _note_for(work, viewer_id, note_id)
    return work.store.notes.history(note_id)


def participant_id(work: Work, account_id: int) -> str:
    """The public files' pseudonym of an account: stable, not reversible without the server's
    secret, and different from one server to another."""
    return participant_ids(work, [account_id])[account_id]


def participant_ids(work: Work, account_ids: Iterable[int]) -> dict[int, str]:
    """`participant_id` of many accounts (the secret read once)."""
    key = work.settings.signing_key()
    return {
        a: hmac.new(key, f"notes-participant:{a}".encode(), hashlib.sha256).hexdigest().upper()
        for a in set(account_ids)
    }


# -- scoring -----------------------------------------------------------------------------------

EpochCallback = Callable[[int, float], None]


@dataclass(frozen=True)
class Scored:
    run: RunRow | None  # None: nothing changed since the last run
    changed: int  # notes whose status changed


def score(
    work: Work,
    trigger: str = "job",
    on_epoch: EpochCallback | None = None,
    force: bool = False,
) -> Scored:
    """Scores every note from every rating, warm-started from the latest run, and stores the
    statuses (with their history), the raters' parameters and the run. Skipped when no rating
    or note changed since the latest run, unless `force`."""
    store = work.store.notes
    fingerprint = store.fingerprint()
    latest = store.latest_run()
    saved = orjson.loads(zlib.decompress(latest[1])) if latest and latest[1] else None
    if saved is not None and saved.get("fingerprint") == fingerprint and not force:
        return Scored(None, 0)
    previous = scoring.State.from_dict(saved["state"]) if saved is not None else None

    started = work.now()
    ratings = _ratings(store.scorer_input(), store.classifications())
    result = scoring.score(ratings, previous, scoring.Parameters(), on_epoch)
    finished = work.now()
    run = RunRow(
        id=new_id(),
        started_at=started,
        finished_at=finished,
        trigger=trigger,
        ratings=len(ratings.value),
        ratings_fitted=result.ratings_fitted,
        notes=len(result.notes.ids),
        raters=len(result.raters.ids),
        helpful=result.counts.get(Status.HELPFUL, 0),
        not_helpful=result.counts.get(Status.NOT_HELPFUL, 0),
        needs_more_ratings=result.counts.get(Status.NEEDS_MORE_RATINGS, 0),
        epochs=result.epochs,
        converged=result.converged,
        warm_started=result.warm_started,
        loss=result.loss,
    )
    changed = _store_statuses(work, result, run)
    _store_raters(work, result, finished)
    state = {"fingerprint": fingerprint, "state": result.state.to_dict()}
    store.record_run(run, zlib.compress(orjson.dumps(state)))
    return Scored(run, changed)


def _ratings(found: ScorerInput, notes: dict[int, bool]) -> Ratings:
    """The scorer's input: rater ids are account ids as text."""
    note_ids = np.array(sorted(notes), dtype=np.int64)
    raters = np.array(sorted(set(found.rater_ids)), dtype=np.int64)
    return Ratings(
        note_ids=note_ids,
        note_misleading=np.array([notes[n] for n in note_ids.tolist()], dtype=bool),
        rater_ids=raters.astype(np.str_),
        rater=np.searchsorted(raters, np.array(found.rater_ids, dtype=np.int64)).astype(np.int64),
        note=np.searchsorted(note_ids, np.array(found.note_ids, dtype=np.int64)).astype(np.int64),
        value=np.array(found.values, dtype=np.float64),
    )


def _number(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def _store_statuses(work: Work, result: scoring.Result, run: RunRow) -> int:
    """Writes each note's new fit, and a history entry where its status changed."""
    now = run.finished_at
    current = {n.id: n for n in work.store.notes.iter_notes()}
    updates, changes = [], []
    for note_id, intercept, factor, status in zip(
        result.notes.ids.tolist(),
        result.notes.intercept.tolist(),
        result.notes.factor.tolist(),
        result.notes.status,
        strict=True,
    ):
        note = current.get(note_id)
        if note is None:
            continue
        values: dict[str, object] = {
            "note_id": note_id,
            "intercept": _number(intercept),
            "factor": _number(factor),
            "rating_status": status.value,
            "status_changed_at": note.status_changed_at,
            "first_status": note.first_status,
            "first_status_at": note.first_status_at,
            "latest_status": note.latest_status,
            "latest_status_at": note.latest_status_at,
        }
        if status.value != note.rating_status or note.status_changed_at is None:
            values["status_changed_at"] = now
            changes.append(
                new_change(note_id, status.value, _number(intercept), _number(factor), run.id, now)
            )
            if status is not Status.NEEDS_MORE_RATINGS:
                if not note.first_status:
                    values["first_status"], values["first_status_at"] = status.value, now
                values["latest_status"], values["latest_status_at"] = status.value, now
        updates.append(values)
    work.store.notes.apply_statuses(updates)
    work.store.notes.record_changes(changes)
    return len(changes)


def _store_raters(work: Work, result: scoring.Result, now: datetime) -> None:
    r = result.raters
    work.store.notes.replace_raters(
        [
            {
                "account_id": int(rater),
                "intercept": _number(i),
                "factor": _number(f),
                "helpfulness": _number(h),
                "ratings": int(n),
                "scored_at": now,
            }
            for rater, i, f, h, n in zip(
                r.ids.tolist(),
                r.intercept.tolist(),
                r.factor.tolist(),
                r.helpfulness.tolist(),
                r.num_ratings.tolist(),
                strict=True,
            )
        ]
    )


def runs(work: Work, limit: int = 20) -> list[RunRow]:
    return work.store.notes.runs(limit)
