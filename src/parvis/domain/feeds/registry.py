"""The ranked feeds this server offers. A new feed: subclass Algorithm, add it here."""

from __future__ import annotations

from parvis.domain.errors import NotFound
from parvis.domain.feeds.algorithm import Algorithm
from parvis.domain.feeds.bridging import Bridging
from parvis.domain.feeds.for_you import ForYou

FEEDS: dict[str, Algorithm] = {feed.name: feed for feed in (ForYou(), Bridging())}


def get(name: str) -> Algorithm:
    try:
        return FEEDS[name]
    except KeyError:
        raise NotFound(f"No feed called {name!r}; the feeds are: {', '.join(FEEDS)}") from None
