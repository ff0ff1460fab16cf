"""Community notes travel with their post between Parvis servers (issue 8; the extension is
domain/activitypub/notes.py, described for implementers in FEDERATION.md).

Out. services/notes.py asks for a job after each change (a note written or deleted, a rating
given, changed or withdrawn); the job (jobs/notes_federation.py) builds the activity here in a
read unit, learns what software the candidate hosts run (services/nodeinfo.py, no transaction
open), then hands the activity to the outbox (signed, retried) for the hosts that run Parvis
only: servers that do not know the extension are never sent it. Who is a candidate: the post's
author's server and the servers of the post author's followers that this server knows (where
the post itself went); for a rating, the note's author's server too. Notes by local authors
and ratings by local raters only: what arrived from elsewhere is never sent on.

In. At the inbox door (`check`, before anything is stored): a note must read as one (400),
come from its author (403), pass the rules of local drafts (`notes.draft_errors`) and be about
a public post this server has (422); a rating must read as one (400), have a known answer and
tags (422), and be of a note this server has (422). A post or note that is not here yet but
whose `Create` waits in the inbox is let through, and its processing retried until it lands.
Processing (`receive`, in the unit of work that applies the activity) checks again, then
stores the note (idempotent by URI) or the rating (one per rater and note, replaced by a newer
one), or removes them on `Delete` / `Undo` from their author. A remote rater takes part under
the local rules, as a remote author does: an account at least `notes_min_account_days` old (by
the `published` date of its actor, else since this server first saw it), not suspended, in good
standing, within the daily cap, never on their own note or post. Each server then scores the
union of what it knows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from parvis.domain.activitypub import notes as notes_ap
from parvis.domain.activitypub import parse
from parvis.domain.errors import Forbidden, Invalid, NotFound
from parvis.domain.ids import new_id
from parvis.domain.models import Account, Status
from parvis.domain.notes.model import Status as NoteStatus
from parvis.domain.notes.model import tags_for
from parvis.domain.visibility import Visibility
from parvis.services import nodeinfo, notes, outbox
from parvis.services.context import Work
from parvis.services.fetching import FetchError
from parvis.services.posting import visible_status
from parvis.services.remote_actors import Network
from parvis.storage.notes import NoteRow

JSON = dict[str, Any]
PUBLIC = (Visibility.PUBLIC, Visibility.UNLISTED)
CLASSIFICATION_KEYS = {c.value: key for key, c in notes.CLASSIFICATIONS.items()}
HELPFULNESS_KEYS = {h.value: key for key, h in notes.HELPFULNESS.items()}


@dataclass(frozen=True)
class Outgoing:
    """An activity to deliver: whose key signs it, and the candidate inboxes (before the
    Parvis-only filter)."""

    account_id: int
    activity: JSON
    inboxes: tuple[str, ...]


# -- out ---------------------------------------------------------------------------------------


def _audience(work: Work, status: Status, also: Sequence[int] = ()) -> tuple[str, ...]:
    """The post's author's inbox (when remote) and its author's followers' (where it went),
    and the inboxes of the remote accounts in `also`."""
    inboxes = outbox.inboxes_of(work, [status.account.id, *also])
    inboxes += outbox.follower_inboxes(work, status.account.id)
    return tuple(sorted(set(inboxes)))


def _local_account(work: Work, account_id: int) -> Account | None:
    account = work.store.accounts.get(account_id)
    return account if account is not None and account.local else None


def _document(note: NoteRow, status: Status, author: Account | None) -> notes_ap.NoteDoc:
    return notes_ap.NoteDoc(
        uri=note.uri,
        about=status.uri,
        summary=note.summary,
        classification=CLASSIFICATION_KEYS.get(note.classification, "misleading"),
        reasons=note.reasons,
        sources=note.sources,
        language=note.language,
        published=note.created_at,
        attributed_to=author.uri if author is not None else None,
    )


def note_created(work: Work, note_id: int) -> Outgoing | None:
    """Create(CommunityNote) of a local author's note; None when there is nobody to tell."""
    note = work.store.notes.get(note_id)
    author = _local_account(work, note.author_id) if note is not None else None
    status = work.store.statuses.get(note.status_id) if note is not None else None
    if note is None or author is None or status is None:
        return None
    inboxes = _audience(work, status)
    if not inboxes:
        return None
    return Outgoing(author.id, notes_ap.create(_document(note, status, author)), inboxes)


def note_deleted(work: Work, note_uri: str, author_id: int, status_id: int) -> Outgoing | None:
    """Delete of a local author's note (its row is gone; the post is still here, unless the
    post went too, and then so did every copy of the note with it)."""
    author = _local_account(work, author_id)
    status = work.store.statuses.get(status_id)
    if author is None or status is None:
        return None
    inboxes = _audience(work, status)
    if not inboxes:
        return None
    return Outgoing(author.id, notes_ap.delete(note_uri, author.uri), inboxes)


def _rating_target(
    work: Work, note_id: int, rater_id: int
) -> tuple[NoteRow, Account, tuple[str, ...]] | None:
    note = work.store.notes.get(note_id)
    rater = _local_account(work, rater_id)
    status = work.store.statuses.get(note.status_id) if note is not None else None
    if note is None or rater is None or status is None:
        return None
    return note, rater, _audience(work, status, [note.author_id])


def note_rated(work: Work, note_id: int, rater_id: int) -> Outgoing | None:
    """NoteRating: the rater's current rating of the note (a rating withdrawn since: None,
    its Undo follows)."""
    found = _rating_target(work, note_id, rater_id)
    rating = work.store.notes.rating(note_id, rater_id)
    if found is None or rating is None or not found[2]:
        return None
    note, rater, inboxes = found
    activity = notes_ap.rating(
        notes_ap.rating_id(rater.uri, note.id, rating.updated_at),
        rater.uri,
        note.uri,
        HELPFULNESS_KEYS.get(rating.helpfulness, "helpful"),
        rating.tags,
        rating.updated_at,
    )
    return Outgoing(rater.id, activity, inboxes)


def note_unrated(work: Work, note_id: int, rater_id: int, rated_at: str) -> Outgoing | None:
    """Undo(NoteRating) of the rating given at `rated_at` (ISO 8601)."""
    found = _rating_target(work, note_id, rater_id)
    if found is None or not found[2]:
        return None
    note, rater, inboxes = found
    undone = notes_ap.rating_id(rater.uri, note.id, datetime.fromisoformat(rated_at))
    return Outgoing(rater.id, notes_ap.undo_rating(undone, rater.uri, note.uri), inboxes)


def send(net: Network, outgoing: Outgoing | None) -> int:
    """Queue the activity in the outbox for the candidate inboxes on hosts that run Parvis;
    how many deliveries were written."""
    if outgoing is None or not outgoing.inboxes or not net.settings.federation_enabled:
        return 0
    software = nodeinfo.software_of(net, outgoing.inboxes)
    wanted = [
        inbox
        for inbox in outgoing.inboxes
        if software.get(nodeinfo.host_key(inbox) or "") == nodeinfo.PARVIS
    ]
    if not wanted:
        return 0
    return net.write(
        lambda work: outbox.publish(work, outgoing.account_id, outgoing.activity, wanted)
    )


def note_document(work: Work, note_id: int, *, signed: bool) -> JSON:
    """The CommunityNote at its URI (`/notes/{id}`), for notes written here on posts anyone
    may see. The author is named to signed fetches (servers) only: readers never see who wrote
    a note."""
    note = work.store.notes.get(note_id)
    if note is None or note.uri != f"{work.settings.base_url}/notes/{note_id}":
        raise NotFound("Record not found")
    status = visible_status(work, None, note.status_id)
    author = work.store.accounts.get(note.author_id) if signed else None
    return notes_ap.note(_document(note, status, author))


# -- in: the inbox door ------------------------------------------------------------------------


def _draft(note: notes_ap.RemoteCommunityNote) -> notes.Draft:
    return notes.Draft(
        classification=note.classification,
        reasons=note.reasons,
        summary=note.summary,
        sources=note.sources,
        language=note.language,
    )


def rating_errors(helpfulness: str, tags: Sequence[str]) -> list[str]:
    """What is wrong with a rating's answer and tags (the rules of services.notes.rate)."""
    level = notes.HELPFULNESS.get(helpfulness)
    if level is None:
        return ["helpfulness: helpful, somewhat_helpful or not_helpful"]
    allowed = tags_for(level)
    unknown = [t for t in tags if t not in allowed]
    if unknown:
        listed = ", ".join(repr(t)[:40] for t in unknown[:3])
        return [f"tags: unknown {listed}; one of {', '.join(allowed)}"]
    return []


def _created_note(activity: parse.Activity) -> Mapping[str, Any] | None:
    """The embedded CommunityNote of a Create or Update, if that is what it carries."""
    if activity.type not in ("Create", "Update"):
        return None
    obj = activity.object
    return obj if notes_ap.type_of(obj) == notes_ap.NOTE_TYPE else None


def _post(work: Work, uri: str) -> Status | None:
    status_id = work.store.remote.status_id(uri)
    return work.store.statuses.get(status_id) if status_id is not None else None


def _waiting(work: Work, uri: str) -> bool:
    """Whether the object's Create (`{uri}/activity`, as Parvis and Mastodon name it) was
    received and is still to be processed."""
    row = work.store.inbox.by_activity(f"{uri}/activity")
    return row is not None and row.state in ("pending", "retry")


def _check_post(work: Work, uri: str) -> None:
    status = _post(work, uri)
    if status is None:
        if not _waiting(work, uri):
            raise Invalid("Validation failed: about: no such post on this server")
        return
    if status.reblog_of_id is not None or status.visibility not in PUBLIC:
        raise Invalid("Validation failed: about: notes are added to public posts only")


def _check_note(work: Work, uri: str) -> None:
    if work.store.notes.by_uri(uri) is None and not _waiting(work, uri):
        raise Invalid("Validation failed: object: no such note on this server")


_WIRE_NAMES = {"summary": "content", "language": "contentMap"}


def _wire_name(error: str) -> str:
    """A draft's error named by the document's field (`content`, not the API's `summary`)."""
    field, colon, rest = error.partition(":")
    return _WIRE_NAMES.get(field, field) + colon + rest


def check(net: Network, activity: parse.Activity) -> None:
    """Refuse, before it is stored, a notes activity that is malformed (Malformed, 400), forged
    (Forbidden, 403) or invalid or about something this server does not have (Invalid, 422).
    Anything else passes untouched."""
    obj = _created_note(activity)
    if obj is not None:
        note = notes_ap.community_note(obj)
        if note.attributed_to != activity.actor:
            raise Forbidden("This action is not allowed: the note's author is not the actor")
        errors = [_wire_name(e) for e in notes.draft_errors(_draft(note))]
        if errors:
            raise Invalid("Validation failed: " + "; ".join(errors))
        net.read(lambda work: _check_post(work, note.about))
    elif notes_ap.is_rating(activity.type):
        rating = notes_ap.note_rating(activity)
        errors = rating_errors(rating.helpfulness, rating.tags)
        if errors:
            raise Invalid("Validation failed: " + "; ".join(errors))
        net.read(lambda work: _check_note(work, rating.note))


# -- in: applying ------------------------------------------------------------------------------


class NotYet(FetchError):
    """What the activity is about has not landed yet (its Create waits in the inbox): the
    inbound job retries it later, as it does when a server is unreachable."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} is not here yet (its Create waits in the inbox)")


def receive(
    work: Work, activity: parse.Activity, obj: Mapping[str, Any] | None, actor: Account
) -> str | None:
    """Apply a notes activity (in the unit of work of services/inbound.py `apply`): a short
    outcome, or None when the activity is not about notes."""
    kind = notes_ap.compact(activity.type)
    if kind in ("Create", "Update") and notes_ap.type_of(obj) == notes_ap.NOTE_TYPE:
        if kind == "Update":
            return "ignored: community notes are not edited"
        assert obj is not None
        return _store_note(work, notes_ap.community_note(obj), actor)
    if notes_ap.is_rating(kind):
        return _store_rating(work, notes_ap.note_rating(activity), actor)
    if kind == "Undo":
        undone = parse.inner(activity)
        if undone is not None and notes_ap.is_rating(undone.type):
            return _withdraw(work, undone, actor)
        return None
    if kind == "Delete" and activity.object_id:
        found = work.store.notes.by_uri(activity.object_id)
        if found is None:
            return None
        if found.author_id != actor.id:
            return "ignored: only a note's author deletes it"
        work.store.notes.delete(found.id)
        return "note deleted"
    return None


def _visible_post(work: Work, uri: str, viewer: Account) -> Status | str:
    """The post (original, public, visible to the actor), or why not."""
    status = _post(work, uri)
    if status is None:
        if _waiting(work, uri):
            raise NotYet(uri)
        return "ignored: no such post on this server"
    try:
        visible_status(work, viewer.id, status.id)
    except NotFound:
        return "ignored: the post is not visible to the actor"
    if status.reblog_of_id is not None or status.visibility not in PUBLIC:
        return "ignored: notes are added to public posts only"
    return status


def _store_note(work: Work, note: notes_ap.RemoteCommunityNote, actor: Account) -> str:
    if note.attributed_to != actor.uri:
        return "ignored: the note's author is not the actor"
    if work.store.notes.by_uri(note.uri) is not None:
        return "ignored: the note is already here"
    problem = participant_problem(work, actor, "author")
    if problem is not None:
        return f"ignored: {problem}"
    status = _visible_post(work, note.about, actor)
    if isinstance(status, str):
        return status
    if status.account.id == actor.id:
        return "ignored: a note on the author's own post"
    errors = notes.draft_errors(_draft(note))
    if errors:
        return "ignored: Validation failed: " + "; ".join(errors)
    if work.store.notes.by_author_on(actor.id, status.id) is not None:
        return "ignored: the author already wrote a note on this post"
    now = work.now()
    if (
        work.store.notes.written_since(actor.id, now - timedelta(days=1))
        >= work.settings.notes_per_day
    ):
        return f"ignored: at most {work.settings.notes_per_day} notes a day"
    classification = notes.CLASSIFICATIONS[note.classification]
    work.store.notes.insert(
        NoteRow(
            id=new_id(),
            uri=note.uri,
            status_id=status.id,
            author_id=actor.id,
            classification=classification.value,
            reasons=tuple(note.reasons),
            summary=note.summary.strip(),
            sources=tuple(s.strip() for s in note.sources),
            language=note.language.strip(),
            created_at=min(note.published, now) if note.published is not None else now,
            rating_status=NoteStatus.NEEDS_MORE_RATINGS.value,
            intercept=None,
            factor=None,
            status_changed_at=None,
            first_status="",
            first_status_at=None,
            latest_status="",
            latest_status_at=None,
        )
    )
    return "note stored"


def participant_problem(work: Work, account: Account, role: str) -> str | None:
    """Why a remote account may not write (`role` "author") or rate ("rater") here, under the
    local rules, or None."""
    if account.suspended:
        return f"the {role} is suspended here"
    days = work.settings.notes_min_account_days
    if work.now() < account.created_at + timedelta(days=days):
        return f"the {role}'s account is not {days} days old"
    if not notes.in_good_standing(work, account.id):
        return f"a moderation decision bars the {role}"
    return None


def _store_rating(work: Work, rating: notes_ap.RemoteRating, actor: Account) -> str:
    note = work.store.notes.by_uri(rating.note)
    if note is None:
        if _waiting(work, rating.note):
            raise NotYet(rating.note)
        return "ignored: no such note on this server"
    problem = participant_problem(work, actor, "rater")
    if problem is not None:
        return f"ignored: {problem}"
    if note.author_id == actor.id:
        return "ignored: a rating of the rater's own note"
    try:
        visible_status(work, actor.id, note.status_id)
    except NotFound:
        return "ignored: the post is not visible to the rater"
    errors = rating_errors(rating.helpfulness, rating.tags)
    if errors:
        return "ignored: Validation failed: " + "; ".join(errors)
    now = work.now()
    if work.store.notes.rating(note.id, actor.id) is None and (
        work.store.notes.ratings_since(actor.id, now - timedelta(days=1))
        >= work.settings.note_ratings_per_day
    ):
        return f"ignored: at most {work.settings.note_ratings_per_day} ratings a day"
    level = notes.HELPFULNESS[rating.helpfulness]
    work.store.notes.rate(note.id, actor.id, level.value, rating.tags, now, uri=rating.id)
    return "rating stored"


def _withdraw(work: Work, undone: parse.Activity, actor: Account) -> str:
    if undone.actor != actor.uri:
        return "ignored: undoing someone else's rating"
    note = work.store.notes.by_uri(undone.object_id or "")
    rating = work.store.notes.rating(note.id, actor.id) if note is not None else None
    if note is None or rating is None:
        return "ignored: no such rating"
    if rating.uri is not None and rating.uri != undone.id:
        return "ignored: the rating was replaced since"
    work.store.notes.unrate(note.id, actor.id)
    return "rating withdrawn"
