"""Accounts: sign-up, sign-in, profiles."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import orjson
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from parvis.config import RegistrationMode
from parvis.domain.content import render_plain_text
from parvis.domain.erasure import name_digest
from parvis.domain.errors import Forbidden, Invalid, NotFound, Unauthorized
from parvis.domain.ids import new_id
from parvis.domain.models import Account, User
from parvis.domain.visibility import Visibility
from parvis.services import federate
from parvis.services.context import Work
from parvis.services.mentions import resolver, tag_url

USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{1,30}$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
RESERVED = {
    "admin",
    "administrator",
    "root",
    "support",
    "help",
    "about",
    "api",
    "oauth",
    "settings",
    "instance_actor",
    "actor",
    "inbox",
    "outbox",
    "web",
    "static",
    "media",
    "explore",
    "tags",
    "users",
    "well-known",
    "parvis",
    "moderator",
    "postmaster",
}
MAX_FIELDS = 4
_hasher = PasswordHasher()  # Argon2id with the library's current defaults


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Registration:
    username: str
    email: str
    password: str
    agreement: bool
    locale: str = "en"
    reason: str | None = None


def check_registration(work: Work, reg: Registration) -> None:
    mode = work.settings.registrations
    if mode is RegistrationMode.CLOSED:
        raise Forbidden("Registrations are closed on this server.")
    errors = []
    if not USERNAME_RE.match(reg.username):
        errors.append("username: use 1 to 30 letters, digits or underscores")
    elif reg.username.lower() in RESERVED:
        errors.append("username: this name is reserved")
    elif work.store.accounts.username_taken(reg.username) or name_erased(work, reg.username):
        errors.append("username: this name is taken")
    if not EMAIL_RE.match(reg.email):
        errors.append("email: not a valid e-mail address")
    elif work.store.accounts.email_taken(reg.email):
        errors.append("email: this address is already registered")
    if not 8 <= len(reg.password) <= 256:
        errors.append("password: use 8 to 256 characters")
    if not reg.agreement:
        errors.append("agreement: you must accept the server rules")
    if mode is RegistrationMode.APPROVAL and not (reg.reason or "").strip():
        errors.append("reason: tell the moderators why you want to join")
    if errors:
        raise Invalid("Validation failed: " + "; ".join(errors))


def name_erased(work: Work, username: str) -> bool:
    """Whether the name belonged to an erased account: it is never given again (other servers
    keep the old actor in their caches)."""
    return work.store.erasure.name_forbidden(name_digest(work.settings.signing_key(), username))


def register(work: Work, reg: Registration, *, role: str = "user") -> User:
    check_registration(work, reg)
    now = work.now()
    account_id = new_id()
    base = work.settings.base_url
    work.store.accounts.insert(
        {
            "id": account_id,
            "username": reg.username,
            "domain": None,
            "display_name": "",
            "note": "",
            "note_html": "",
            "fields_json": "[]",
            "uri": f"{base}/users/{reg.username}",
            "url": f"{base}/@{reg.username}",
            "inbox_uri": f"{base}/users/{reg.username}/inbox",
            "shared_inbox_uri": f"{base}/inbox",
            "created_at": now,
            "updated_at": now,
        }
    )
    approved = work.settings.registrations is not RegistrationMode.APPROVAL or role != "user"
    work.store.accounts.insert_user(
        {
            "account_id": account_id,
            "email": reg.email,
            "password_hash": hash_password(reg.password),
            "role": role,
            "approved": approved,
            "confirmed": not work.settings.require_email_confirmation,
            "locale": reg.locale if reg.locale in ("en", "fr") else "en",
            "reason": reg.reason,
            "created_at": now,
        }
    )
    user = work.store.accounts.user(account_id)
    assert user is not None
    return user


def authenticate(work: Work, login: str, password: str) -> User:
    user = check_credentials(work, login, password)
    ensure_can_sign_in(work, user)
    return user


def check_credentials(work: Work, login: str, password: str) -> User:
    """The user these credentials belong to (whether or not they may sign in), else
    Unauthorized."""
    found = work.store.accounts.user_by_login(login)
    if found is None:
        check_password(_DUMMY_HASH, password)  # same cost whether or not the account exists
        raise Unauthorized("Invalid e-mail address or password.")
    user, password_hash = found
    if not check_password(password_hash, password):
        raise Unauthorized("Invalid e-mail address or password.")
    if _hasher.check_needs_rehash(password_hash):
        work.store.accounts.set_password_hash(user.account_id, hash_password(password))
    return user


def ensure_can_sign_in(work: Work, user: User) -> None:
    if user.disabled:
        raise Forbidden("Your login is currently disabled.")
    closing = work.store.erasure.request(user.account_id)
    if closing is not None and closing.delete_after is not None:
        raise Forbidden(
            "Your account is closed: it will be erased on "
            f"{closing.delete_after:%Y-%m-%d}. Sign in on the web to cancel the deletion."
        )
    if not user.approved:
        raise Forbidden("Your account is pending approval by the moderators.")
    if not user.confirmed:
        raise Forbidden("Confirm your e-mail address first.")
    account = work.store.accounts.get(user.account_id)
    if account is None or account.suspended:
        raise Forbidden("Your account is suspended.")


_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def get_account(work: Work, account_id: int) -> Account:
    account = work.store.accounts.get(account_id)
    if account is None:
        raise NotFound("Record not found")
    return account


@dataclass(frozen=True)
class ProfileUpdate:
    display_name: str | None = None
    note: str | None = None
    locked: bool | None = None
    bot: bool | None = None
    discoverable: bool | None = None
    indexable: bool | None = None
    hide_collections: bool | None = None
    fields: list[tuple[str, str]] | None = None
    avatar_media_id: int | None = None
    header_media_id: int | None = None
    default_visibility: str | None = None
    default_sensitive: bool | None = None
    default_language: str | None = None


def update_profile(work: Work, account_id: int, upd: ProfileUpdate) -> Account:
    errors = []
    values: dict[str, object] = {}
    if upd.display_name is not None:
        if len(upd.display_name) > 30:
            errors.append("display_name: at most 30 characters")
        values["display_name"] = upd.display_name.strip()
    if upd.note is not None:
        if len(upd.note) > 500:
            errors.append("note: at most 500 characters")
        rendered = render_plain_text(
            upd.note, resolver(work.store, work.settings), tag_url=tag_url(work.settings)
        )
        values["note"], values["note_html"] = upd.note, rendered.html
    for flag in ("locked", "bot", "discoverable", "indexable", "hide_collections"):
        if getattr(upd, flag) is not None:
            values[flag] = getattr(upd, flag)
    if upd.fields is not None:
        if len(upd.fields) > MAX_FIELDS:
            errors.append(f"fields_attributes: at most {MAX_FIELDS} fields")
        fields = []
        for name, value in upd.fields:
            if len(name) > 255 or len(value) > 255:
                errors.append("fields_attributes: names and values are at most 255 characters")
                break
            if name.strip() or value.strip():
                html = render_plain_text(
                    value, resolver(work.store, work.settings), tag_url=tag_url(work.settings)
                ).html
                fields.append({"name": name.strip(), "value": value.strip(), "value_html": html})
        values["fields_json"] = orjson.dumps(fields).decode()
    for slot in ("avatar_media_id", "header_media_id"):
        media_id = getattr(upd, slot)
        if media_id is not None:
            media = work.store.media.get(media_id)
            if media is None or media.account_id != account_id:
                errors.append(f"{slot.split('_')[0]}: upload not found")
            values[slot] = media_id
    user_values: dict[str, object] = {}
    if upd.default_visibility is not None:
        vis = Visibility.parse(upd.default_visibility)
        if vis is None or vis is Visibility.DIRECT:
            errors.append("source[privacy]: one of public, unlisted, private")
        user_values["default_visibility"] = upd.default_visibility
    if upd.default_sensitive is not None:
        user_values["default_sensitive"] = upd.default_sensitive
    if upd.default_language is not None:
        if upd.default_language and not re.fullmatch(r"[a-z]{2,3}", upd.default_language):
            errors.append("source[language]: an ISO 639 language code")
        user_values["default_language"] = upd.default_language or None
    if errors:
        raise Invalid("Validation failed: " + "; ".join(errors))
    if values:
        values["updated_at"] = work.now()
        work.store.accounts.update(account_id, values)
        federate.profile_updated(work, account_id)
    if user_values:
        work.store.accounts.update_user(account_id, user_values)
    return get_account(work, account_id)


def set_role(work: Work, account_id: int, role: str) -> None:
    if role not in ("user", "moderator", "admin"):
        raise Invalid("role: one of user, moderator, admin")
    if work.store.accounts.user(account_id) is None:
        raise NotFound("No local user with this account")
    work.store.accounts.update_user(account_id, {"role": role})


def set_suspended(work: Work, account_id: int, suspended: bool) -> None:
    get_account(work, account_id)
    closing = work.store.erasure.request(account_id)
    if closing is not None and closing.delete_after is not None:
        # Closed for deletion: it stays closed; the suspension is the operator's while it
        # lasts (a cancelled deletion keeps it), the request's once lifted.
        work.store.erasure.set_request(account_id, closing.delete_after, not suspended)
        if not suspended:
            return
    work.store.accounts.update(account_id, {"suspended_at": work.now() if suspended else None})
    if suspended:
        work.store.oauth.revoke_all_for(account_id, work.now())


def approve(work: Work, account_id: int) -> None:
    if work.store.accounts.user(account_id) is None:
        raise NotFound("No local user with this account")
    work.store.accounts.update_user(account_id, {"approved": True})


def lookup(work: Work, acct: str) -> Account:
    username, _, domain = acct.strip().lstrip("@").partition("@")
    if domain and domain.lower() == work.settings.domain.lower():
        domain = ""
    account = work.store.accounts.by_acct(username, domain or None)
    if account is None:
        raise NotFound("Record not found")
    return account


def set_locale(work: Work, account_id: int, locale: str) -> None:
    """The language of the account's interface (web app, e-mails)."""
    if locale not in ("en", "fr"):
        raise Invalid("Validation failed: locale: one of en, fr")
    work.store.accounts.update_user(account_id, {"locale": locale})
