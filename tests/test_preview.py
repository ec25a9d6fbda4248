"""`digest preview`: answers on 127.0.0.1 only, shows editions, readers, sizes; writes nothing."""

from __future__ import annotations

import _socket
import contextlib
import errno
import socket
import urllib.request
from pathlib import Path

import pytest

from digest import app, preview
from digest import config as config_mod

from . import emails


@pytest.fixture
def server(sample: Path):
    cfg = config_mod.load(sample)
    app.build(cfg, now=emails.NOW)
    source = app.preview_source(cfg, emails.NOW.date(), now=emails.NOW)
    srv = preview.PreviewServer(source, 0)
    srv.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def _other_addresses() -> list[str]:
    """Addresses of this machine other than 127.0.0.1 (the unguarded C socket: no packet leaves)."""
    found = {"127.0.0.2"}
    with contextlib.suppress(OSError):
        found.add(socket.gethostbyname(socket.gethostname()))
    probe = _socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # UDP connect picks the outward interface, sends nothing
        found.add(probe.getsockname()[0])
    except OSError:
        pass
    finally:
        probe.close()
    return sorted(found - {"127.0.0.1", "0.0.0.0"})


def test_binds_loopback_only(server):
    assert server.server_address[0] == "127.0.0.1"
    assert _get(server.url)[0] == 200
    port = server.server_address[1]
    others = _other_addresses()
    if not others:
        pytest.skip("this machine has no address besides 127.0.0.1")
    for address in others:
        s = _socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(3)
        try:
            code = s.connect_ex((address, port))
        finally:
            s.close()
        assert code in (errno.ECONNREFUSED, errno.ETIMEDOUT, errno.EHOSTUNREACH,
                        errno.ENETUNREACH, errno.EAGAIN), (address, code)


def test_index_lists_editions_readers_and_sizes(server):
    status, page = _get(server.url)
    assert status == 200
    for text in ("Defence Daily", "/edition/all", "/edition/superpowers%2Bmissile-defense",
                 "/reader/ana%40example.org", "KB of 102 KB", "ben@example.org"):
        assert text in page, text


def test_reader_page_shows_both_widths_dark_toggle_text_and_headers(server):
    status, page = _get(server.url + "reader/ana@example.org")
    assert status == 200
    assert 'width="600"' in page and 'width="375"' in page
    assert 'id="dark"' in page and "List-Unsubscribe" in page and "Text part" in page
    assert "Good morning, Ana." in page  # the text part, personalised
    status, email_html = _get(server.url + "raw-reader/ana@example.org?dark=0")
    assert status == 200 and email_html.startswith("<!doctype html>")
    assert "@media (prefers-color-scheme: dark)" in email_html
    status, dark = _get(server.url + "raw-reader/ana@example.org?dark=1")
    assert "@media (prefers-color-scheme: dark)" not in dark and "@media all" in dark


def test_unknown_pages_are_404(server):
    for path in ("edition/nope", "reader/nobody@example.org", "raw-edition/../../etc/passwd", "x"):
        assert _get(server.url + path)[0] == 404


def test_preview_changes_nothing_in_the_store(sample: Path):
    cfg = config_mod.load(sample)
    app.build(cfg, now=emails.NOW)
    state = cfg.state.read_bytes()
    outbox = sorted((p, p.stat().st_mtime_ns) for p in cfg.outbox.rglob("*"))
    source = app.preview_source(cfg, emails.NOW.date(), now=emails.NOW)
    for ed in source.editions():
        assert source.edition(ed.key) is not None
        for r in ed.readers:
            assert source.reader(r) is not None
    assert cfg.state.read_bytes() == state
    assert sorted((p, p.stat().st_mtime_ns) for p in cfg.outbox.rglob("*")) == outbox


def test_cli_preview_is_documented_and_needs_a_built_edition(sample: Path):
    from click.testing import CliRunner

    from digest.cli import main
    result = CliRunner().invoke(main, ["--config", str(sample), "preview", "--no-open",
                                       "--date", "2025-07-04"])
    assert result.exit_code == 2
    assert "no edition of 2025-07-04 has been built yet" in result.output
    help_text = CliRunner().invoke(main, ["preview", "--help"]).output
    assert "--no-open" in help_text and "--port" in help_text and "127.0.0.1" in help_text
