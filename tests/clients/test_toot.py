"""toot's own integration suite (the Mastodon CLI client, from PyPI) against a real Parvis.

toot ships `tests/integration/` in its source distribution: about a hundred tests that drive
its command-line interface against the server named by `TOOT_TEST_BASE_URL`. They register an
app (`POST /api/v1/apps`), sign users up through the API (`POST /api/v1/accounts` with a
client-credentials token, used at once: no e-mail confirmation), then post, read, follow, edit
their profile, upload media, vote in polls, manage lists and tags.

Nothing of toot is committed here. The source distribution of exactly the version that uv.lock
pins (its URL and sha256 are in the lock) is downloaded once into `.cache/toot/` (gitignored),
checked against the sha256, and its tests are extracted. They run in a subprocess, with the
installed `toot` (the same locked version: checked), against a Parvis served on loopback by the
`live_server` fixture; their JUnit XML report is read back so that each failure is reported
here by name, with its message.

Tests of theirs that cannot pass against any server like ours are deselected in `DESELECTED`,
each with its reason (the same list is in README.md, "Compatibility").
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import tomllib
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from importlib.metadata import version as installed_version
from pathlib import Path

import pytest

from tests.clients.conftest import LiveServer
from tests.conftest import REQUIRE_SERVICES

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache" / "toot"
SUITE_TIMEOUT_S = 900
# While fixing one of their failures: PARVIS_TOOT_SELECT="test_timelines_v2" runs only the
# tests that this `-k` expression picks.
SELECT = os.environ.get("PARVIS_TOOT_SELECT", "")

# toot's tests that we deselect, each with its reason (node ids relative to their suite).
DESELECTED: dict[str, str] = {
    "test_auth.py::test_login_cli": (
        "logs in at the hard-coded http://localhost:3000, not at TOOT_TEST_BASE_URL"
    ),
    "test_auth.py::test_login_cli_wrong_password": (
        "logs in at the hard-coded http://localhost:3000, not at TOOT_TEST_BASE_URL"
    ),
    "test_post.py::test_media_thumbnail": (
        "uploads a WebM video and expects it transcoded to MP4 (ffmpeg); Parvis takes images only"
    ),
    "test_post.py::test_post_scheduled_at_error": (
        "expects Mastodon's bare 'Record invalid' for an unreadable scheduled_at; Parvis says "
        "what is wrong with it"
    ),
    "test_polls.py::test_vote_not_multiple": (
        "expects the wrong error that Mastodon gives (their comment says so) for two choices "
        "in a single-choice poll; Parvis says the poll allows a single choice"
    ),
}


@dataclass(frozen=True)
class Sdist:
    version: str
    url: str
    sha256: str


def locked_sdist() -> Sdist:
    """The sdist of `toot` as uv.lock records it."""
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    for package in lock["package"]:
        if package["name"] == "toot":
            sdist = package["sdist"]
            algorithm, _, digest = str(sdist["hash"]).partition(":")
            assert algorithm == "sha256", sdist["hash"]
            return Sdist(str(package["version"]), str(sdist["url"]), digest)
    raise AssertionError("toot is not in uv.lock: it belongs to the dev dependency group")


def unavailable(message: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(message + " (PARVIS_REQUIRE_SERVICES=1: the toot suite is required here)")
    pytest.skip(message)


def fetch_suite(sdist: Sdist) -> Path:
    """The extracted sdist (its tests/ and the image they upload), downloaded once."""
    root = CACHE / f"toot-{sdist.version}"
    marker = root / ".extracted"
    if marker.exists() and marker.read_text() == sdist.sha256:
        return root
    CACHE.mkdir(parents=True, exist_ok=True)
    archive = CACHE / f"toot-{sdist.version}.tar.gz"
    if not (archive.exists() and _sha256(archive) == sdist.sha256):
        partial = archive.with_suffix(".part")
        try:
            with urllib.request.urlopen(sdist.url, timeout=60) as response:
                partial.write_bytes(response.read())
        except OSError as exc:
            partial.unlink(missing_ok=True)
            unavailable(f"cannot download toot's sdist ({sdist.url}): {exc}")
        got = _sha256(partial)
        if got != sdist.sha256:
            partial.unlink()
            pytest.fail(f"toot's sdist has sha256 {got}, uv.lock says {sdist.sha256}")
        partial.replace(archive)
    prefix = f"toot-{sdist.version}/"
    wanted = ("tests/", "trumpet.png", "pytest.ini")
    with tarfile.open(archive) as tar:
        members = [
            m
            for m in tar.getmembers()
            if m.name.startswith(prefix) and m.name.removeprefix(prefix).startswith(wanted)
        ]
        for member in members:  # what `filter="data"` checks, for Pythons before 3.11.4
            if member.name.startswith("/") or ".." in Path(member.name).parts:
                pytest.fail(f"toot's sdist holds a path outside itself: {member.name}")
            if not (member.isfile() or member.isdir()):
                pytest.fail(f"toot's sdist holds a link or device: {member.name}")
        if hasattr(tarfile, "data_filter"):
            tar.extractall(CACHE, members=members, filter="data")
        else:
            tar.extractall(CACHE, members=members)
    marker.write_text(sdist.sha256)
    return root


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Outcome:
    name: str  # path::test, relative to their suite
    kind: str  # passed, failed, error, skipped
    message: str


def read_junit(path: Path) -> list[Outcome]:
    outcomes = []
    for case in ET.parse(path).getroot().iter("testcase"):
        module = str(case.get("classname", "")).replace(".", "/")
        name = f"{module}.py::{case.get('name')}"
        kind, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                kind = child.tag
                message = (child.get("message") or "").strip()
                detail = (child.text or "").strip().splitlines()
                # The last line of the traceback says where (their file and line): keep it.
                if detail:
                    where = detail[-1].rsplit(": ", 1)[0] if message else detail[-1]
                    message = f"{where}: {message}" if message else where
                break
        outcomes.append(Outcome(name, kind, message))
    return outcomes


def test_toot_integration_suite(live_server: LiveServer, tmp_path: Path) -> None:
    sdist = locked_sdist()
    assert installed_version("toot") == sdist.version, "run `uv sync`: toot differs from uv.lock"
    suite = fetch_suite(sdist)
    report = tmp_path / "toot-junit.xml"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "tests/integration",
        "-p",
        "no:cacheprovider",
        "-q",
        "--no-header",
        "-rN",
        f"--junitxml={report}",
        "-o",
        "junit_family=xunit2",
        *(arg for node in DESELECTED for arg in ("--deselect", f"tests/integration/{node}")),
    ]
    if SELECT:
        command += ["-k", SELECT]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "TOOT_"))}
    env["TOOT_TEST_BASE_URL"] = live_server.url
    done = subprocess.run(
        command,
        cwd=suite,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUITE_TIMEOUT_S,
        check=False,
    )
    assert report.exists(), f"toot's suite did not run:\n{done.stdout[-3000:]}\n{done.stderr}"
    outcomes = read_junit(report)
    by_kind: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        by_kind.setdefault(outcome.kind, []).append(outcome)
    passed = len(by_kind.get("passed", []))
    assert passed >= (0 if SELECT else 50), (
        f"only {passed} of toot's tests passed:\n{done.stdout[-3000:]}"
    )
    broken = by_kind.get("failure", []) + by_kind.get("error", [])
    assert not broken, (
        f"{len(broken)} of toot's {len(outcomes)} integration tests failed against Parvis "
        f"({live_server.backend}):\n  "
        + "\n  ".join(f"{o.name} [{o.kind}]: {o.message[:300]}" for o in broken)
    )
    # Their own skips are conditions of theirs (e.g. a feature the server's version lacks):
    # none is expected against Parvis.
    skipped = by_kind.get("skipped", [])
    assert not skipped, "toot skipped tests:\n  " + "\n  ".join(
        f"{o.name}: {o.message}" for o in skipped
    )
