"""The server's texts for people: the about page, the privacy policy and the terms of service,
as HTML built from the settings (operators' plain text, or Parvis's own defaults). Shown by the
client API (`/api/v1/instance/...`) and by the web app (`/about`, `/privacy`)."""

from __future__ import annotations

import html
import re

from parvis.config import Settings


def paragraphs(text: str) -> str:
    """Plain text as HTML: escaped, blank lines between paragraphs, line breaks kept."""
    parts = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").strip())
    return "".join(
        f"<p>{html.escape(part.strip()).replace(chr(10), '<br>')}</p>\n"
        for part in parts
        if part.strip()
    )


def _ranked_feeds(settings: Settings) -> str:
    days = settings.feed_log_days
    kept = (
        f"each ranked page served to you, with the inputs it was computed from, for {days} "
        "days (so that it can be replayed and checked)"
        if days
        else "only your latest ranking of each feed, for an hour (for paging)"
    )
    return (
        f"<strong>Ranked feeds</strong> (For you, Bridging): if you open them, {kept}, and "
        "the weights you set. For everyone who favourited or boosted a few posts in the last "
        "30 days, one number placing them on this server's main axis of disagreement: used "
        "only to find which posts both sides appreciate, never published (you may see your "
        "own), replaced every 15 minutes, and not computed for you if you leave the estimate "
        "(Settings → Feeds)."
    )


def _community_notes(settings: Settings) -> str:
    return (
        "<strong>Community notes</strong>: the notes you write and your ratings of notes. "
        "Readers do not see who wrote a note. So that anyone can rerun the scoring, the notes, "
        "the ratings, the statuses and each rater's fitted position and helpfulness are "
        f"published in the public notes files ({html.escape(settings.base_url)}"
        "/api/parvis/v1/notes/data/), under a pseudonym (not your name; the same one for all "
        "your notes and ratings). A note you delete leaves those files with its ratings."
    )


LABELS = (
    "<strong>Labels</strong>: to find automated accounts and coordinated campaigns, the "
    "server looks at public posts (posting times, the app used, near-identical texts) and "
    "keeps what it finds, with the evidence, for the moderators only. A finding changes "
    "nothing anyone sees until a moderator confirms it by a decision you are told of and can "
    "appeal. Your choice to show, warn about or hide labelled accounts' posts."
)


E2E_MESSAGES = (
    "<strong>End-to-end encrypted messages</strong>: only the public keys of your devices "
    "(their secret keys never leave them) and your messages as ciphertext that the server "
    "cannot decrypt: it has no key to them. The server does see, and keeps with the messages, "
    "who is in each conversation, who sent each message from which device, when, its size "
    "(rounded up to 256 bytes) and when each device collected it; no read receipts. A device "
    "you revoke receives nothing more. (Mastodon direct posts are not these: see below.)"
)


def default_privacy_policy(settings: Settings) -> str:
    """What Parvis stores, stated plainly (HTML); operators replace it with `privacy_policy`."""
    where = html.escape(f"{settings.title} ({settings.domain})")
    items = [
        "<strong>Your account</strong>: user name, e-mail address, a hash of your password "
        "(Argon2: the password itself is not stored), your profile (display name, bio, "
        "fields, avatar and header images), your posting and language preferences and, "
        "where sign-ups need approval, the reason you gave.",
        "<strong>What you post</strong>: your posts and their earlier versions after edits, "
        "polls and votes, and the media you upload. Images are re-encoded on upload: their "
        "metadata (EXIF, GPS position, camera details) is dropped.",
        "<strong>What you do</strong>: whom you follow, block and mute, your favourites, "
        "boosts, bookmarks, lists, filters, followed hashtags, private notes on accounts, "
        "muted conversations, notifications and reading positions.",
        _ranked_feeds(settings),
        _community_notes(settings),
        LABELS,
        E2E_MESSAGES,
        "<strong>Sign-ins</strong>: the apps you authorized and their access tokens, stored "
        "as hashes, with when each was created and last used.",
        "<strong>Network addresses</strong>: the database stores no IP address; rate limits "
        "count requests per address for at most 30 minutes. The web server or proxy in front "
        "of Parvis may keep its own logs.",
    ]
    contact = ""
    if settings.contact_email:
        email = html.escape(settings.contact_email)
        contact = f'<p>Questions: <a href="mailto:{email}">{email}</a>.</p>\n'
    return (
        f"<p>What {where} keeps about you:</p>\n<ul>\n"
        + "".join(f"<li>{item}</li>\n" for item in items)
        + "</ul>\n<p>Public and unlisted posts can be read by anyone; followers-only posts by "
        "your followers; direct posts by the people they mention. Posts, direct ones included, "
        "are not encrypted on the server: its operators can read them (end-to-end encrypted "
        "messages, above, are the exception). Your bookmarks, private notes and muted "
        "conversations are shown to you only.</p>\n" + contact
    )


def terms(settings: Settings, rules_in_force: list[str]) -> str:
    """`PARVIS_TERMS_OF_SERVICE`, else the server's rules in force (services/rules.py)."""
    if settings.terms_of_service.strip():
        return paragraphs(settings.terms_of_service)
    rules = "".join(f"<li>{html.escape(rule)}</li>\n" for rule in rules_in_force)
    title = html.escape(settings.title)
    return f"<p>Using {title} means following its rules:</p>\n<ol>\n{rules}</ol>\n"


def about(settings: Settings) -> str:
    """`PARVIS_EXTENDED_DESCRIPTION`, else the description."""
    return paragraphs(settings.extended_description.strip() or settings.description)


def privacy(settings: Settings) -> str:
    """`PARVIS_PRIVACY_POLICY`, else Parvis's own account of what it stores."""
    if settings.privacy_policy.strip():
        return paragraphs(settings.privacy_policy)
    return default_privacy_policy(settings)
