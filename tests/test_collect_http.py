"""The collector against a real HTTP server on loopback whose paths misbehave on purpose."""

from __future__ import annotations

import datetime as dt
import gc
import json
import logging
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from digest import app, cli
from digest import collect as collect_stage
from digest import config as config_mod
from digest.collect import Limits
from digest.models import FeedSpec, FeedState

from .feedserver import FeedServer, gzip_member, json_feed, rss

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
# Timeouts in seconds small enough for tests; parsing in this process unless a test wants the pool.
FAST = Limits(connect_timeout=1, read_timeout=1, deadline=2, parse_workers=0)

TRUNCATED = "\n".join([
    '<?xml version="1.0"?>',
    '<rss version="2.0"><channel><title>Cut</title>',
    *(f"<item><title>Cut {i}</title><link>https://cut.example.org/{i}</link></item>" for i in (1, 2, 3)),
    "<item><title>Cut 4</title><link>https://cut.exa",
]).encode()
BOMB_MEMBER = gzip_member(16 * 1024 * 1024)
BOMB_REPEAT = 640  # 10 GB of zeros, ~10 MB on the wire


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    s = FeedServer()
    lm = "Wed, 02 Jul 2025 08:00:00 GMT"
    s.static("/good/a.xml", rss("Alpha", 5), etag='"a1"', last_modified=lm)
    s.static("/good/b.xml", rss("Bravo", 4), last_modified=lm)
    s.static("/good/c.xml", rss("Charlie", 3))
    s.static("/json", json_feed("Juliet", 3), "application/feed+json")
    s.redirect("/301.xml", 301, "/good/a.xml")
    s.redirect("/308.xml", 308, s.url("/good/c.xml"))
    s.redirect("/302.xml", 302, "/good/a.xml")
    s.redirect("/301-then-302.xml", 301, "/302.xml")
    s.status("/404.xml", 404)
    s.status("/410.xml", 410)
    s.status("/429.xml", 429, {"Retry-After": "60"})
    s.status("/500.xml", 500)
    s.status("/503.xml", 503, {"Retry-After": "120"})
    s.stall("/slow.xml", 3)
    s.trickle("/trickle.xml", 5)
    s.redirect("/loop.xml", 302, "/loop2.xml")
    s.redirect("/loop2.xml", 302, "/loop.xml")
    s.static("/truncated.xml", TRUNCATED)
    s.static("/truncated-empty.xml", b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>X')
    s.static("/page.html", b"<!DOCTYPE html><html><head><title>Hi</title></head><body><p>Home</p>"
             b"</body></html>", "text/html; charset=utf-8")
    s.static("/octets", b"\x00\x01\x02binary", "application/octet-stream")
    s.huge("/huge.xml", 15 * 1024 * 1024)
    s.bomb("/bomb.xml", BOMB_MEMBER, BOMB_REPEAT)
    s.start()
    yield s
    s.stop()


def closed_port() -> str:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/feed.xml"


def run_one(url: str, state: FeedState | None = None, limits: Limits = FAST,
            now: dt.datetime = NOW) -> collect_stage.Fetched:
    feed = FeedSpec("f", url)
    [result] = collect_stage.collect([feed], {"f": state} if state else {}, now=now, limits=limits)
    return result


# ---------------------------------------------------------------- one feed, one status

CASES = [
    # id, path, status, error, entries
    ("ok", "/good/a.xml", "ok", "", 5),
    ("json-feed", "/json", "ok", "", 3),
    ("302-is-not-a-move", "/302.xml", "ok", "", 5),
    ("404", "/404.xml", "error", "HTTP 404 Not Found", 0),
    ("410", "/410.xml", "gone", "HTTP 410 Gone: the feed was removed; drop it from the config", 0),
    ("429-retry-after", "/429.xml", "error", "HTTP 429 Too Many Requests, retry after 60 s", 0),
    ("500", "/500.xml", "error", "HTTP 500 Internal Server Error", 0),
    ("503-retry-after", "/503.xml", "error", "HTTP 503 Service Unavailable, retry after 120 s", 0),
    ("slower-than-read-timeout", "/slow.xml", "error", "timed out after 1 s", 0),
    ("slower-than-deadline", "/trickle.xml", "error", "timed out after 2 s", 0),
    ("redirect-loop", "/loop.xml", "error", "too many redirects", 0),
    ("truncated-xml", "/truncated.xml", "ok", "malformed XML at line 6; 4 entries recovered", 4),
    ("truncated-nothing-left", "/truncated-empty.xml", "error",
     "malformed XML at line 2; no entries recovered", 0),
    ("html-page", "/page.html", "error", "not a feed: got text/html", 0),
    ("binary", "/octets", "error", "not a feed: got application/octet-stream", 0),
    ("15-mb", "/huge.xml", "error", "larger than 10 MB", 0),
]


@pytest.mark.parametrize(("path", "status", "error", "entries"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_status(server: FeedServer, path: str, status: str, error: str, entries: int) -> None:
    result = run_one(server.url(path))
    assert (result.status.status, result.status.error, len(result.articles)) == (status, error, entries)
    assert result.state.failures == (0 if status == "ok" else 1)
    assert result.state.status == status


@pytest.mark.parametrize(("path", "target"), [("/301.xml", "/good/a.xml"), ("/308.xml", "/good/c.xml"),
                                              ("/301-then-302.xml", "/302.xml")],
                         ids=["301", "308", "301-then-302-records-only-the-permanent-hop"])
def test_permanent_redirect_is_a_move(server: FeedServer, path: str, target: str) -> None:
    result = run_one(server.url(path))
    assert (result.status.status, result.status.new_url) == ("moved", server.url(target))
    assert result.articles and result.state.failures == 0


def test_cannot_connect() -> None:
    result = run_one(closed_port())
    assert (result.status.status, result.status.error) == ("error", "cannot connect: connection refused")


def test_user_agent_names_the_tool(server: FeedServer) -> None:
    run_one(server.url("/good/c.xml"))
    assert server.user_agents[-1].startswith("digest/0.1.0 ")


def test_retry_after_is_stored_and_honoured(server: FeedServer) -> None:
    first = run_one(server.url("/503.xml"))
    assert dt.datetime.fromisoformat(first.state.retry_after) >= NOW + dt.timedelta(seconds=119)
    hits = server.hits["/503.xml"]
    skipped = run_one(server.url("/503.xml"), first.state)
    until = dt.datetime.fromisoformat(first.state.retry_after)
    assert skipped.status.status == "error"
    assert skipped.status.error == f"not tried: the server asked us to wait until {until:%Y-%m-%d %H:%M} UTC"
    assert skipped.state.failures == 1  # waiting is not another failure
    assert server.hits["/503.xml"] == hits
    later = run_one(server.url("/503.xml"), skipped.state, now=NOW + dt.timedelta(minutes=3))
    assert server.hits["/503.xml"] == hits + 1 and later.state.failures == 2


# ---------------------------------------------------------------- conditional GET


@pytest.mark.parametrize("path", ["/good/a.xml", "/good/b.xml", "/good/c.xml"],
                         ids=["etag-304", "last-modified-304", "no-validators-same-hash"])
def test_second_fetch_costs_no_parse(server: FeedServer, path: str) -> None:
    first = run_one(server.url(path))
    assert first.status.status == "ok" and first.articles
    second = run_one(server.url(path), first.state)
    assert (second.status.status, second.articles) == ("not-modified", ())
    assert second.state.etag == first.state.etag and second.state.body_hash == first.state.body_hash


def test_changed_url_drops_old_validators(server: FeedServer) -> None:
    first = run_one(server.url("/good/a.xml"))
    again = run_one(server.url("/good/c.xml"), first.state)
    assert again.status.status == "ok" and again.articles


# ---------------------------------------------------------------- size, bombs, concurrency


def test_gzip_bomb_stops_early_with_small_memory(server: FeedServer) -> None:
    limits = Limits(connect_timeout=5, read_timeout=5, deadline=20, max_bytes=1024 * 1024,
                    parse_workers=0)
    gc.collect()
    tracemalloc.start()
    started = time.monotonic()
    try:
        result = run_one(server.url("/bomb.xml"), limits=limits)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (result.status.status, result.status.error) == ("error", "larger than 1 MB")
    assert time.monotonic() - started < 5
    assert peak < 4 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    # The server got to send a small part of its 10 MB before the client hung up.
    time.sleep(0.2)
    assert server.sent["/bomb.xml"] < len(BOMB_MEMBER) * BOMB_REPEAT // 2


def test_per_host_limit_and_process_pool() -> None:
    s = FeedServer().start()
    try:
        for i in range(8):
            s.static(f"/f{i}.xml", rss(f"Feed {i}", 2), delay=1.0)
        feeds = [FeedSpec(f"f{i}", s.url(f"/f{i}.xml")) for i in range(8)]
        limits = Limits(read_timeout=5, per_host=2, parse_workers=2)
        seen = []
        results = list(collect_stage.collect(feeds, {}, now=NOW, limits=limits, progress=seen.append))
    finally:
        s.stop()
    assert s.max_in_flight == 2
    assert sorted(r.status.feed_id for r in results) == [f"f{i}" for i in range(8)]
    assert all(r.status.status == "ok" and len(r.articles) == 2 for r in results)
    assert seen == results


# ---------------------------------------------------------------- the store: failures in a row


def write_config(folder: Path, feeds: dict[str, str]) -> Path:
    lines = ['[digest]', 'name = "Test Daily"', 'from = "Test <news@example.org>"',
             'site_url = "https://example.org"', 'unsubscribe = "https://example.org/u?e={email}"',
             'window_hours = 48', '']
    for fid, url in feeds.items():
        lines += ["[[feeds]]", f'id = "{fid}"', f'url = "{url}"', ""]
    lines += ['[[topics]]', 'id = "news"', 'title = "News"', '',
              '[[subscribers]]', 'email = "ana@example.org"', 'name = "Ana"', '']
    path = folder / "digest.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_failures_in_a_row_are_counted_and_flagged(server: FeedServer, tmp_path: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    path = write_config(tmp_path, {"good": server.url("/good/a.xml"), "broken": server.url("/500.xml")})
    config = config_mod.load(path)
    for run in (1, 2, 3):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="digest"):
            result = app.collect(config, limits=FAST)
        broken = next(f for f in result.feeds if f.feed_id == "broken")
        assert broken.failures == run
        assert [f.feed_id for f in result.failing] == (["broken"] if run >= 3 else [])
    assert "feed broken has failed 3 runs in a row: HTTP 500 Internal Server Error" in caplog.text
    assert "broken: HTTP 500 Internal Server Error [failing 3 runs in a row]" in cli._feeds_summary(result)


# ---------------------------------------------------------------- good and bad feeds in one build


def test_build_with_good_and_bad_feeds(server: FeedServer, tmp_path: Path) -> None:
    bad = {
        "notfound": ("/404.xml", "error", "HTTP 404 Not Found"),
        "removed": ("/410.xml", "gone", "HTTP 410 Gone: the feed was removed; drop it from the config"),
        "broken": ("/500.xml", "error", "HTTP 500 Internal Server Error"),
        "busy": ("/503.xml", "error", "HTTP 503 Service Unavailable, retry after 120 s"),
        "loop": ("/loop.xml", "error", "too many redirects"),
        "homepage": ("/page.html", "error", "not a feed: got text/html"),
        "cut": ("/truncated-empty.xml", "error", "malformed XML at line 2; no entries recovered"),
        "huge": ("/huge.xml", "error", "larger than 10 MB"),
        "bomb": ("/bomb.xml", "error", "larger than 10 MB"),
    }
    feeds = {"alpha": server.url("/good/a.xml"), "bravo": server.url("/good/b.xml"),
             "juliet": server.url("/json"), "moved": server.url("/308.xml")}
    feeds |= {fid: server.url(p) for fid, (p, _s, _e) in bad.items()}
    feeds["down"] = closed_port()
    path = write_config(tmp_path, feeds)
    result = CliRunner().invoke(cli.main, ["--config", str(path), "build"])
    assert result.exit_code == 0, result.output
    [folder] = (tmp_path / "outbox").iterdir()
    manifest = json.loads((folder / "manifest.json").read_text())
    statuses = {f["id"]: (f["status"], f["error"]) for f in manifest["feeds"]}
    expected = {fid: (s, e) for fid, (_p, s, e) in bad.items()}
    expected["down"] = ("error", "cannot connect: connection refused")
    assert {k: statuses[k] for k in expected} == expected
    moved = next(f for f in manifest["feeds"] if f["id"] == "moved")
    assert (moved["status"], moved["new_url"]) == ("moved", server.url("/good/c.xml"))
    assert {a["feed"] for a in manifest["articles"]} == {"alpha", "bravo", "juliet", "moved"}
    summary = result.output.strip().splitlines()[-1]
    assert summary.startswith("4 feeds ok, 10 failed (")
    for fid, (_status, error) in expected.items():
        assert f"{fid}: {error}" in summary
    assert "moved moved to " + server.url("/good/c.xml") in summary


def test_every_feed_failed_exits_1(server: FeedServer, tmp_path: Path) -> None:
    path = write_config(tmp_path, {"a": server.url("/404.xml"), "b": server.url("/410.xml")})
    result = CliRunner().invoke(cli.main, ["--config", str(path), "collect"])
    assert result.exit_code == 1
    assert "0 feeds ok, 2 failed" in result.output
