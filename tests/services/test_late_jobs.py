"""Jobs run after the request that asked for them, sometimes after the user changed their mind:
a late notification job must not bring back what was undone."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from parvis.app import Parvis
from parvis.jobs.runtime import run_job
from parvis.services import interactions, social
from parvis.services.context import Work
from tests.builders import make_user


def _without_jobs(parvis: Parvis, use_case: Any) -> list[tuple[str, dict[str, Any]]]:
    """Run a use case and commit it, but hand back its jobs instead of running them."""
    with parvis.runtime.stores.write() as store:
        work = Work(store=store, settings=parvis.settings, clock=parvis.runtime.clock)
        use_case(work)
    return work.jobs


def _types(user: Any) -> list[str]:
    r = user.get("/api/v1/notifications")
    assert r.status_code == 200, r.text
    return sorted(n["type"] for n in r.json())


def test_late_follow_request_notification_after_authorize(
    client: TestClient, parvis: Parvis
) -> None:
    alice, bob = make_user(client, locked=True), make_user(client)
    late = _without_jobs(parvis, lambda w: social.follow(w, int(bob.id), int(alice.id)))
    assert [kind for kind, _ in late] == ["notify"]
    assert alice.post(f"/api/v1/follow_requests/{bob.id}/authorize").status_code == 200
    for kind, payload in late:  # the worker gets to the old job only now
        run_job(parvis.runtime, kind, payload)
    assert _types(alice) == ["follow"]


def test_late_favourite_notification_after_unfavourite(client: TestClient, parvis: Parvis) -> None:
    alice, bob = make_user(client), make_user(client)
    post = alice.status("hello")
    late = _without_jobs(parvis, lambda w: interactions.favourite(w, int(bob.id), int(post["id"])))
    assert bob.post(f"/api/v1/statuses/{post['id']}/unfavourite").status_code == 200
    for kind, payload in late:
        run_job(parvis.runtime, kind, payload)
    assert _types(alice) == []
