"""Bridging: posts appreciated by people who usually disagree with each other rank above posts
that only one side engages with, whatever their raw engagement."""

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
from parvis.domain.feeds.model import Candidate, Context, Part

FULL_AT = 16.0  # appreciation of this weight on both sides gives the bridging signal its full 1


class Bridging(Algorithm):
    name = "bridging"
    version = "1"
    title = "Bridging"
    summary = (
        "Posts that people who usually disagree both appreciate. From who favourites and "
        "boosts what on this server, the same idea as the community notes model estimates one "
        "axis along which people's engagement differs (parvis.domain.feeds.viewpoints): each "
        "active account gets a position on it, from −1 to 1, that is never published. A post's "
        "appreciation on side A is the sum of the positions of those on the positive side who "
        "favourited or boosted it, side B the same on the negative side. The feed rewards the "
        "smaller of the two — appreciation from both sides — and takes points from posts "
        "appreciated mostly by one side, so that engagement bait liked by one camp only does "
        "not rise."
    )
    candidates = (
        "Up to 400 public posts of the last 72 hours that someone on this server favourited or "
        "boosted, most appreciated first, from authors you have not muted or blocked; posts the "
        "moderators demoted are left out."
    )
    inputs = (
        Input("created_at", "When the post was published."),
        Input("side_a, side_b", "Appreciation from each side (recomputed every 15 minutes)."),
        Input("favourites, reblogs, replies", "The post's public counts."),
        Input("restriction", "A moderation label in force on the post."),
    )
    parameters = (
        Parameter(
            "bridge_weight",
            2.0,
            0.0,
            5.0,
            f"Weight of appreciation from both sides (the smaller side; full at {FULL_AT:g}).",
        ),
        Parameter(
            "one_sided_weight",
            0.5,
            0.0,
            3.0,
            "Subtracted in proportion to how one-sided the appreciation is.",
        ),
        Parameter(
            "engagement_weight",
            0.2,
            0.0,
            3.0,
            "Weight of the post's raw favourites, boosts and replies (full at 1,000).",
        ),
        RECENCY,
        Parameter(
            "half_life_hours",
            24.0,
            1.0,
            96.0,
            "Hours after which recency counts half as much.",
        ),
        LABEL,
    )

    def parts(self, candidate: Candidate, params: Mapping[str, float], ctx: Context) -> list[Part]:
        c = candidate
        age = (ctx.now - c.created_at) / 3600.0
        a, b = max(c.side_a, 0.0), max(c.side_b, 0.0)
        total = a + b
        imbalance = abs(a - b) / total if total > 0 else 0.0
        parts = [
            part(
                "bridge",
                saturating_log(min(a, b), FULL_AT),
                params["bridge_weight"],
                "Appreciated on both sides: {:.1f} on one, {:.1f} on the other",
                a,
                b,
            ),
            part(
                "one_sided",
                -imbalance * saturating_log(total, FULL_AT),
                params["one_sided_weight"],
                "{}% of its appreciation leans to one side",
                round(100 * imbalance),
            ),
            part(
                "engagement",
                saturating_log(c.favourites + c.reblogs + c.replies, 1000),
                params["engagement_weight"],
                "Favourites {}, boosts {}, replies {}",
                c.favourites,
                c.reblogs,
                c.replies,
            ),
            part(
                "recency",
                decay(age, params["half_life_hours"]),
                params["recency_weight"],
                "Posted {}",
                Age(age),
            ),
        ]
        if c.restriction == "label":
            parts.append(part("label", -1.0, params["label_weight"], "Labelled by moderators"))
        return parts
