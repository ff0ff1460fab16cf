"""Delivery: the real app and database, a fake clock, and an httpx2 MockTransport standing for
the remote inboxes (it checks every signature with the sender's public key). Success, backoff,
permanent failures, the circuit breaker, dead hosts, giving up, leases, one POST per inbox."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest

from parvis.app import Parvis, build
from parvis.domain import httpsig
from parvis.domain.ids import new_id
from parvis.jobs.http import HttpClient
from parvis.jobs.runtime import run_job
from parvis.services import accounts, outbox, posting
from parvis.services.context import Work
from parvis.storage.deliveries import DeliveryRow, HostRow, NewDelivery
from tests.conftest import make_settings

START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Farm:
    """The remote inboxes: an answer per host (a status, or "timeout"), 202 by default."""

    public_key: Any
    answers: dict[str, int | str] = field(default_factory=dict)
    posts: list[tuple[str, str]] = field(default_factory=list)  # (host, path)

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        body = request.read()
        httpsig.verify_request(
            "POST",
            str(request.url),
            dict(request.headers),
            body,
            self.public_key(),
            now=START,
            max_skew=timedelta(days=400),
        )
        self.posts.append((request.url.host, request.url.path))
        answer = self.answers.get(request.url.host, 202)
        if answer == "timeout":
            raise httpx2.ReadTimeout("no answer", request=request)
        assert isinstance(answer, int)
        return httpx2.Response(answer)

    def count(self, host: str) -> int:
        return sum(1 for h, _ in self.posts if h == host)


@dataclass
class World:
    parvis: Parvis
    clock: Clock
    farm: Farm
    alice: int

    def write(self, fn: Any) -> Any:
        return self.parvis.runtime.write(fn)

    def publish(self, *inboxes: str) -> list[int]:
        uri = f"https://parvis.test/users/alice#likes/{new_id()}"

        def run(work: Work) -> int:
            return outbox.publish(
                work,
                self.alice,
                {"id": uri, "type": "Like", "actor": "https://parvis.test/users/alice"},
                inboxes,
            )

        self.write(run)
        found = self.parvis.runtime.read(lambda w: w.store.deliveries.for_activity(uri))
        return [r.id for r in found]

    def row(self, delivery_id: int) -> DeliveryRow:
        found = self.parvis.runtime.read(lambda w: w.store.deliveries.get(delivery_id))
        assert found is not None
        return found

    def host(self, host: str) -> HostRow | None:
        return self.parvis.runtime.read(lambda w: w.store.deliveries.host(host))

    def sweep(self) -> int:
        return int(run_job(self.parvis.runtime, "deliver_due", {}))

    def advance_to(self, moment: datetime) -> None:
        assert moment >= self.clock.now
        self.clock.now = moment


@pytest.fixture
def world(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[World]:
    overrides: dict[str, Any] = getattr(request, "param", {}) or {}
    clock = Clock()
    settings = make_settings(tmp_path, **overrides)
    parvis = build(settings, clock=clock, migrate=True)
    user = parvis.runtime.write(
        lambda w: accounts.register(
            w, accounts.Registration("alice", "alice@example.org", "correct horse b", True)
        )
    )
    alice = user.account_id

    def public_key() -> str:
        pair = parvis.runtime.read(lambda w: w.store.actors.key_pair(alice))
        assert pair is not None
        return pair.public_pem

    farm = Farm(public_key)
    parvis.runtime.http = HttpClient(
        settings,
        transport=httpx2.MockTransport(farm),
        resolver=lambda host, port: ["93.184.216.34"],  # never contacted: the farm answers
        clock=clock,
    )
    yield World(parvis, clock, farm, alice)
    parvis.close()


def test_a_delivery_is_signed_and_delivered(world: World) -> None:
    (delivery,) = world.publish("https://a.example/inbox")
    row = world.row(delivery)
    assert (row.state, row.attempts, row.delivered_at) == ("delivered", 1, START)
    assert world.farm.posts == [("a.example", "/inbox")]
    host = world.host("a.example")
    assert host is not None and host.last_success_at == START
    assert host.consecutive_failures == 0


@pytest.mark.parametrize("world", [{"circuit_failures": 100}], indirect=True)
def test_transient_failures_back_off_exponentially(world: World) -> None:
    world.farm.answers["a.example"] = 503
    (delivery,) = world.publish("https://a.example/inbox")
    jitter = outbox.jitter(delivery)
    waits = []
    for attempt in range(1, 6):
        row = world.row(delivery)
        assert (row.state, row.attempts) == ("pending", attempt)
        assert "503" in row.last_error
        waits.append(row.next_attempt_at - world.clock.now)
        assert world.sweep() == 0  # not due yet: nothing sent
        assert world.farm.count("a.example") == attempt
        world.advance_to(row.next_attempt_at)
        world.sweep()
    expected = [timedelta(seconds=30 * 2**k) * (1 + jitter) for k in range(5)]
    assert [w.total_seconds() for w in waits] == pytest.approx(
        [e.total_seconds() for e in expected], abs=1e-3
    )
    world.farm.answers["a.example"] = 202
    world.advance_to(world.row(delivery).next_attempt_at)
    world.sweep()
    assert world.row(delivery).state == "delivered"


def test_the_jitter_is_fixed_per_delivery_and_spread() -> None:
    values = {outbox.jitter(i) for i in range(1000, 1100)}
    assert all(0 <= v <= 0.25 for v in values) and len(values) > 50
    assert outbox.jitter(1234) == outbox.jitter(1234)
    assert outbox.backoff(30, 1) == outbox.MAX_DELAY * (1 + outbox.jitter(1))


def test_a_permanent_failure_fails_at_once_and_the_host_stays_healthy(world: World) -> None:
    world.farm.answers["a.example"] = 404
    (delivery,) = world.publish("https://a.example/users/gone/inbox")
    row = world.row(delivery)
    assert (row.state, row.attempts) == ("failed", 1)
    assert "404" in row.last_error
    world.advance_to(START + timedelta(days=1))
    world.sweep()
    assert world.farm.count("a.example") == 1
    host = world.host("a.example")
    assert host is not None and host.consecutive_failures == 0 and host.open_until is None


def test_an_unsafe_inbox_fails_without_a_request(world: World) -> None:
    (delivery,) = world.publish("http://10.0.0.1/inbox")
    row = world.row(delivery)
    assert row.state == "failed" and "non-public" in row.last_error
    assert world.farm.posts == []
    assert world.host("10.0.0.1") is None  # nobody answered: nothing learnt of the host


@pytest.mark.parametrize("world", [{"circuit_failures": 3}], indirect=True)
def test_the_circuit_opens_after_consecutive_failures_and_closes_on_success(
    world: World,
) -> None:
    world.farm.answers["a.example"] = "timeout"
    first = [world.publish("https://a.example/inbox")[0] for _ in range(3)]
    host = world.host("a.example")
    assert host is not None and host.consecutive_failures == 3
    assert host.open_until == START + outbox.CIRCUIT_OPEN
    # While it is open: no request at all, the rows wait (not counted as attempts)...
    (waiting,) = world.publish("https://a.example/inbox")
    assert world.farm.count("a.example") == 3
    row = world.row(waiting)
    assert row.attempts == 0 and row.next_attempt_at >= START + outbox.CIRCUIT_OPEN
    world.advance_to(START + timedelta(minutes=30))
    assert world.sweep() == 0
    assert world.farm.count("a.example") == 3
    # ...and other hosts are not held up.
    (other,) = world.publish("https://b.example/inbox")
    assert world.row(other).state == "delivered"
    # After the hour, the host answers again: everything goes, the circuit closes.
    world.farm.answers["a.example"] = 202
    world.advance_to(START + outbox.CIRCUIT_OPEN + timedelta(minutes=1))
    assert world.sweep() == 4
    assert {world.row(d).state for d in [*first, waiting]} == {"delivered"}
    host = world.host("a.example")
    assert host is not None
    assert (host.consecutive_failures, host.open_until, host.dead_at) == (0, None, None)


def run_until_settled(world: World, delivery: int, limit: int = 500) -> list[datetime]:
    """Move the clock to each next attempt (or the circuit's reopening) and sweep, until the
    row is no longer pending; returns when each attempt was made."""
    attempts: list[datetime] = [world.clock.now]
    for _ in range(limit):
        row = world.row(delivery)
        if row.state != "pending":
            return attempts
        before = world.farm.count("a.example")
        world.advance_to(max(row.next_attempt_at, world.clock.now))
        world.sweep()
        if world.farm.count("a.example") > before:
            attempts.append(world.clock.now)
    raise AssertionError("still pending")


@pytest.mark.parametrize(
    "world",
    [{"circuit_failures": 2, "federation_dead_days": 2, "delivery_max_days": 30}],
    indirect=True,
)
def test_a_host_failing_for_days_is_dead_until_retried(world: World) -> None:
    world.farm.answers["a.example"] = 503
    (delivery,) = world.publish("https://a.example/inbox")
    attempts = run_until_settled(world, delivery)
    row = world.row(delivery)
    assert row.state == "failed" and "dead" in row.last_error
    host = world.host("a.example")
    assert host is not None and host.dead_at is not None
    assert timedelta(days=2) <= host.dead_at - START <= timedelta(days=2, hours=13)
    assert attempts[-1] == host.dead_at
    # A dead host gets nothing new written, and the sweep leaves it alone.
    assert world.publish("https://a.example/inbox") == []
    sent = world.farm.count("a.example")
    world.advance_to(world.clock.now + timedelta(days=1))
    world.sweep()
    assert world.farm.count("a.example") == sent
    # A row queued before the host died is failed by the sweep, without a request.
    late = world.write(
        lambda w: w.store.deliveries.add_many(
            [
                NewDelivery(
                    "https://parvis.test/x",
                    world.alice,
                    "https://a.example/inbox",
                    "a.example",
                    "{}",
                )
            ],
            w.now(),
            w.now(),
        )
    )[0]
    world.sweep()
    assert world.row(late).state == "failed" and world.farm.count("a.example") == sent
    # The operator retries it (or it is heard from): it lives again.
    world.farm.answers["a.example"] = 202
    assert world.write(lambda w: outbox.retry(w, "a.example")) == 2
    world.sweep()
    assert world.row(delivery).state == world.row(late).state == "delivered"
    host = world.host("a.example")
    assert host is not None and host.dead_at is None


@pytest.mark.parametrize(
    "world",
    [{"circuit_failures": 1000, "federation_dead_days": 60, "delivery_max_days": 1}],
    indirect=True,
)
def test_a_delivery_is_given_up_after_delivery_max_days(world: World) -> None:
    world.farm.answers["a.example"] = 500
    (delivery,) = world.publish("https://a.example/inbox")
    attempts = run_until_settled(world, delivery)
    row = world.row(delivery)
    assert row.state == "failed" and "given up" in row.last_error
    assert attempts[-1] - START <= timedelta(days=1)
    assert row.attempts == len(attempts)
    # 30 s, 1, 2, 4 ... min: every retry within the day, the next one would fall after it.
    spent = sum((outbox.backoff(k, delivery) for k in range(1, len(attempts))), timedelta())
    assert spent <= timedelta(days=1) < spent + outbox.backoff(len(attempts), delivery)


def test_one_post_per_distinct_inbox_for_a_status(world: World) -> None:
    def follower(work: Work, domain: str, name: str, shared: bool) -> None:
        account_id, now = new_id(), work.now()
        work.store.accounts.insert(
            {
                "id": account_id,
                "username": name,
                "domain": domain,
                "uri": f"https://{domain}/users/{name}",
                "url": f"https://{domain}/@{name}",
                "inbox_uri": f"https://{domain}/users/{name}/inbox",
                "shared_inbox_uri": f"https://{domain}/inbox" if shared else None,
                "created_at": now,
                "updated_at": now,
            }
        )
        work.store.social.add("follows", account_id, world.alice, now)

    for i in range(5):
        world.write(lambda w, i=i: follower(w, "a.example", f"fan{i}", True))
    world.write(lambda w: follower(w, "b.example", "solo", False))
    world.write(lambda w: posting.create_status(w, world.alice, posting.NewStatus(text="hi")))
    assert sorted(world.farm.posts) == [("a.example", "/inbox"), ("b.example", "/users/solo/inbox")]


def test_a_lost_job_is_taken_again_when_its_lease_ends(world: World) -> None:
    http = world.parvis.runtime.http
    world.parvis.runtime.http = None  # the job runs but cannot send (as if lost)
    (delivery,) = world.publish("https://a.example/inbox")
    world.parvis.runtime.http = http
    assert world.sweep() == 0  # leased to the job that was asked for
    world.advance_to(START + outbox.LEASE)
    assert world.sweep() == 1
    assert world.row(delivery).state == "delivered"
    assert world.sweep() == 0
    assert world.farm.posts == [("a.example", "/inbox")]


@pytest.mark.parametrize("world", [{"federation_enabled": False}], indirect=True)
def test_nothing_is_written_when_federation_is_off(world: World) -> None:
    world.write(lambda w: posting.create_status(w, world.alice, posting.NewStatus(text="hi")))
    (delivery,) = world.publish("https://a.example/inbox")  # the outbox itself still queues
    assert world.row(delivery).state == "pending" and world.farm.posts == []


# -- the operator's view: `parvis federation` ------------------------------------------------------


def invoke(*args: str) -> tuple[int, str]:
    from typer.testing import CliRunner

    import parvis.cli.federation  # noqa: F401  (registers `parvis federation`)
    from parvis.cli import app as cli

    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, " ".join(result.output.split())  # rich wraps long lines


@pytest.mark.parametrize(
    "world", [{"circuit_failures": 2, "federation_dead_days": 1}], indirect=True
)
def test_the_federation_commands(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("DATABASE_URL", "REDIS_URL", "PARVIS_DATA_DIR", "PARVIS_JOBS_IMMEDIATE"):
        monkeypatch.delenv(var, raising=False)
    data = ["--data-dir", str(tmp_path / "data")]
    world.publish("https://ok.example/inbox")
    world.farm.answers["down.example"] = 503
    (failing,) = world.publish("https://down.example/inbox")
    world.farm.answers["gone.example"] = 410
    world.publish("https://gone.example/inbox")

    code, out = invoke(*data, "federation", "deliveries", "--recent", "5")
    assert code == 0
    assert "Deliveries: 1 pending, 1 delivered, 1 failed." in out
    assert "down.example 1 0 0" in out and "gone.example 0 0 1" in out
    assert "HTTP 410" in out and "HTTP 503" in out

    code, out = invoke(*data, "federation", "hosts")
    assert code == 0 and "down.example failing 1 failures in a row" in out
    run_until_settled(world, failing)
    code, out = invoke(*data, "federation", "hosts")
    assert "down.example DEAD since" in out

    code, out = invoke(*data, "federation", "retry", "--host", "down.example")
    assert code == 0 and "1 failed deliveries for down.example will be tried again." in out
    code, out = invoke(*data, "federation", "hosts")
    assert "Every remote host answers." in out
    assert world.row(failing).state == "pending"

    for command in ("deliveries", "hosts", "retry"):
        code, out = invoke("federation", command, "--help")
        assert code == 0 and len(out) > 80
