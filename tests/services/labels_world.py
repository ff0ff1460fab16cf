"""A world for the label tests: a settable clock, moderators with admin tokens, a clockwork bot
and a small coordinated campaign posted through the real API, the detection run through the job
registry, and the synthetic network of tests/domain/test_labels.py planted in the database
(local and remote accounts, posts with their times and applications)."""

from __future__ import annotations

import html
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.domain.ids import id_for_time
from parvis.jobs.runtime import run_job
from parvis.services import accounts
from parvis.services.label_detection import Run
from parvis.storage.tables import accounts as accounts_table
from parvis.storage.tables import oauth_apps, statuses
from tests.builders import User, make_app, make_user

START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
STAFF_SCOPES = "read write admin:read admin:write"
CAMPAIGN = [
    "The election was stolen and the media will never tell you the truth about the ballots "
    "counted in the night, share this before it gets deleted",
    "Les chiffres officiels du chômage sont truqués depuis des années, le gouvernement cache "
    "la vérité aux Français, partagez massivement avant la censure",
]


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@contextmanager
def clock(parvis: Parvis, start: datetime = START) -> Iterator[Clock]:
    saved = parvis.runtime.clock
    found = Clock(start)
    parvis.runtime.clock = found
    try:
        yield found
    finally:
        parvis.runtime.clock = saved


def staff(client: TestClient, parvis: Parvis, role: str = "moderator") -> User:
    """A user with `role`, holding a token with the admin scopes too (password grant)."""
    person = make_user(client)
    if role != "user":
        parvis.runtime.write(lambda w: accounts.set_role(w, int(person.id), role))
    app = make_app(client, STAFF_SCOPES)
    r = client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": f"{person.username}@example.org",
            "password": "correct horse battery",
            "scope": STAFF_SCOPES,
        },
    )
    assert r.status_code == 200, r.text
    return User(client, r.json()["access_token"], person.id, person.username)


def clockwork_bot(client: TestClient, clock: Clock, posts: int = 30) -> User:
    """An account posting the same template every 30 minutes, through the API."""
    bot = make_user(client)
    for k in range(posts):
        bot.status(f"Water level at the dam: {k % 9} metres, next reading soon.")
        clock.now += timedelta(minutes=30)
    return bot


def campaign(client: TestClient, clock: Clock, members: int = 4) -> list[User]:
    """New accounts posting the same two messages (slightly edited) within minutes."""
    people = [make_user(client) for _ in range(members)]
    for message in CAMPAIGN:
        for k, person in enumerate(people):
            person.status(message + (" !!" if k % 2 else ""))
            clock.now += timedelta(minutes=2)
        clock.now += timedelta(hours=3)
    return people


def detect(parvis: Parvis) -> Run:
    """The hourly job, as the queue runs it."""
    found = run_job(parvis.runtime, "detect_labels", {})
    assert isinstance(found, Run)
    return found


# -- the synthetic network of tests/domain/test_labels.py, in the database ----------------------

REMOTE = "far.example"


def plant_network(parvis: Parvis, net: Any, offset: int = 10**9) -> dict[int, int]:
    """Inserts the network's accounts (every other one remote) and posts (remote ones with HTML
    only, as federation stores them); returns network account -> database id."""
    ids = {a: offset + a for a in net.created}
    apps: dict[str, int] = {}
    app_ids = itertools.count(offset)
    for post in net.posts:
        for sample in net.samples[post.account]:
            if sample.application and sample.application not in apps:
                apps[sample.application] = next(app_ids)
    account_rows = []
    for a, created in net.created.items():
        domain = REMOTE if a % 2 else None
        name = f"n{a}"
        account_rows.append(
            {
                "id": ids[a],
                "username": name,
                "domain": domain,
                "acct_key": f"{name}@{domain or ''}",
                "uri": f"https://{domain or 'parvis.test'}/users/{name}",
                "url": f"https://{domain or 'parvis.test'}/@{name}",
                "created_at": created,
                "updated_at": created,
            }
        )
    app_of: dict[tuple[int, datetime], str | None] = {}
    for account, samples in net.samples.items():
        for s in samples:
            app_of[(account, s.created_at)] = s.application
    status_rows = []
    seen: set[int] = set()
    for post in net.posts:
        status_id = id_for_time(post.created_at, post.id % 0xFFFF)
        while status_id in seen:
            status_id += 1
        seen.add(status_id)
        remote = post.account % 2 == 1
        app = app_of.get((post.account, post.created_at))
        status_rows.append(
            {
                "id": status_id,
                "account_id": ids[post.account],
                "uri": f"https://parvis.test/statuses/{status_id}",
                "local": not remote,
                "text": "" if remote else post.text,
                "content": f"<p>{html.escape(post.text)}</p>",
                "visibility": "public",
                "application_id": apps[app] if app and not remote else None,
                "created_at": post.created_at,
            }
        )
    app_rows = [
        {
            "id": app_id,
            "name": name,
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read write",
            "client_id": f"planted-{app_id}",
            "client_secret_hash": "0" * 64,
            "created_at": START,
        }
        for name, app_id in apps.items()
    ]

    def run(work: Any) -> None:
        conn = work.store.conn
        conn.execute(insert(accounts_table), account_rows)
        if app_rows:
            conn.execute(insert(oauth_apps), app_rows)
        for k in range(0, len(status_rows), 2000):
            conn.execute(insert(statuses), status_rows[k : k + 2000])

    parvis.runtime.write(run)
    return ids
