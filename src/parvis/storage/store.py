"""The unit of work handed to services: one connection, one transaction, every repository."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property

from sqlalchemy.engine import Connection

from parvis.storage.accounts import AccountStore
from parvis.storage.database import Database
from parvis.storage.feeds import FeedStore, SqlFeedStore
from parvis.storage.interactions import InteractionStore
from parvis.storage.media import MediaStore
from parvis.storage.notifications import NotificationStore
from parvis.storage.oauth import OAuthStore
from parvis.storage.search import SearchStore
from parvis.storage.social import SocialStore
from parvis.storage.statuses import StatusStore

FeedFactory = Callable[[Connection], FeedStore]


class Store:
    def __init__(self, conn: Connection, feed_factory: FeedFactory = SqlFeedStore) -> None:
        self.conn = conn
        self._feed_factory = feed_factory

    @cached_property
    def accounts(self) -> AccountStore:
        return AccountStore(self.conn)

    @cached_property
    def statuses(self) -> StatusStore:
        return StatusStore(self.conn, self.accounts)

    @cached_property
    def social(self) -> SocialStore:
        return SocialStore(self.conn)

    @cached_property
    def interactions(self) -> InteractionStore:
        return InteractionStore(self.conn)

    @cached_property
    def notifications(self) -> NotificationStore:
        return NotificationStore(self.conn)

    @cached_property
    def oauth(self) -> OAuthStore:
        return OAuthStore(self.conn)

    @cached_property
    def media(self) -> MediaStore:
        return MediaStore(self.conn)

    @cached_property
    def search(self) -> SearchStore:
        return SearchStore(self.conn)

    @cached_property
    def feeds(self) -> FeedStore:
        return self._feed_factory(self.conn)


class Stores:
    """Opens units of work on a Database; what services and edges are given."""

    def __init__(self, db: Database, feed_factory: FeedFactory = SqlFeedStore) -> None:
        self.db = db
        self.feed_factory = feed_factory

    @contextmanager
    def read(self) -> Iterator[Store]:
        with self.db.read() as conn:
            yield Store(conn, self.feed_factory)

    @contextmanager
    def write(self) -> Iterator[Store]:
        with self.db.write() as conn:
            yield Store(conn, self.feed_factory)
