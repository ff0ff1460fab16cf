"""The server's texts for people: the about page, the privacy policy and the terms of service,
as HTML built from the settings (operators' plain text, or Parvis's own defaults). Shown by the
client API (`/api/v1/instance/...`, in English: it has no locale) and by the web app (`/about`,
`/privacy`, in the visitor's language).

The default privacy policy, with its "How long we keep it" table, is written once, here, in
English, and spoken through a catalogue (`Texts`: the web app passes its French or English
translations, the API the English default). So the two never state different facts, every
figure comes from the settings, and `parvis i18n update` extracts these strings with the web
app's (babel.cfg lists this module). Translated strings are plain text: they are escaped here,
and links are put in through placeholders after escaping."""

from __future__ import annotations

import gettext
import html
import re
from dataclasses import dataclass
from typing import Protocol

from parvis.config import Settings

# How long the rate limits remember an address (api/ratelimit.py: the longest window).
RATE_LIMIT_MINUTES = 30


class Texts(Protocol):
    """A message catalogue: `gettext.NullTranslations` and Babel's `Translations` are ones."""

    def gettext(self, message: str, /) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int, /) -> str: ...


ENGLISH: Texts = gettext.NullTranslations()


def paragraphs(text: str) -> str:
    """Plain text as HTML: escaped, blank lines between paragraphs, line breaks kept."""
    parts = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").strip())
    return "".join(
        f"<p>{html.escape(part.strip()).replace(chr(10), '<br>')}</p>\n"
        for part in parts
        if part.strip()
    )


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _days(t: Texts, days: int) -> str:
    return t.ngettext("%(num)s day", "%(num)s days", days) % {"num": days}


# -- how long each kind of data is kept ------------------------------------------------------


@dataclass(frozen=True)
class Retention:
    """One row of the "How long we keep it" table, in the catalogue's language."""

    what: str
    how_long: str


def retention(settings: Settings, t: Texts = ENGLISH) -> list[Retention]:
    """Each kind of data this server keeps and for how long, from the settings."""
    grace = settings.account_deletion_grace_days
    erased = (
        t.gettext(
            "Until you delete your account. It is closed at once and erased after %(days)s, "
            "during which you can change your mind."
        )
        % {"days": _days(t, grace)}
        if grace
        else t.gettext("Until you delete your account: it is then erased at once.")
    )
    ips = settings.ip_retention_days
    addresses = (
        t.gettext("%(days)s after it was last seen, then deleted.") % {"days": _days(t, ips)}
        if ips
        else t.gettext("Never stored.")
    )
    feed_days = settings.feed_log_days
    feed_log = (
        _days(t, feed_days)
        if feed_days
        else t.gettext("Only your latest ranking of each feed, for an hour.")
    )
    logs = settings.access_log_retention_days
    access_logs = _days(t, logs) if logs else t.gettext("Not kept.")
    return [
        Retention(t.gettext("Your account and profile"), erased),
        Retention(
            t.gettext(
                "Your posts, media and activity (follows, favourites, bookmarks, lists, "
                "community notes...)"
            ),
            t.gettext("Until you delete them, or your account (then as above)."),
        ),
        Retention(
            t.gettext("Notifications"),
            t.gettext("Until you clear them, or your account is erased."),
        ),
        Retention(
            t.gettext("Sessions and authorized apps (tokens stored as hashes)"),
            t.gettext("Until you sign out or revoke the app."),
        ),
        Retention(t.gettext("Network (IP) address at sign-up and at each sign-in"), addresses),
        Retention(
            t.gettext("Rate limit counters (per network address)"),
            t.ngettext("%(num)s minute at most.", "%(num)s minutes at most.", RATE_LIMIT_MINUTES)
            % {"num": RATE_LIMIT_MINUTES},
        ),
        Retention(t.gettext("Rankings served in the ranked feeds, with their inputs"), feed_log),
        Retention(
            t.gettext("End-to-end encrypted messages (ciphertext)"),
            t.gettext("Until the conversation or your account is deleted."),
        ),
        Retention(t.gettext("Access logs of the web server in front of Parvis"), access_logs),
        Retention(
            t.gettext("Moderation decisions about you or your posts"),
            t.gettext(
                "Kept for the transparency report and the public log. When your account is "
                "erased they lose your name, account, e-mail and every copy of the content."
            ),
        ),
        Retention(
            t.gettext("Backups"),
            t.gettext(
                "Parvis makes none by itself. A backup made by the operators holds a copy of "
                "the above until they delete it."
            ),
        ),
        Retention(
            t.gettext("Copies of your public posts and profile on other servers"),
            t.gettext(
                "Kept by those servers under their own rules; when you delete a post or your "
                "account, they are asked to delete it too."
            ),
        ),
    ]


def retention_table(settings: Settings, t: Texts = ENGLISH) -> str:
    """The "How long we keep it" section (HTML)."""
    rows = "".join(
        f'<tr><th scope="row">{_esc(r.what)}</th><td>{_esc(r.how_long)}</td></tr>\n'
        for r in retention(settings, t)
    )
    # (No gettext call inside an f-string: the extractor would not see it.)
    heading = _esc(t.gettext("How long we keep it"))
    what, how_long = _esc(t.gettext("Data")), _esc(t.gettext("How long"))
    return (
        f'<h2 id="retention">{heading}</h2>\n'
        f'<table class="retention">\n<thead><tr><th scope="col">{what}</th>'
        f'<th scope="col">{how_long}</th></tr></thead>\n'
        f"<tbody>\n{rows}</tbody>\n</table>\n"
    )


# -- what is kept ----------------------------------------------------------------------------


def _item(t: Texts, heading: str, text: str) -> str:
    # Translators: a heading and its text in the privacy policy ("Your account: user name...").
    pattern = _esc(t.gettext("%(heading)s: %(text)s"))
    return pattern % {"heading": f"<strong>{_esc(heading)}</strong>", "text": text}


def _ranked_feeds(settings: Settings, t: Texts) -> str:
    days = settings.feed_log_days
    kept = (
        t.gettext(
            "If you open them, each ranked page served to you, with the inputs it was "
            "computed from, for %(days)s (so that it can be replayed and checked), and the "
            "weights you set."
        )
        % {"days": _days(t, days)}
        if days
        else t.gettext(
            "If you open them, only your latest ranking of each feed, for an hour (for "
            "paging), and the weights you set."
        )
    )
    viewpoint = t.gettext(
        "For everyone who favourited or boosted a few posts in the last 30 days, one number "
        "placing them on this server's main axis of disagreement: used only to find which "
        "posts both sides appreciate, never published (you may see your own), replaced every "
        "15 minutes, and not computed for you if you leave the estimate (Settings → Feeds)."
    )
    return _item(t, t.gettext("Ranked feeds (For you, Bridging)"), _esc(f"{kept} {viewpoint}"))


def _community_notes(settings: Settings, t: Texts) -> str:
    files = _esc(f"{settings.base_url}/api/parvis/v1/notes/data/")
    text = _esc(
        t.gettext(
            "the notes you write and your ratings of notes. Readers do not see who wrote a "
            "note. So that anyone can rerun the scoring, the notes, the ratings, the statuses "
            "and each rater's fitted position and helpfulness are published in the public "
            "notes files (%(files)s), under a pseudonym (not your name; the same one for all "
            "your notes and ratings). A note you delete leaves those files with its ratings."
        )
    )
    return _item(t, t.gettext("Community notes"), text % {"files": files})


def _addresses(settings: Settings, t: Texts) -> str:
    days = settings.ip_retention_days
    kept = (
        t.gettext(
            "the address you signed up from and each address you sign in from, with when it "
            "was first and last seen, kept %(days)s after it was last seen so that the "
            "moderators can see other accounts made or used from the same address (ban "
            "evasion). Only moderators see them, and you see your own (Settings → Sessions). "
            "Nothing else stores an address: rate limits count requests per address for at "
            "most %(minutes)s minutes."
        )
        % {"days": _days(t, days), "minutes": RATE_LIMIT_MINUTES}
        if days
        else t.gettext(
            "the database stores no IP address; rate limits count requests per address for "
            "at most %(minutes)s minutes."
        )
        % {"minutes": RATE_LIMIT_MINUTES}
    )
    logs = settings.access_log_retention_days
    proxy = (
        t.gettext("The web server in front of Parvis keeps its access logs %(days)s.")
        % {"days": _days(t, logs)}
        if logs
        else t.gettext("The web server in front of Parvis keeps no access log.")
    )
    return _item(t, t.gettext("Network addresses"), _esc(f"{kept} {proxy}"))


def default_privacy_policy(settings: Settings, t: Texts = ENGLISH) -> str:
    """What Parvis stores and for how long, stated plainly (HTML) in the catalogue's language;
    operators replace it with `privacy_policy`."""
    items = [
        _item(
            t,
            t.gettext("Your account"),
            _esc(
                t.gettext(
                    "user name, e-mail address, a hash of your password (Argon2: the password "
                    "itself is not stored), your profile (display name, bio, fields, avatar "
                    "and header images), your posting and language preferences and, where "
                    "sign-ups need approval, the reason you gave."
                )
            ),
        ),
        _item(
            t,
            t.gettext("What you post"),
            _esc(
                t.gettext(
                    "your posts and their earlier versions after edits, polls and votes, and "
                    "the media you upload. Images are re-encoded on upload: their metadata "
                    "(EXIF, GPS position, camera details) is dropped."
                )
            ),
        ),
        _item(
            t,
            t.gettext("What you do"),
            _esc(
                t.gettext(
                    "whom you follow, block and mute, your favourites, boosts, bookmarks, "
                    "lists, filters, followed hashtags, private notes on accounts, muted "
                    "conversations, notifications and reading positions."
                )
            ),
        ),
        _ranked_feeds(settings, t),
        _community_notes(settings, t),
        _item(
            t,
            t.gettext("Labels"),
            _esc(
                t.gettext(
                    "to find automated accounts and coordinated campaigns, the server looks "
                    "at public posts (posting times, the app used, near-identical texts) and "
                    "keeps what it finds, with the evidence, for the moderators only. A "
                    "finding changes nothing anyone sees until a moderator confirms it by a "
                    "decision you are told of and can appeal. Your choice to show, warn about "
                    "or hide labelled accounts' posts."
                )
            ),
        ),
        _item(
            t,
            t.gettext("End-to-end encrypted messages"),
            _esc(
                t.gettext(
                    "only the public keys of your devices (their secret keys never leave "
                    "them) and your messages as ciphertext that the server cannot decrypt: it "
                    "has no key to them. The server does see, and keeps with the messages, "
                    "who is in each conversation, who sent each message from which device, "
                    "when, its size (rounded up to 256 bytes) and when each device collected "
                    "it; no read receipts. A device you revoke receives nothing more. "
                    "(Mastodon direct posts are not these: see below.)"
                )
            ),
        ),
        _item(
            t,
            t.gettext("Sign-ins"),
            _esc(
                t.gettext(
                    "the apps you authorized and their access tokens, stored as hashes, with "
                    "when each was created and last used."
                )
            ),
        ),
        _addresses(settings, t),
    ]
    where = f"{settings.title} ({settings.domain})"
    intro = _esc(t.gettext("What %(server)s keeps about you:") % {"server": where})
    audience = _esc(
        t.gettext(
            "Public and unlisted posts can be read by anyone; followers-only posts by your "
            "followers; direct posts by the people they mention. Posts, direct ones included, "
            "are not encrypted on the server: its operators can read them (end-to-end "
            "encrypted messages, above, are the exception). Your bookmarks, private notes and "
            "muted conversations are shown to you only."
        )
    )
    contact = ""
    if settings.contact_email:
        email = html.escape(settings.contact_email)
        link = f'<a href="mailto:{email}">{email}</a>'
        question = _esc(t.gettext("Questions: %(email)s.")) % {"email": link}
        contact = f"<p>{question}</p>\n"
    return (
        f"<p>{intro}</p>\n<ul>\n"
        + "".join(f"<li>{item}</li>\n" for item in items)
        + f"</ul>\n<p>{audience}</p>\n"
        + retention_table(settings, t)
        + contact
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


def is_default_privacy(settings: Settings) -> bool:
    """Whether the privacy policy is Parvis's own (else the operator's `privacy_policy`)."""
    return not settings.privacy_policy.strip()


def privacy(settings: Settings, t: Texts = ENGLISH) -> str:
    """`PARVIS_PRIVACY_POLICY`, else Parvis's own account of what it stores and for how long,
    in the language of `t` (English by default)."""
    if not is_default_privacy(settings):
        return paragraphs(settings.privacy_policy)
    return default_privacy_policy(settings, t)
