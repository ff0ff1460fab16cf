"""The operator's domain blocks: suspend (refuse, suspend the accounts, cut the follows; lifted
cleanly), limit (public posts kept out of public timelines), reject media, reject reports, the
subdomain rule; and `parvis domains block|unblock|list` on a real data directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from parvis.app import Parvis
from parvis.domain.activitypub import parse
from parvis.domain.errors import Invalid, NotFound
from parvis.domain.models import Account
from parvis.services import (
    accounts,
    domain_policy,
    inbound_notes,
    inbound_social,
    remote_actors,
)
from parvis.services.context import Work

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def remote(parvis: Parvis, username: str, host: str) -> Account:
    uri = f"https://{host}/users/{username}"
    doc = {
        "id": uri,
        "type": "Person",
        "preferredUsername": username,
        "inbox": f"{uri}/inbox",
        "followers": f"{uri}/followers",
    }
    return parvis.runtime.write(lambda work: remote_actors.store_actor(work, parse.actor(doc)))


def local(parvis: Parvis, username: str) -> Account:
    reg = accounts.Registration(
        username=username,
        email=f"{username}@example.org",
        password="correct horse battery",
        agreement=True,
    )

    def make(work: Work) -> Account:
        user = accounts.register(work, reg)
        found = work.store.accounts.get(user.account_id)
        assert found is not None
        return found

    return parvis.runtime.write(make)


def note(author: Account, n: int, **extra: Any) -> parse.RemoteNote:
    doc = {
        "id": f"{author.uri}/statuses/{n}",
        "type": "Note",
        "attributedTo": author.uri,
        "content": f"<p>post {n}</p>",
        "to": [PUBLIC],
        "attachment": [
            {"type": "Document", "mediaType": "image/png", "url": "https://x.example/a.png"}
        ],
    }
    doc.update(extra)
    return parse.note(doc)


def follow(work: Work, follower: int, followed: int) -> None:
    work.store.social.add("follows", follower, followed, work.now())
    work.store.accounts.adjust_counts(follower, following_count=1)
    work.store.accounts.adjust_counts(followed, followers_count=1)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Example.ORG", "example.org"),
        ("https://example.org/about", "example.org"),
        ("*.example.org", "example.org"),
        ("example.org.", "example.org"),
        ("bücher.example", "xn--bcher-kva.example"),
    ],
)
def test_domains_are_normalized(given: str, stored: str) -> None:
    assert domain_policy.normalize_domain(given) == stored


@pytest.mark.parametrize("bad", ["", "localhost", "not a domain", "exa mple.org", "a..b"])
def test_bad_domains_are_refused(bad: str) -> None:
    with pytest.raises(Invalid):
        domain_policy.normalize_domain(bad)


def test_policy_covers_subdomains_most_specific_first(parvis: Parvis) -> None:
    rt = parvis.runtime
    rt.write(lambda w: domain_policy.block(w, "example.org", "limit", reject_media=True))
    rt.write(lambda w: domain_policy.block(w, "cdn.example.org", "noop", reject_reports=True))
    assert rt.read(lambda w: domain_policy.policy_for(w, "a.b.example.org:8443")).limited
    cdn = rt.read(lambda w: domain_policy.policy_for(w, "x.cdn.example.org"))
    assert cdn.severity == "noop" and cdn.reject_reports and not cdn.reject_media
    assert rt.read(lambda w: domain_policy.policy_for(w, "example.com")) == domain_policy.OPEN
    assert rt.read(lambda w: domain_policy.policy_for(w, "badexample.org")) == domain_policy.OPEN


def test_suspend_suspends_cuts_follows_and_lifts_cleanly(parvis: Parvis) -> None:
    rt = parvis.runtime
    bob = local(parvis, "bob")
    eve = remote(parvis, "eve", "evil.example")
    sub = remote(parvis, "sub", "a.evil.example")
    other = remote(parvis, "ok", "good.example")
    already = remote(parvis, "already", "evil.example")
    rt.write(lambda w: w.store.remote.set_suspended(already.id, w.now()))
    rt.write(lambda w: follow(w, bob.id, eve.id))
    rt.write(lambda w: follow(w, eve.id, bob.id))
    rt.write(lambda w: follow(w, bob.id, other.id))

    block = rt.write(lambda w: domain_policy.block(w, "evil.example", "suspend"))
    found = rt.read(lambda w: w.store.accounts.get_many([eve.id, sub.id, other.id, bob.id]))
    assert found[eve.id].suspended and found[sub.id].suspended
    assert not found[other.id].suspended
    assert found[bob.id].following_count == 1 and found[bob.id].followers_count == 0
    assert rt.read(lambda w: w.store.social.has("follows", bob.id, other.id))
    assert block.domain == "evil.example" and block.severity == "suspend"

    rt.write(lambda w: domain_policy.unblock(w, "evil.example"))
    found = rt.read(lambda w: w.store.accounts.get_many([eve.id, sub.id, already.id]))
    assert not found[eve.id].suspended and not found[sub.id].suspended
    assert found[already.id].suspended  # suspended before, for another reason
    assert not rt.read(lambda w: w.store.social.has("follows", bob.id, eve.id))
    with pytest.raises(NotFound):
        rt.write(lambda w: domain_policy.unblock(w, "evil.example"))


def test_suspend_then_limit_lifts_the_suspension(parvis: Parvis) -> None:
    rt = parvis.runtime
    eve = remote(parvis, "eve", "evil.example")
    rt.write(lambda w: domain_policy.block(w, "evil.example", "suspend"))
    rt.write(lambda w: domain_policy.block(w, "evil.example", "limit"))
    assert not rt.read(lambda w: w.store.accounts.get(eve.id)).suspended  # type: ignore[union-attr]
    assert [b.severity for b in rt.read(domain_policy.every)] == ["limit"]


def test_limit_keeps_posts_out_of_public_timelines_and_reject_media(parvis: Parvis) -> None:
    rt = parvis.runtime
    loud = remote(parvis, "loud", "loud.example")
    quiet = remote(parvis, "quiet", "quiet.example")
    rt.write(lambda w: domain_policy.block(w, "loud.example", "limit", reject_media=True))

    def store(work: Work, author: Account, n: int) -> Any:
        policy = domain_policy.policy_for(work, author.domain or "")
        return inbound_notes.create_note(work, note(author, n), author, policy)

    limited = rt.write(lambda w: store(w, loud, 1))
    normal = rt.write(lambda w: store(w, quiet, 1))
    assert limited.visibility.value == "unlisted" and limited.media == ()
    assert normal.visibility.value == "public" and len(normal.media) == 1
    public = rt.read(
        lambda w: w.store.statuses.public_ids(
            local=None, only_media=False, max_id=None, since_id=None, min_id=None, limit=20
        )
    )
    assert public == [normal.id]


def test_reject_reports_ignores_flags(parvis: Parvis) -> None:
    rt = parvis.runtime
    bob = local(parvis, "bob")
    reporter = remote(parvis, "mod", "noisy.example")
    flag = parse.activity(
        {
            "id": "https://noisy.example/flags/1",
            "type": "Flag",
            "actor": reporter.uri,
            "object": [bob.uri],
            "content": "please",
        }
    )
    rt.write(lambda w: domain_policy.block(w, "noisy.example", "noop", reject_reports=True))
    policy = rt.read(lambda w: domain_policy.policy_for(w, "noisy.example"))
    outcome = rt.write(lambda w: inbound_social.flag(w, flag, policy))
    assert outcome == "ignored: reports from this domain are rejected"
    rt.write(lambda w: domain_policy.unblock(w, "noisy.example"))
    outcome = rt.write(lambda w: inbound_social.flag(w, flag, domain_policy.OPEN))
    assert outcome == "reported"


def test_our_own_domain_and_bad_severities_are_refused(parvis: Parvis) -> None:
    with pytest.raises(Invalid, match="our own domain"):
        parvis.runtime.write(lambda w: domain_policy.block(w, "parvis.test", "suspend"))
    with pytest.raises(Invalid, match="severity"):
        parvis.runtime.write(lambda w: domain_policy.block(w, "example.org", "silence"))


# --- the command ------------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def cli_app(monkeypatch: pytest.MonkeyPatch) -> Any:
    for var in ("DATABASE_URL", "REDIS_URL", "PARVIS_DATA_DIR", "PARVIS_JOBS_IMMEDIATE"):
        monkeypatch.delenv(var, raising=False)
    from parvis.cli import app
    from parvis.cli import domains as _registers_itself  # noqa: F401

    return app


def invoke(app: Any, data: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--data-dir", str(data), *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_every_domains_command_has_help(cli_app: Any) -> None:
    root = typer.main.get_command(cli_app)
    group = root.commands["domains"]  # type: ignore[attr-defined]
    assert group.help and set(group.commands) == {"block", "unblock", "list"}
    for name, command in group.commands.items():
        assert (command.help or "").strip(), name
        for param in command.params:
            assert (getattr(param, "help", "") or "").strip(), f"{name} {param.name}"
        result = runner.invoke(cli_app, ["domains", name, "--help"])
        assert result.exit_code == 0 and result.output.startswith("Usage: ")


def test_domains_block_list_unblock(cli_app: Any, tmp_path: Path) -> None:
    data = tmp_path / "data"
    code, out = invoke(cli_app, data, "domains", "list")
    assert code == 0 and "No domain is blocked." in out
    code, out = invoke(
        cli_app,
        data,
        "domains",
        "block",
        "Spam.Example",
        "--severity",
        "limit",
        "--reject-media",
        "--public-comment",
        "Spam",
        "--private-comment",
        "see ticket 12",
    )
    assert code == 0 and "Blocked spam.example: limit, reject media." in out
    code, out = invoke(cli_app, data, "domains", "block", "evil.example", "--reject-reports")
    assert code == 0 and "Blocked evil.example: suspend, reject reports." in out
    code, out = invoke(cli_app, data, "domains", "list")
    lines = out.strip().splitlines()
    assert lines[0].startswith("evil.example  suspend, reject reports  since ")
    assert lines[1].startswith("spam.example  limit, reject media  since ")
    assert lines[1].endswith("public: Spam  private: see ticket 12")
    code, out = invoke(cli_app, data, "domains", "unblock", "spam.example")
    assert code == 0 and "Unblocked spam.example." in out
    code, out = invoke(cli_app, data, "domains", "unblock", "spam.example")
    assert code == 1 and "spam.example is not blocked" in out
    code, out = invoke(cli_app, data, "domains", "block", "not a domain")
    assert code == 1 and "domain" in out
    code, out = invoke(cli_app, data, "domains", "block", "x.example", "--severity", "silence")
    assert code == 2  # typer refuses a severity that is not one of the three
