"""What the server says about itself: /api/v1|v2/instance, rules, preferences, NodeInfo, the
about page, privacy policy, terms of service, languages, activity and peers.

Just over 600 lines: mostly the response models of the instance documents, which Mastodon
apps read at start-up; the texts themselves come from services/policies.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from parvis import __version__
from parvis.api import auth
from parvis.api.auth import RequiredTokenDep
from parvis.api.deps import ERRORS, RuntimeDep, json_response
from parvis.api.serializers import ts
from parvis.config import RegistrationMode, Settings
from parvis.domain.errors import NotFound
from parvis.domain.languages import LANGUAGES as ISO_639_1
from parvis.services import accounts as account_service
from parvis.services import interactions, policies
from parvis.services import media as media_service
from parvis.services import rules as rule_service
from parvis.services.context import Work
from parvis.services.imaging import MAX_PIXELS

router = APIRouter(tags=["instance"])

MASTODON_VERSION = "4.3.0"
VERSION = f"{MASTODON_VERSION} (compatible; Parvis {__version__})"
LANGUAGES = ["en", "fr"]
MIME_TYPES = ["image/jpeg", "image/png", "image/webp", "image/gif"]
NODEINFO_PROFILE = "http://nodeinfo.diaspora.software/ns/schema/{}"


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


# -- response shapes (documentation; handlers build plain dicts) ---------------------------------


class Rule(_Open):
    id: str
    text: str
    hint: str


class StatusesConfig(_Open):
    max_characters: int
    max_media_attachments: int
    characters_reserved_per_url: int


class MediaConfig(_Open):
    supported_mime_types: list[str]
    image_size_limit: int
    image_matrix_limit: int
    video_size_limit: int
    video_frame_rate_limit: int
    video_matrix_limit: int


class PollsConfig(_Open):
    max_options: int
    max_characters_per_option: int
    min_expiration: int
    max_expiration: int


class AccountsConfigV1(_Open):
    max_featured_tags: int


class AccountsConfig(AccountsConfigV1):
    max_pinned_statuses: int


class ConfigurationV1(_Open):
    accounts: AccountsConfigV1
    statuses: StatusesConfig
    media_attachments: MediaConfig
    polls: PollsConfig


class Stats(_Open):
    user_count: int
    status_count: int
    domain_count: int


class UrlsV1(_Open):
    streaming_api: str


class InstanceV1(_Open):
    uri: str
    title: str
    short_description: str
    description: str
    email: str
    version: str
    urls: UrlsV1
    stats: Stats
    thumbnail: str | None
    languages: list[str]
    registrations: bool
    approval_required: bool
    invites_enabled: bool
    configuration: ConfigurationV1
    contact_account: dict[str, Any] | None
    rules: list[Rule]


class Urls(_Open):
    streaming: str | None


class Translation(_Open):
    enabled: bool


class Configuration(_Open):
    urls: Urls
    accounts: AccountsConfig
    statuses: StatusesConfig
    media_attachments: MediaConfig
    polls: PollsConfig
    translation: Translation


class Registrations(_Open):
    enabled: bool
    approval_required: bool
    message: str | None


class Contact(_Open):
    email: str
    account: dict[str, Any] | None


class Thumbnail(_Open):
    url: str


class Users(_Open):
    active_month: int


class Usage(_Open):
    users: Users


class ApiVersions(_Open):
    mastodon: int


class InstanceV2(_Open):
    domain: str
    title: str
    version: str
    source_url: str
    description: str
    usage: Usage
    thumbnail: Thumbnail
    icon: list[dict[str, Any]]
    languages: list[str]
    configuration: Configuration
    registrations: Registrations
    api_versions: ApiVersions
    contact: Contact
    rules: list[Rule]


class ExtendedDescription(_Open):
    updated_at: str
    content: str


class PrivacyPolicy(_Open):
    updated_at: str
    content: str


class TermsOfService(_Open):
    effective_date: str
    effective: bool
    content: str
    succeeded_by: str | None


class Language(_Open):
    code: str
    name: str


class DomainBlock(_Open):
    domain: str
    digest: str
    severity: str
    comment: str | None


class CustomEmoji(_Open):
    shortcode: str
    url: str
    static_url: str
    visible_in_picker: bool


class WeeklyActivity(_Open):
    week: str
    statuses: str
    logins: str
    registrations: str


class Preferences(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    visibility: str = Field(alias="posting:default:visibility")
    sensitive: bool = Field(alias="posting:default:sensitive")
    language: str | None = Field(alias="posting:default:language")
    expand_media: str = Field(alias="reading:expand:media")
    expand_spoilers: bool = Field(alias="reading:expand:spoilers")


class NodeInfoLink(_Open):
    rel: str
    href: str


class NodeInfoLinks(_Open):
    links: list[NodeInfoLink]


class NodeInfoUsers(_Open):
    total: int
    activeMonth: int  # NodeInfo spells its keys in camelCase
    activeHalfyear: int


class NodeInfoUsage(_Open):
    users: NodeInfoUsers
    localPosts: int


class NodeInfoSoftware(_Open):
    name: str
    version: str


class NodeInfo(_Open):
    version: str
    software: NodeInfoSoftware
    protocols: list[str]
    services: dict[str, list[str]]
    usage: NodeInfoUsage
    openRegistrations: bool
    metadata: dict[str, Any]


# -- building them ---------------------------------------------------------------------------------


def _rules(work: Work) -> list[dict[str, str]]:
    """The rules in force, from the versioned rules (services/rules.py)."""
    return [{"id": r.id, "text": r.text, "hint": r.hint} for r in rule_service.current(work)]


def _source_url(settings: Settings) -> str:
    """Where the AGPL source is offered: `source_url` once Settings has one, else this server."""
    return str(getattr(settings, "source_url", "") or settings.base_url)


def _streaming_url(settings: Settings) -> str:
    return f"{'wss' if settings.scheme == 'https' else 'ws'}://{settings.domain}"


def _configuration(settings: Settings) -> dict[str, Any]:
    return {
        "accounts": {
            "max_featured_tags": 10,
            "max_pinned_statuses": interactions.MAX_PINS,
            "max_display_name_length": 30,
            "max_note_length": 500,
            "max_profile_fields": account_service.MAX_FIELDS,
            "profile_field_name_limit": 255,
            "profile_field_value_limit": 255,
        },
        "statuses": {
            "max_characters": settings.max_status_chars,
            "max_media_attachments": settings.max_media_attachments,
            "characters_reserved_per_url": 23,
        },
        "media_attachments": {
            "supported_mime_types": MIME_TYPES,
            "description_limit": media_service.MAX_DESCRIPTION,
            "image_size_limit": settings.max_upload_bytes,
            "image_matrix_limit": MAX_PIXELS,
            # No video support yet: every video limit is zero.
            "video_size_limit": 0,
            "video_frame_rate_limit": 0,
            "video_matrix_limit": 0,
        },
        "polls": {
            "max_options": settings.poll_max_options,
            "max_characters_per_option": settings.poll_max_option_chars,
            "min_expiration": settings.poll_min_expiration,
            "max_expiration": settings.poll_max_expiration,
        },
    }


def _counts(work: Work, *, active: bool = False) -> dict[str, int]:
    counts = work.store.media.instance
    out = {
        "user_count": counts.user_count(),
        "status_count": counts.local_status_count(),
        "domain_count": counts.domain_count(),
    }
    if active:
        now = work.now()
        out["active_month"] = counts.active_user_count(now - timedelta(days=30))
        out["active_halfyear"] = counts.active_user_count(now - timedelta(days=180))
    return out


def _registrations(settings: Settings) -> tuple[bool, bool]:
    """(enabled, approval_required)"""
    mode = settings.registrations
    return mode != RegistrationMode.CLOSED, mode == RegistrationMode.APPROVAL


@router.get("/api/v1/instance", response_model=InstanceV1)
def instance_v1(rt: RuntimeDep) -> Response:
    """The server's description, Mastodon 3.x/4.x v1 shape (deprecated by v2, still used)."""
    settings = rt.settings
    stats, rules_ = rt.read(lambda work: (_counts(work), _rules(work)))
    enabled, approval = _registrations(settings)
    config = _configuration(settings)
    config["accounts"] = {"max_featured_tags": config["accounts"]["max_featured_tags"]}
    return json_response(
        {
            "uri": settings.domain,
            "title": settings.title,
            "short_description": settings.description,
            "description": settings.description,
            "email": settings.contact_email,
            "version": VERSION,
            "urls": {"streaming_api": _streaming_url(settings)},
            "stats": stats,
            "thumbnail": f"{settings.base_url}/static/header.png",
            "languages": LANGUAGES,
            "registrations": enabled,
            "approval_required": approval,
            "invites_enabled": False,
            "configuration": config,
            "contact_account": None,
            "rules": rules_,
        }
    )


@router.get("/api/v2/instance", response_model=InstanceV2)
def instance_v2(rt: RuntimeDep) -> Response:
    """The server's description, Mastodon 4.x shape."""
    settings = rt.settings
    counts, rules_ = rt.read(lambda work: (_counts(work, active=True), _rules(work)))
    enabled, approval = _registrations(settings)
    config = _configuration(settings)
    return json_response(
        {
            "domain": settings.domain,
            "title": settings.title,
            "version": VERSION,
            "source_url": _source_url(settings),
            "description": settings.description,
            "usage": {"users": {"active_month": counts["active_month"]}},
            "thumbnail": {
                "url": f"{settings.base_url}/static/header.png",
                "blurhash": None,
                "versions": {},
            },
            "icon": [],
            "languages": LANGUAGES,
            "configuration": {
                "urls": {
                    "streaming": _streaming_url(settings),
                    "status": None,
                    "about": None,
                    "privacy_policy": None,
                    "terms_of_service": None,
                },
                **config,
                "translation": {"enabled": False},
            },
            "registrations": {
                "enabled": enabled,
                "approval_required": approval,
                "message": None,
                "url": None,
                "min_age": None,
                "reason_required": approval,
            },
            "api_versions": {"mastodon": 2},
            "contact": {"email": settings.contact_email, "account": None},
            "rules": rules_,
        }
    )


@router.get("/api/v1/instance/rules", response_model=list[Rule])
def rules(rt: RuntimeDep) -> Response:
    return json_response(rt.read(_rules))


@router.get("/api/v1/instance/peers", response_model=list[str])
def peers(rt: RuntimeDep) -> Response:
    """Domains of the other servers this one knows accounts of (none until it federates)."""
    return json_response(rt.read(lambda work: work.store.activity.peers()))


# -- the about page, privacy policy, terms of service ---------------------------------------


def _updated_at(settings: Settings) -> str:
    moment = datetime.combine(settings.policies_updated, time(0), tzinfo=UTC)
    return str(ts(moment))


@router.get("/api/v1/instance/extended_description", response_model=ExtendedDescription)
def extended_description(rt: RuntimeDep) -> Response:
    """The about page: `PARVIS_EXTENDED_DESCRIPTION`, else the description."""
    settings = rt.settings
    return json_response({"updated_at": _updated_at(settings), "content": policies.about(settings)})


@router.get("/api/v1/instance/privacy_policy", response_model=PrivacyPolicy)
def privacy_policy(rt: RuntimeDep) -> Response:
    """`PARVIS_PRIVACY_POLICY`, else Parvis's own account of what it stores."""
    settings = rt.settings
    return json_response(
        {"updated_at": _updated_at(settings), "content": policies.privacy(settings)}
    )


def _terms_json(rt: RuntimeDep) -> dict[str, Any]:
    settings = rt.settings
    texts = rt.read(lambda work: [r.text for r in rule_service.current(work)])
    return {
        "effective_date": settings.policies_updated.isoformat(),
        "effective": True,
        "content": policies.terms(settings, texts),
        "succeeded_by": None,
    }


@router.get("/api/v1/instance/terms_of_service", response_model=TermsOfService)
def terms_of_service(rt: RuntimeDep) -> Response:
    """`PARVIS_TERMS_OF_SERVICE`, else the server's rules; one version, in effect since
    `PARVIS_POLICIES_UPDATED`."""
    return json_response(_terms_json(rt))


@router.get(
    "/api/v1/instance/terms_of_service/{date}", response_model=TermsOfService, responses=ERRORS
)
def terms_of_service_at(date: str, rt: RuntimeDep) -> Response:
    """The terms in effect from `date` (YYYY-MM-DD): only the current version is kept."""
    if date != rt.settings.policies_updated.isoformat():
        raise NotFound("Record not found")
    return json_response(_terms_json(rt))


@router.get("/api/v1/instance/languages", response_model=list[Language])
def languages() -> Response:
    """Every ISO 639-1 language a post may be tagged with, with its English name."""
    return json_response([{"code": code, "name": name} for code, name in ISO_639_1.items()])


@router.get("/api/v1/instance/translation_languages", response_model=dict[str, list[str]])
def translation_languages() -> Response:
    """Parvis does not translate: no language pairs."""
    return json_response({})


@router.get("/api/v1/instance/domain_blocks", response_model=list[DomainBlock])
def domain_blocks() -> Response:
    """Servers this one blocks: none (Parvis does not federate yet)."""
    return json_response([])


ACTIVITY_WEEKS = 12


def weekly_activity(work: Work) -> list[dict[str, str]]:
    """12 weeks, the current one first; a week starts on Monday 00:00 UTC (Mastodon counts
    weeks the same way). Figures: local posts, distinct users who signed in, sign-ups."""
    now = work.now().astimezone(UTC)
    monday = (now - timedelta(days=now.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    figures = work.store.activity
    out = []
    for i in range(ACTIVITY_WEEKS):
        start = monday - timedelta(weeks=i)
        end = start + timedelta(weeks=1)
        out.append(
            {
                "week": str(int(start.timestamp())),
                "statuses": str(figures.local_statuses(start, end)),
                "logins": str(figures.logins(start, end)),
                "registrations": str(figures.registrations(start, end)),
            }
        )
    return out


@router.get("/api/v1/instance/activity", response_model=list[WeeklyActivity])
def activity(rt: RuntimeDep) -> Response:
    """Weekly activity of the last 12 weeks, the current week first."""
    return json_response(rt.read(weekly_activity))


@router.get("/api/v1/custom_emojis", response_model=list[CustomEmoji])
def custom_emojis() -> Response:
    """Custom emoji are not supported: always an empty list."""
    return json_response([])


@router.get("/api/v1/preferences", response_model=Preferences, responses=ERRORS)
def preferences(rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """The user's posting defaults (set through update_credentials' `source`)."""

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "read:accounts")
        user = work.store.accounts.user(me.account_id)
        if user is None:
            raise NotFound("Record not found")
        return {
            "posting:default:visibility": user.default_visibility.value,
            "posting:default:sensitive": user.default_sensitive,
            "posting:default:language": user.default_language or None,
            "reading:expand:media": "default",
            "reading:expand:spoilers": False,
            "reading:autoplay:gifs": False,
        }

    return json_response(rt.read(run))


# -- NodeInfo (https://nodeinfo.diaspora.software) -------------------------------------------------


@router.get("/.well-known/nodeinfo", response_model=NodeInfoLinks, tags=["nodeinfo"])
def nodeinfo_links(rt: RuntimeDep) -> Response:
    base = rt.settings.base_url
    return json_response(
        {
            "links": [
                {"rel": NODEINFO_PROFILE.format(v), "href": f"{base}/nodeinfo/{v}"}
                for v in ("2.0", "2.1")
            ]
        }
    )


def _nodeinfo(rt: Any, version: str) -> Response:
    settings = rt.settings
    counts = rt.read(lambda work: _counts(work, active=True))
    software: dict[str, str] = {"name": "parvis", "version": __version__}
    if version == "2.1":
        software["repository"] = _source_url(settings)
        software["homepage"] = settings.base_url
    body = {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"outbound": [], "inbound": []},
        "usage": {
            "users": {
                "total": counts["user_count"],
                "activeMonth": counts["active_month"],
                "activeHalfyear": counts["active_halfyear"],
            },
            "localPosts": counts["status_count"],
        },
        "openRegistrations": _registrations(settings)[0],
        "metadata": {"nodeName": settings.title, "nodeDescription": settings.description},
    }
    response = json_response(body)
    response.headers["Content-Type"] = (
        f'application/json; profile="{NODEINFO_PROFILE.format(version)}#"'
    )
    return response


@router.get("/nodeinfo/2.0", response_model=NodeInfo, tags=["nodeinfo"])
def nodeinfo_20(rt: RuntimeDep) -> Response:
    return _nodeinfo(rt, "2.0")


@router.get("/nodeinfo/2.1", response_model=NodeInfo, tags=["nodeinfo"])
def nodeinfo_21(rt: RuntimeDep) -> Response:
    return _nodeinfo(rt, "2.1")
