"""Community notes to other Parvis servers, in the background (services/notes_federation.py):
one job per change, asked for by services/notes.py once the change is committed. Each builds
the activity in a read unit, asks the candidate hosts what they run when that is not known yet
(NodeInfo, no transaction open), then writes the deliveries for the Parvis ones into the outbox
(jobs/deliver.py sends them, signed, with its retries). Returns how many deliveries it wrote.
"""

from __future__ import annotations

from typing import Any

from parvis.services import notes_federation
from parvis.services.remote_actors import Network


def note_created(runtime: Network, note_id: int) -> int:
    found = runtime.read(lambda work: notes_federation.note_created(work, note_id))
    return notes_federation.send(runtime, found)


def note_deleted(runtime: Network, note_uri: str, author_id: int, status_id: int) -> int:
    found = runtime.read(
        lambda work: notes_federation.note_deleted(work, note_uri, author_id, status_id)
    )
    return notes_federation.send(runtime, found)


def note_rated(runtime: Network, note_id: int, rater_id: int) -> int:
    found = runtime.read(lambda work: notes_federation.note_rated(work, note_id, rater_id))
    return notes_federation.send(runtime, found)


def note_unrated(runtime: Network, note_id: int, rater_id: int, rated_at: str) -> int:
    found = runtime.read(
        lambda work: notes_federation.note_unrated(work, note_id, rater_id, rated_at)
    )
    return notes_federation.send(runtime, found)


JOBS: dict[str, Any] = {}
OUTBOUND: dict[str, Any] = {
    "federate_note_created": note_created,
    "federate_note_deleted": note_deleted,
    "federate_note_rated": note_rated,
    "federate_note_unrated": note_unrated,
}
# A failure here is a bug or the database: the network's failures are the outbox's to retry
# (a host that cannot say what it runs is asked again the next time).
RETRIES: dict[str, int] = dict.fromkeys(OUTBOUND, 2)
