"""For you: posts from the people you follow and a bounded set from beyond them, ranked by a
sum of visible signals."""

from __future__ import annotations

from collections.abc import Mapping

from parvis.domain.feeds.algorithm import (
    LABEL,
    RECENCY,
    Age,
    Algorithm,
    Input,
    Parameter,
    decay,
    part,
    saturating_log,
)
from parvis.domain.feeds.model import FOLLOWING, Candidate, Context, Part

SOURCE_WORDS = {
    FOLLOWING: "From someone you follow",
    "boosted_by_following": "Boosted by people you follow ({})",
    "liked_by_following": "Liked by people you follow ({})",
    "trending": "Trending in your languages",
}


def language_match(language: str | None, languages: tuple[str, ...]) -> float:
    """1 when the post is in one of your languages, 0 when it is in another, 1/2 when either
    is unknown."""
    if not language or not languages:
        return 0.5
    return 1.0 if language in languages else 0.0


class ForYou(Algorithm):
    name = "for_you"
    version = "1"
    title = "For you"
    summary = (
        "Posts from the people you follow and a bounded set from beyond them, ordered by a sum "
        "of visible signals: how recent a post is, how often you interact with its author, how "
        "much it was engaged with, whether people you follow replied to it, whether it is in "
        "your language and whether it comes from someone you follow; posts labelled or demoted "
        "by the moderators lose points. No signal is hidden: each item's explanation lists "
        "every part of its score."
    )
    candidates = (
        "Up to 250 posts from your home timeline of the last 72 hours (posts and boosts from "
        "the people you follow), plus up to 100 public posts of the last 48 hours from beyond "
        "them: those boosted or favourited by people you follow, and trending posts (see "
        "docs/trends.md) in your languages. Posts from people you muted or blocked, your own "
        "posts, replies to people you do not follow and posts the moderators demoted are not "
        "taken from beyond the people you follow."
    )
    inputs = (
        Input("created_at", "When the post was published."),
        Input("source", "Whether it comes from someone you follow, and if not, why it is here."),
        Input("affinity", "Your own favourites, boosts and replies to its author, last 30 days."),
        Input("favourites, reblogs, replies", "The post's public counts."),
        Input("followed_replies", "Replies to the post by people you follow."),
        Input("language", "The post's language, and yours (your posting and interface ones)."),
        Input("restriction", "A moderation label or demotion in force on the post."),
    )
    parameters = (
        RECENCY,
        Parameter(
            "half_life_hours",
            12.0,
            1.0,
            72.0,
            "Hours after which recency counts half as much.",
        ),
        Parameter(
            "affinity_weight",
            1.0,
            0.0,
            3.0,
            "Weight of how often you interacted with the author (full at 32 interactions).",
        ),
        Parameter(
            "engagement_weight",
            0.5,
            0.0,
            3.0,
            "Weight of the post's favourites, boosts and replies (full at 1,000).",
        ),
        Parameter(
            "followed_replies_weight",
            0.5,
            0.0,
            3.0,
            "Weight of replies by people you follow (full at 3).",
        ),
        Parameter("language_weight", 0.5, 0.0, 3.0, "Weight of a post being in your language."),
        Parameter(
            "following_weight",
            0.5,
            0.0,
            3.0,
            "Weight of a post coming from someone you follow rather than from beyond.",
        ),
        LABEL,
        Parameter(
            "demotion_weight",
            2.0,
            2.0,
            5.0,
            "Subtracted from a post the moderators demoted (you may make it stronger, not weaker).",
        ),
    )

    def parts(self, candidate: Candidate, params: Mapping[str, float], ctx: Context) -> list[Part]:
        c = candidate
        age = (ctx.now - c.created_at) / 3600.0
        engagement = c.favourites + c.reblogs + c.replies
        from_following = 1.0 if c.source == FOLLOWING else 0.0
        language = language_match(c.language, ctx.languages)
        parts = [
            part(
                "recency",
                decay(age, params["half_life_hours"]),
                params["recency_weight"],
                "Posted {}",
                Age(age),
            ),
            part(
                "affinity",
                saturating_log(c.affinity, 32),
                params["affinity_weight"],
                "Your interactions with the author in 30 days: {}",
                c.affinity,
            ),
            part(
                "engagement",
                saturating_log(engagement, 1000),
                params["engagement_weight"],
                "Favourites {}, boosts {}, replies {}",
                c.favourites,
                c.reblogs,
                c.replies,
            ),
            part(
                "followed_replies",
                min(1.0, c.followed_replies / 3),
                params["followed_replies_weight"],
                "Replies from people you follow: {}",
                c.followed_replies,
            ),
            part(
                "language",
                language,
                params["language_weight"],
                "In your language"
                if language == 1.0
                else ("Language unknown" if language == 0.5 else "Not in your languages"),
            ),
            part(
                "following",
                from_following,
                params["following_weight"],
                SOURCE_WORDS.get(c.source, c.source),
                c.via,
            ),
        ]
        if c.restriction == "label":
            parts.append(part("label", -1.0, params["label_weight"], "Labelled by moderators"))
        if c.restriction == "demote":
            parts.append(part("demotion", -1.0, params["demotion_weight"], "Demoted by moderators"))
        return parts
