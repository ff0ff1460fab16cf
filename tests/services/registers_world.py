"""A small world for the register tests: a server with a settable clock, users made through the
API, notices and decisions through the real moderation services."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from starlette.testclient import TestClient

from parvis.app import Parvis, build, create_app
from parvis.services import accounts, moderation, notices
from parvis.services.context import Work
from parvis.storage.moderation import DecisionRow
from tests.builders import User, make_user
from tests.conftest import make_settings

T = TypeVar("T")
START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class World:
    def __init__(self, parvis: Parvis, client: TestClient, clock: Clock) -> None:
        self.parvis, self.client, self.clock = parvis, client, clock

    def write(self, fn: Callable[[Work], T]) -> T:
        return self.parvis.runtime.write(fn)

    def read(self, fn: Callable[[Work], T]) -> T:
        return self.parvis.runtime.read(fn)

    def user(self, role: str = "user") -> User:
        made = make_user(self.client)
        if role != "user":
            self.write(lambda w: accounts.set_role(w, int(made.id), role))
        return made

    def post(self, user: User, text: str = "Something") -> int:
        return int(user.status(text)["id"])

    def report(
        self,
        reporter: User | None,
        status_id: int,
        category: str = "racial_hatred",
    ) -> int:
        """A notice; from a trusted flagger's account it takes the flagger's lane by itself."""
        notice = notices.NewNotice(
            category=category,
            explanation="It insults a group of people.",
            items=(notices.Item(status_id=status_id),),
            good_faith=True,
        )
        who = int(reporter.id) if reporter else None
        receipt = self.write(lambda w: notices.submit(w, who, notice))
        return receipt.notice.id

    def case_of(self, status_id: int) -> int:
        found = self.read(lambda w: w.store.cases.for_subject("status", status_id))
        assert found is not None
        return found.id

    def decide(self, mod: User, status_id: int, **verdict: Any) -> DecisionRow:
        v = moderation.Verdict(**verdict)
        case_id = self.case_of(status_id)
        return self.write(lambda w: moderation.decide(w, int(mod.id), case_id, v))

    def remove(self, mod: User, status_id: int, misuse: str = "") -> DecisionRow:
        return self.decide(
            mod,
            status_id,
            action="remove",
            ground="law",
            legal_ground="Loi du 29 juillet 1881, art. 24",
            explanation="Incitement to racial hatred.",
            misuse=misuse,
        )

    def reject(self, mod: User, status_id: int, misuse: str = "") -> DecisionRow:
        return self.decide(
            mod, status_id, action="none", explanation="Lawful criticism.", misuse=misuse
        )

    def warn(self, mod: User, account_id: int, misuse: str) -> DecisionRow:
        v = moderation.Verdict(
            action="warn",
            ground="rule",
            rule_id="1",
            explanation="Repeated misuse of the service.",
            misuse=misuse,
        )
        return self.write(
            lambda w: moderation.own_initiative(w, int(mod.id), "account", account_id, v)
        )


@contextmanager
def world(tmp_path: Path, **settings: Any) -> Iterator[World]:
    clock = Clock()
    parvis = build(make_settings(tmp_path, **settings), clock=clock, migrate=True)
    try:
        with TestClient(
            create_app(parvis, embedded_worker=False), base_url="https://parvis.test"
        ) as c:
            yield World(parvis, c, clock)
    finally:
        parvis.close()
