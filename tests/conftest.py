"""Shared fixtures: no network beyond loopback, the sample config, the shared corpus."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="Write missing or changed golden files instead of failing.")


def _is_loopback(address: object) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and (host in ("localhost", "::1") or host.startswith("127.")):
        return True
    return not isinstance(host, str)  # AF_UNIX paths and the like


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse any socket connection that is not to loopback: tests never reach the internet."""
    real = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
            raise OSError(f"test tried to reach {address!r}: tests may only use loopback")
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
def corpus() -> Path:
    """The shared feed corpus (real feeds; not ours to copy into the repo)."""
    feeds = CORPUS / "feeds"
    if not feeds.is_dir():
        pytest.skip(f"the shared corpus is absent (looked in {feeds})")
    return feeds


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A copy of config.example.toml and its sample feeds in a temporary folder."""
    shutil.copy(REPO / "config.example.toml", tmp_path / "digest.toml")
    shutil.copytree(REPO / "digest" / "samples", tmp_path / "digest" / "samples")
    return tmp_path / "digest.toml"
