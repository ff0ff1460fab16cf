"""Messages of the services (domain errors), in the visitor's language on the web pages.

The services speak English, and the client API passes their messages on as they are. A
message is made of parts: "Validation failed: text: character limit of 500 exceeded; poll:
..." is sentences joined by "; ", each of parts joined by ": " (a field, then what is wrong).
The web app translates each part from the catalogue, numbers kept: a part's numbers become
`%(n)s`, `%(n2)s`... to find its translation, and go back into it. A part the catalogue does not
know stays as it is.

The parts are listed below, marked with `N_` so that `parvis i18n update` extracts them into
the catalogue (the services are not touched, and extraction stays within the web app);
tests/web/test_service_messages.py checks that every literal message part raised by a service
the web app calls is listed here."""

from __future__ import annotations

import re
from collections.abc import Callable

NUMBER = re.compile(r"\d+")
PREFIX = "Validation failed: "
SEPARATORS = {"fr": ("\u00a0: ", "\u202f; ")}


def N_(message: str) -> str:
    """Marks a message for extraction; changes nothing."""
    return message


PARTS = (
    N_("Registrations are closed on this server."),
    N_("username"),
    N_("use %(n)s to %(n2)s letters, digits or underscores"),
    N_("email"),
    N_("not a valid e-mail address"),
    N_("password"),
    N_("use %(n)s to %(n2)s characters"),
    N_("agreement"),
    N_("you must accept the server rules"),
    N_("reason"),
    N_("tell the moderators why you want to join"),
    N_("Invalid e-mail address or password."),
    N_("Your login is currently disabled."),
    N_("Your account is pending approval by the moderators."),
    N_("Confirm your e-mail address first."),
    N_("Your account is suspended."),
    N_("Your account is closed"),
    N_("No deletion of this account is pending"),
    N_("Record not found"),
    N_("role"),
    N_("one of user, moderator, admin"),
    N_("No local user with this account"),
    N_("locale"),
    N_("one of en, fr"),
    N_("this name is reserved"),
    N_("this address is already registered"),
    N_("display_name"),
    N_("at most %(n)s characters"),
    N_("note"),
    N_("fields_attributes"),
    N_("at most %(n)s fields"),
    N_("source[privacy]"),
    N_("one of public, unlisted, private"),
    N_("source[language]"),
    N_("an ISO %(n)s language code"),
    N_("this name is taken"),
    N_("names and values are at most %(n)s characters"),
    N_("upload not found"),
    N_("poll"),
    N_("a post cannot have both media and a poll"),
    N_("poll[options]"),
    N_("between %(n)s and %(n2)s options"),
    N_("an option can't be blank"),
    N_("at most %(n)s characters per option"),
    N_("options must be distinct"),
    N_("poll[expires_in]"),
    N_("between %(n)s and %(n2)s seconds"),
    N_("media_ids"),
    N_("unknown or already attached media"),
    N_("media reserved by a scheduled post"),
    N_("a media attachment failed to process"),
    N_("text"),
    N_("can't be blank"),
    N_("character limit of %(n)s exceeded"),
    N_("at most %(n)s attachments"),
    N_("visibility"),
    N_("one of public, unlisted, private, direct"),
    N_("reply_policy"),
    N_("quote_approval_policy"),
    N_("This action is not allowed"),
    N_("the moderators restricted interactions with this post"),
    N_("this post cannot be quoted"),
    N_("a private mention quoting a post must mention its author"),
    N_("this post cannot be boosted"),
    N_("in_reply_to_id"),
    N_("cannot reply to a boost"),
    N_("a quote of a followers-only post is followers-only"),
    N_("the author does not allow you to quote this post"),
    N_("replies are limited to accounts mentioned in the post"),
    N_("The poll has already ended"),
    N_("You cannot vote in your own polls"),
    N_("You have already voted on this poll"),
    N_("choices"),
    N_("choose at least one option"),
    N_("The chosen vote option does not exist"),
    N_("this poll allows a single choice"),
    N_("description"),
    N_("file is empty"),
    N_("file is too large"),
    N_("%(n)s bytes, the limit is %(n2)s"),
    N_("file is not a supported image (JPEG, PNG, WebP, GIF or HEIC)"),
    N_("videos are not accepted"),
    N_("only images (JPEG, PNG, WebP, GIF or HEIC)"),
    N_("this media is already attached to a post"),
    N_("focus must be two numbers between -%(n)s and %(n2)s, as 'x,y'"),
    N_("focus coordinates must each be between -%(n)s and %(n2)s"),
    N_("image could not be decoded"),
    N_("it has no pixels"),
    N_("image is too large"),
    N_("%(n)sx%(n2)s pixels, the limit is %(n3)s pixels per side"),
    N_("%(n)s pixels, the limit is %(n2)s"),
    N_("Title can't be blank"),
    N_("Title is too long (maximum is %(n)s characters)"),
    N_("you can have at most %(n)s lists"),
    N_("Account has not been followed"),
    N_("Context can't be blank"),
    N_("Keyword can't be blank"),
    N_("expires_in must be a positive number of seconds"),
    N_("at most %(n)s filters per account"),
    N_("a filter holds at most %(n)s keywords"),
    N_("you cannot do this to yourself"),
    N_("one of you blocks the other"),
    N_("no follow request from this account"),
    N_("duration must be between %(n)s (forever) and %(n2)s years, in seconds"),
    N_("you can only pin your own posts"),
    N_("private and direct posts cannot be pinned"),
    N_("you can pin at most %(n)s posts"),
    N_("media_attributes"),
    N_("only media attached to the post can be changed"),
    N_("type must be one of accounts, hashtags, statuses"),
    N_("current password"),
    N_("it is not your password"),
    N_("choose a password different from the current one"),
    N_("category"),
    N_("choose what is wrong"),
    N_("explanation"),
    N_("say why this is illegal or against the rules"),
    N_("legal_ground"),
    N_("name"),
    N_("good_faith"),
    N_("confirm that this notice is accurate and sent in good faith"),
    N_("items"),
    N_("report at least one post or account"),
    N_("at most %(n)s posts or accounts in one notice"),
    N_("channel"),
    N_("unknown"),
    N_("rule_ids"),
    N_("at most %(n)s rule ids"),
    N_("No notice has this receipt"),
    N_("too many of them were manifestly unfounded"),
    N_("Client authentication failed due to unknown client."),
    N_("the requested scope is not allowed for this application"),
    N_("redirect_uri does not match a registered redirect URI"),
    N_("code_challenge_method must be S256 or plain"),
    # Portability: imports, archives, moving an account
    N_("a value is longer than %(n)s characters"),
    N_("file"),
    N_("mode"),
    N_("one of merge, overwrite"),
    N_("the file is empty"),
    N_("this is not a CSV text file"),
    N_("alias"),
    N_("an account cannot be an alias of itself"),
    N_("at most %(n)s aliases"),
    N_("give an account address or its URI"),
    N_("no such account was found"),
    N_("not an account of this server"),
    N_("target"),
    N_("that account has itself moved elsewhere"),
    N_("that account must first list this one as an alias"),
    N_("this account has already moved there"),
    N_("this account is suspended"),
    N_("this alias is already there"),
    N_("you cannot move to this same account"),
    N_("account"),
    N_("outbox.json is not JSON"),
    N_("outbox.json is not an ActivityStreams collection"),
    N_("the archive has no outbox.json, or it is too large"),
    N_("the archive is too large"),
    N_("this is not a ZIP archive"),
    # Community notes (services/notes.py)
    N_("classification"),
    N_("misleading or not_misleading"),
    N_("reasons"),
    N_("give at least one reason"),
    N_("sources"),
    N_("a note on a misleading post needs at least one source link"),
    N_("summary"),
    N_("write the note"),
    N_("at most %(n)s links"),
    N_("not a web link (http or https)"),
    N_("language"),
    N_("a language code such as fr or en"),
    N_("helpfulness"),
    N_("helpful, somewhat_helpful or not_helpful"),
    N_("tags"),
    N_("Notes can be added to public posts only"),
    N_("You cannot write a note on your own post"),
    N_("You already wrote a note on this post"),
    N_("You cannot rate your own note"),
    N_("You have not rated this note"),
    N_("Only the note's author can delete it"),
    N_("Sign in to rate community notes."),
    N_("At most %(n)s notes a day"),
    N_("At most %(n)s ratings a day"),
    # Labels: the moderators' signals (services/label_signals.py).
    N_("No such signal"),
    N_("signal"),
    N_("already decided"),
    N_("already confirmed"),
    N_("already dismissed"),
    N_("kind"),
    N_("order"),
    N_("rule_id"),
    N_("no rule of this server is about bots"),
    N_("no rule of this server is about coordinated behaviour"),
    N_("name one"),
    N_("say why, in at most %(n)s characters"),
)


def _part(text: str, gettext: Callable[[str], str]) -> str:
    if not text.strip():
        return text  # gettext("") is the catalogue's header
    found = gettext(text)
    if found != text:
        return found
    numbers = NUMBER.findall(text)
    if not numbers:
        return text
    names = ["n" if i == 0 else f"n{i + 1}" for i in range(len(numbers))]
    pattern = iter(f"%({name})s" for name in names)
    key = NUMBER.sub(lambda _: next(pattern), text.replace("%", "%%"))
    found = gettext(key)
    if found == key:
        return text
    try:
        return found % dict(zip(names, numbers, strict=True))
    except (KeyError, ValueError, TypeError):
        return text


def translate(message: str, locale: str, gettext: Callable[[str], str]) -> str:
    """`message` without the API's "Validation failed: " prefix, in `locale`."""
    body = message.removeprefix(PREFIX)
    if locale not in SEPARATORS:
        return body
    colon, semicolon = SEPARATORS[locale]
    sentences = []
    for sentence in body.split("; "):
        whole = _part(sentence, gettext)
        if whole != sentence:
            sentences.append(whole)
            continue
        sentences.append(colon.join(_part(p, gettext) for p in sentence.split(": ")))
    return semicolon.join(sentences)
