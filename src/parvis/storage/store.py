"""The unit of work handed to services: one connection, one transaction, every repository."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property

from sqlalchemy.engine import Connection

from parvis.storage.account_ips import AccountIpStore
from parvis.storage.accounts import AccountStore
from parvis.storage.activity import ActivityStore
from parvis.storage.actors import ActorStore
from parvis.storage.announcements import AnnouncementStore
from parvis.storage.conversations import ConversationStore
from parvis.storage.database import Database
from parvis.storage.deliveries import DeliveryStore
from parvis.storage.directory import DirectoryStore
from parvis.storage.domain_policy import DomainPolicyStore
from parvis.storage.edits import EditStore
from parvis.storage.erasure import ErasureStore
from parvis.storage.featured_tags import FeaturedTagStore
from parvis.storage.feeds import FeedStore, SqlFeedStore
from parvis.storage.filters import FilterStore
from parvis.storage.inbox import InboxStore
from parvis.storage.interactions import InteractionStore
from parvis.storage.labels import LabelStore
from parvis.storage.lists import ListStore
from parvis.storage.markers import MarkerStore
from parvis.storage.media import MediaStore
from parvis.storage.messaging import MessagingStore
from parvis.storage.moderation import CaseStore, DecisionStore
from parvis.storage.notes import NoteStore
from parvis.storage.notices import NoticeStore
from parvis.storage.notifications import NotificationStore
from parvis.storage.oauth import OAuthStore
from parvis.storage.polls import PollStore
from parvis.storage.quotes import QuoteStore
from parvis.storage.ranked import RankedFeedStore
from parvis.storage.registers import (
    AuthorityStore,
    FlaggerStore,
    MisuseStore,
    RosterStore,
    RuleStore,
)
from parvis.storage.remote import RemoteStore
from parvis.storage.scheduled import ScheduledStore
from parvis.storage.search import SearchStore
from parvis.storage.social import SocialStore
from parvis.storage.statements import StatementStore
from parvis.storage.statuses import StatusStore
from parvis.storage.suggestions import SuggestionStore
from parvis.storage.tag_follows import TagFollowStore
from parvis.storage.transparency_log import TransparencyLogStore
from parvis.storage.transparency_report import TransparencyReportStore
from parvis.storage.trends import TrendStore

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

    @cached_property
    def ranked(self) -> RankedFeedStore:
        return RankedFeedStore(self.conn)

    @cached_property
    def notes(self) -> NoteStore:
        return NoteStore(self.conn)

    @cached_property
    def polls(self) -> PollStore:
        return PollStore(self.conn)

    @cached_property
    def quotes(self) -> QuoteStore:
        return QuoteStore(self.conn)

    @cached_property
    def edits(self) -> EditStore:
        return EditStore(self.conn)

    @cached_property
    def scheduled(self) -> ScheduledStore:
        return ScheduledStore(self.conn)

    @cached_property
    def lists(self) -> ListStore:
        return ListStore(self.conn)

    @cached_property
    def filters(self) -> FilterStore:
        return FilterStore(self.conn)

    @cached_property
    def tag_follows(self) -> TagFollowStore:
        return TagFollowStore(self.conn)

    @cached_property
    def markers(self) -> MarkerStore:
        return MarkerStore(self.conn)

    # -- conversations, announcements, trends, suggestions, activity (engineer D) --

    @cached_property
    def conversations(self) -> ConversationStore:
        return ConversationStore(self.conn)

    @cached_property
    def announcements(self) -> AnnouncementStore:
        return AnnouncementStore(self.conn)

    @cached_property
    def trends(self) -> TrendStore:
        return TrendStore(self.conn)

    @cached_property
    def suggestions(self) -> SuggestionStore:
        return SuggestionStore(self.conn)

    @cached_property
    def activity(self) -> ActivityStore:
        return ActivityStore(self.conn)

    @cached_property
    def featured_tags(self) -> FeaturedTagStore:
        return FeaturedTagStore(self.conn)

    @cached_property
    def directory(self) -> DirectoryStore:
        return DirectoryStore(self.conn)

    @cached_property
    def notices(self) -> NoticeStore:
        return NoticeStore(self.conn)

    @cached_property
    def cases(self) -> CaseStore:
        return CaseStore(self.conn)

    @cached_property
    def decisions(self) -> DecisionStore:
        return DecisionStore(self.conn)

    @cached_property
    def statements(self) -> StatementStore:
        return StatementStore(self.conn)

    @cached_property
    def flaggers(self) -> FlaggerStore:
        return FlaggerStore(self.conn)

    @cached_property
    def authority(self) -> AuthorityStore:
        return AuthorityStore(self.conn)

    @cached_property
    def roster(self) -> RosterStore:
        return RosterStore(self.conn)

    @cached_property
    def rules(self) -> RuleStore:
        return RuleStore(self.conn)

    @cached_property
    def misuse(self) -> MisuseStore:
        return MisuseStore(self.conn)

    @cached_property
    def transparency_report(self) -> TransparencyReportStore:
        return TransparencyReportStore(self.conn)

    @cached_property
    def transparency_log(self) -> TransparencyLogStore:
        return TransparencyLogStore(self.conn)

    # Federation (ActivityPub)
    @cached_property
    def actors(self) -> ActorStore:
        return ActorStore(self.conn)

    @cached_property
    def inbox(self) -> InboxStore:
        return InboxStore(self.conn)

    @cached_property
    def remote(self) -> RemoteStore:
        return RemoteStore(self.conn)

    @cached_property
    def domain_policy(self) -> DomainPolicyStore:
        return DomainPolicyStore(self.conn)

    @cached_property
    def deliveries(self) -> DeliveryStore:
        return DeliveryStore(self.conn)

    # Labels for automation and coordination (issue 8)
    @cached_property
    def labels(self) -> LabelStore:
        return LabelStore(self.conn)

    # End-to-end encrypted messages (issue 9)
    @cached_property
    def messaging(self) -> MessagingStore:
        return MessagingStore(self.conn)

    # Network addresses kept for the moderators (ip_retention_days)
    @cached_property
    def account_ips(self) -> AccountIpStore:
        return AccountIpStore(self.conn)

    @cached_property
    def erasure(self) -> ErasureStore:
        return ErasureStore(self.conn)


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
