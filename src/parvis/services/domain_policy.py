"""The operator's domain blocks, Mastodon's severities:

- `suspend`: nothing from the domain is accepted (its inbox deliveries are refused with a 403
  and nothing is stored), its accounts here are suspended (hidden everywhere) and every follow
  between them and local accounts is severed. Lifting the block lifts the suspensions it made
  (not the follows: they are gone, as in Mastodon).
- `limit` (Mastodon's "silence"): its posts still reach the people who follow its accounts,
  but never the public timelines or trends: public posts are stored as unlisted.
- `noop`: only the flags below apply.

`reject_media`: its posts arrive without attachments; `reject_reports`: its Flags are ignored.
A block on `example.org` covers `*.example.org`.
"""

from __future__ import annotations

from dataclasses import dataclass

from parvis.domain import netguard
from parvis.domain.errors import Invalid, NotFound
from parvis.services.context import Work
from parvis.storage.domain_policy import DomainBlock

SEVERITIES = ("suspend", "limit", "noop")
MAX_COMMENT = 1000


@dataclass(frozen=True)
class Policy:
    """What applies to one host (nothing, when no block matches)."""

    domain: str | None = None  # the blocked domain that matched
    severity: str | None = None
    reject_media: bool = False
    reject_reports: bool = False

    @property
    def suspended(self) -> bool:
        return self.severity == "suspend"

    @property
    def limited(self) -> bool:
        return self.severity == "limit"


OPEN = Policy()


def normalize_domain(domain: str) -> str:
    """A domain as blocks store it (lower-case, IDNA, no port, no trailing dot)."""
    text = domain.strip().lower().removeprefix("*.")
    for prefix in ("https://", "http://"):
        text = text.removeprefix(prefix)
    text = text.split("/", 1)[0]
    try:
        host, address = netguard.normalize_host(text)
    except netguard.RefusedUrl as exc:
        raise Invalid(f"Validation failed: domain: {exc}") from None
    if address is None and "." not in host:
        raise Invalid("Validation failed: domain: a domain name such as example.org")
    return host


def policy_for(work: Work, host: str) -> Policy:
    """The policy for a host (`example.org`, `sub.example.org:8443`)."""
    if not host:
        return OPEN
    found = work.store.domain_policy.matching(host)
    if found is None:
        return OPEN
    return Policy(
        domain=found.domain,
        severity=found.severity,
        reject_media=found.reject_media,
        reject_reports=found.reject_reports,
    )


def block(
    work: Work,
    domain: str,
    severity: str,
    *,
    reject_media: bool = False,
    reject_reports: bool = False,
    public_comment: str = "",
    private_comment: str = "",
) -> DomainBlock:
    """Block a domain, or change its block."""
    name = normalize_domain(domain)
    if name == work.settings.domain.lower().rsplit(":", 1)[0].rstrip("."):
        raise Invalid("Validation failed: domain: this is our own domain")
    if severity not in SEVERITIES:
        raise Invalid("Validation failed: severity: one of " + ", ".join(SEVERITIES))
    if len(public_comment) > MAX_COMMENT or len(private_comment) > MAX_COMMENT:
        raise Invalid(f"Validation failed: comments: at most {MAX_COMMENT} characters")
    before = work.store.domain_policy.get(name)
    found, _ = work.store.domain_policy.put(
        name,
        severity=severity,
        reject_media=reject_media,
        reject_reports=reject_reports,
        public_comment=public_comment.strip(),
        private_comment=private_comment.strip(),
        now=work.now(),
    )
    if severity == "suspend" and (before is None or before.severity != "suspend"):
        _suspend(work, found)
    elif before is not None and before.severity == "suspend" and severity != "suspend":
        work.store.remote.unsuspend_domain(found.domain, found.created_at)
    return found


def unblock(work: Work, domain: str) -> DomainBlock:
    name = normalize_domain(domain)
    found = work.store.domain_policy.get(name)
    if found is None:
        raise NotFound(f"Record not found: {name} is not blocked")
    work.store.domain_policy.remove(name)
    if found.severity == "suspend":
        work.store.remote.unsuspend_domain(found.domain, found.created_at)
    return found


def every(work: Work) -> list[DomainBlock]:
    return work.store.domain_policy.every()


def _suspend(work: Work, found: DomainBlock) -> None:
    """Suspend the domain's accounts (stamped with the block's creation time, so lifting it
    lifts only these) and sever their follows with local accounts."""
    store = work.store
    store.remote.suspend_domain(found.domain, found.created_at)
    remote = set(store.remote.domain_account_ids(found.domain))
    for follower, followed in store.remote.follow_edges(sorted(remote)):
        if store.social.remove("follows", follower, followed):
            store.accounts.adjust_counts(follower, following_count=-1)
            store.accounts.adjust_counts(followed, followers_count=-1)
            if follower not in remote:
                store.feeds.remove_author(follower, followed)
    store.remote.drop_follow_requests(sorted(remote))
