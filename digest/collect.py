"""Fetch feeds (http(s) or local files) and normalise their entries into Articles.

Only this module talks HTTP. A failing feed is data, a FeedStatus with a
message a person understands, never an exception that stops the run.

Fetching runs in threads (bounded overall and per host); parsing, which is
CPU-bound, runs in a process pool fed as bodies arrive, so a cold collect of
many feeds is limited by parse time rather than by waiting on the network.
"""

from __future__ import annotations

import calendar
import contextlib
import dataclasses
import datetime as dt
import email.utils
import functools
import hashlib
import html
import json
import logging
import multiprocessing
import os
import queue
import re
import sys
import threading
import time
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import feedparser.datetimes
import httpx

from . import __version__
from .models import Article, FeedSpec, FeedState, FeedStatus, Media

log = logging.getLogger(__name__)

USER_AGENT = f"digest/{__version__} (newsletter digest generator; +https://pypi.org/project/digest/)"
ACCEPT = ("application/rss+xml, application/atom+xml, application/feed+json, "
          "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8")
REDIRECTS = (301, 302, 303, 307, 308)
PERMANENT = (301, 308)
# Below this many feeds a process pool costs more to start than it saves.
POOL_THRESHOLD = 4


@dataclass(frozen=True, slots=True)
class Limits:
    """How hard one run tries: seconds for timeouts, bytes for sizes, counts for concurrency."""

    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    deadline: float = 60.0  # whole fetch of one feed, redirects included
    max_redirects: int = 5
    max_bytes: int = 10 * 1024 * 1024
    workers: int = 16  # fetches in flight
    per_host: int = 2  # fetches in flight to one host
    parse_workers: int | None = None  # None: one per core; 0: parse in this process
    max_retry_after: float = 7 * 86400  # a server may not park a feed for longer


@dataclass(frozen=True, slots=True)
class Fetched:
    """One feed's outcome: its status, the state to remember, and its entries."""

    status: FeedStatus
    state: FeedState
    articles: tuple[Article, ...] = ()


@dataclass(frozen=True, slots=True)
class Parsed:
    """What parsing a body gave: entries, the feed's title, a note or a reason it is no feed."""

    articles: tuple[Article, ...] = ()
    title: str = ""
    note: str = ""  # e.g. "malformed XML at line 12; 7 entries recovered"
    error: str = ""  # non-empty: the body is not a feed


@dataclass(frozen=True, slots=True)
class _Body:
    """A fetched body that still needs parsing."""

    body: bytes
    headers: dict[str, str]
    url: str  # where it was finally read from
    moved_to: str  # the target of permanent redirects, "" when none


class _FeedFailure(Exception):
    """A fetch failed; the message is for people. `status` is error or gone."""

    def __init__(self, message: str, status: str = "error", retry_at: dt.datetime | None = None):
        super().__init__(message)
        self.status = status
        self.retry_at = retry_at


# ---------------------------------------------------------------- the run


def collect(feeds: Sequence[FeedSpec], states: Mapping[str, FeedState], *, now: dt.datetime,
            limits: Limits = Limits(),
            progress: Callable[[Fetched], None] | None = None) -> Iterator[Fetched]:
    """Fetch and parse every feed, yielding each result as soon as it is ready."""
    # Feeds to fetch, queued per host in config order; a host leaves when its queue is empty.
    queues: dict[str, deque[FeedSpec]] = {}
    for feed in feeds:
        state = states.get(feed.id, FeedState())
        if (waiting := _waiting(feed, state, now)) is not None:
            if progress:
                progress(waiting)
            yield waiting
        else:
            queues.setdefault(_host(feed.url), deque()).append(feed)
    if not queues:
        return
    pending = sum(len(q) for q in queues.values())

    parse_workers = (os.cpu_count() or 1) if limits.parse_workers is None else limits.parse_workers
    timeout = httpx.Timeout(limits.read_timeout, connect=limits.connect_timeout)
    with httpx.Client(timeout=timeout, follow_redirects=False,
                      headers={"User-Agent": USER_AGENT, "Accept": ACCEPT,
                               # We decode ourselves, a bounded step at a time (see _decoded).
                               "Accept-Encoding": "gzip, deflate"},
                      limits=httpx.Limits(max_connections=limits.workers)) as client, \
            ThreadPoolExecutor(max_workers=limits.workers, thread_name_prefix="fetch") as fetchers, \
            _Parsers(parse_workers if pending >= POOL_THRESHOLD else 0) as parsers:
        running: dict[Future, tuple[str, FeedSpec, str, _Body | None]] = {}
        # Finished futures, in the order they finished: one queue instead of wait() over
        # every future in flight, which costs a lock and a waiter per future per result.
        finished: queue.SimpleQueue[Future] = queue.SimpleQueue()
        hosts: Counter[str] = Counter()
        fetching = 0

        def start(fut: Future, kind: str, feed: FeedSpec, host: str, body: _Body | None) -> None:
            running[fut] = (kind, feed, host, body)
            fut.add_done_callback(finished.put)

        def launch() -> None:
            # Hosts at their limit are skipped; at most `workers` of them are, so this is short.
            nonlocal fetching
            for host in list(queues):
                if fetching >= limits.workers:
                    return
                q = queues[host]
                while q and hosts[host] < limits.per_host and fetching < limits.workers:
                    feed = q.popleft()
                    hosts[host] += 1
                    fetching += 1
                    state = states.get(feed.id, FeedState())
                    start(fetchers.submit(fetch, client, feed, state, limits), "fetch", feed, host, None)
                if not q:
                    del queues[host]

        launch()
        while running:
            fut = finished.get()
            kind, feed, host, body = running.pop(fut)
            state = _fresh(feed, states.get(feed.id, FeedState()))
            result: Fetched | None
            if kind == "fetch":
                hosts[host] -= 1
                fetching -= 1
                launch()
                result, body = _fetched(feed, state, fut, now)
                if body is not None:
                    start(parsers.submit(parse, body.body, body.headers, body.url, feed, now),
                          "parse", feed, host, body)
            else:
                assert body is not None
                result = _parsed(feed, state, body, fut, now)
            if result is not None:
                if progress:
                    progress(result)
                yield result


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower() if urlsplit(url).scheme in ("http", "https") else ""


def _fresh(feed: FeedSpec, state: FeedState) -> FeedState:
    """The stored state, without validators that belong to another URL (the config changed)."""
    if state.url and state.url != feed.url:
        return dataclasses.replace(state, etag="", last_modified="", body_hash="", retry_after="")
    return state


def _waiting(feed: FeedSpec, state: FeedState, now: dt.datetime) -> Fetched | None:
    """A skip result when the server asked us not to come back yet, else None."""
    state = _fresh(feed, state)
    if not state.retry_after or dt.datetime.fromisoformat(state.retry_after) <= now:
        return None
    until = dt.datetime.fromisoformat(state.retry_after).astimezone(dt.UTC)
    message = f"not tried: the server asked us to wait until {until:%Y-%m-%d %H:%M} UTC"
    status = FeedStatus(feed.id, feed.url, "error", message, failures=state.failures)
    return Fetched(status, dataclasses.replace(state, url=feed.url, status="error", error=message,
                                               checked_at=_stamp(now)))


def _stamp(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).isoformat(timespec="seconds")


def _failed(feed: FeedSpec, state: FeedState, now: dt.datetime, message: str, status: str = "error",
            retry_at: dt.datetime | None = None) -> Fetched:
    failures = state.failures + 1
    return Fetched(
        FeedStatus(feed.id, feed.url, status, message, failures=failures),
        dataclasses.replace(state, url=feed.url, failures=failures, status=status, error=message,
                            checked_at=_stamp(now), retry_after=_stamp(retry_at) if retry_at else ""))


def _succeeded(feed: FeedSpec, state: FeedState, now: dt.datetime, status: str, *, moved_to: str = "",
               note: str = "", articles: tuple[Article, ...] = (), **changes: Any) -> Fetched:
    return Fetched(
        FeedStatus(feed.id, feed.url, status, note, entries=len(articles), new_url=moved_to),
        dataclasses.replace(state, url=feed.url, failures=0, status=status, error=note,
                            new_url=moved_to, retry_after="", checked_at=_stamp(now),
                            ok_at=_stamp(now), **changes),
        articles)


def _fetched(feed: FeedSpec, state: FeedState, fut: Future, now: dt.datetime,
             ) -> tuple[Fetched | None, _Body | None]:
    """A finished fetch: a final result, or a body to parse."""
    try:
        got = fut.result()
    except _FeedFailure as e:
        return _failed(feed, state, now, str(e), e.status, e.retry_at), None
    except Exception as e:  # a bug of ours must still not stop the other feeds
        log.exception("feed %s: unexpected failure", feed.id)
        return _failed(feed, state, now, f"internal error: {_reason(e)}"), None
    if isinstance(got, str):  # the moved-to URL of a 304
        return _succeeded(feed, state, now, "moved" if got else "not-modified", moved_to=got), None
    digest = hashlib.sha256(got.body).hexdigest()
    if digest == state.body_hash:
        # Same bytes as last time (a server without validators): nothing to parse.
        return _succeeded(feed, state, now, "moved" if got.moved_to else "not-modified",
                          moved_to=got.moved_to, note=state.error if state.status == "ok" else ""), None
    return None, got


def _parsed(feed: FeedSpec, state: FeedState, body: _Body, fut: Future, now: dt.datetime) -> Fetched:
    try:
        parsed: Parsed = fut.result()
    except Exception as e:  # a crashed parser worker is this feed's failure, not the run's
        log.warning("feed %s: the parser failed: %s", feed.id, _reason(e))
        return _failed(feed, state, now, f"cannot parse: {_reason(e)}")
    if parsed.error:
        return _failed(feed, state, now, parsed.error)
    return _succeeded(
        feed, state, now, "moved" if body.moved_to else "ok", moved_to=body.moved_to,
        note=parsed.note, articles=parsed.articles, title=feed.title or parsed.title or feed.id,
        etag=body.headers.get("etag", ""), last_modified=body.headers.get("last-modified", ""),
        body_hash=hashlib.sha256(body.body).hexdigest())


class _Parsers:
    """A process pool for parsing, or this process when `workers` is 0 or the pool broke."""

    def __init__(self, workers: int):
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> _Parsers:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, fn: Callable[..., Parsed], *args: Any) -> Future:
        if self.workers and self.pool is None:
            # forkserver: workers start from a clean process, not from this one with
            # its fetch threads, SQLite connection and run lock.
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload([__name__])
            self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx,
                                            initializer=_exit_with, initargs=(os.getpid(),))
        if self.pool:
            try:
                with _main_unseen():  # submit starts a worker while there are fewer than `workers`
                    return self.pool.submit(fn, *args)
            except BrokenProcessPool:
                log.warning("the parser pool broke; parsing the remaining feeds in this process")
                self.pool, self.workers = None, 0
        fut: Future = Future()
        try:
            fut.set_result(fn(*args))
        except Exception as e:
            fut.set_exception(e)
        return fut


@contextlib.contextmanager
def _main_unseen() -> Iterator[None]:
    """Start processes without telling them the main script's path.

    multiprocessing runs the main script again in every worker it starts (as
    __mp_main__), in case a task needs something defined there. For `digest`
    that script imports the CLI and through it every stage, 0.2-0.3 s of CPU per
    worker before its first parse. The workers need only this module, which the
    fork server preloads. (Run as `python -m digest`, the main module is found by
    name and multiprocessing already skips it.)
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or path is None or getattr(main, "__spec__", None) is not None:
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path


def _exit_with(parent: int) -> None:
    """In a parser worker: exit when the collecting process is gone.

    A pool worker holds both ends of its own task pipe, so it never sees EOF
    when the run is killed (SIGKILL, OOM) and would otherwise live on.
    """
    def watch() -> None:
        while True:
            time.sleep(1)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:  # pid reused by another user's process: ours is gone
                os._exit(0)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


# ---------------------------------------------------------------- fetching


def fetch(client: httpx.Client, feed: FeedSpec, state: FeedState, limits: Limits) -> _Body | str:
    """Fetch one feed: a body to parse, or for a 304 the moved-to URL ("" if none).

    Raises _FeedFailure with a message for people.
    """
    if urlsplit(feed.url).scheme not in ("http", "https"):
        return _Body(_read_file(Path(feed.url), limits.max_bytes), {}, "", "")
    state = _fresh(feed, state)
    headers = {}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    deadline = time.monotonic() + limits.deadline
    current, moved_to, permanent = feed.url, "", True
    for _ in range(limits.max_redirects + 1):
        left = deadline - time.monotonic()
        if left <= 0:
            raise _FeedFailure(f"timed out after {limits.deadline:g} s")
        read = min(limits.read_timeout, left)
        timeout = httpx.Timeout(read, connect=min(limits.connect_timeout, left))
        try:
            with client.stream("GET", current, headers=headers, timeout=timeout) as r:
                code = r.status_code
                if code in REDIRECTS and "location" in r.headers:
                    target = urljoin(current, r.headers["location"])
                    if urlsplit(target).scheme not in ("http", "https"):
                        raise _FeedFailure(f"redirected to a non-http URL: {target}")
                    permanent = permanent and code in PERMANENT
                    if permanent:
                        moved_to = target
                    current = target
                    continue
                if code == 304:
                    return moved_to
                if code >= 400:
                    raise _http_failure(r, limits)
                got = {k.lower(): v for k, v in r.headers.items()}
                body = _read_body(r, got.get("content-encoding", ""), limits.max_bytes, deadline,
                                  limits.deadline)
                return _Body(body, got, current, moved_to)
        except httpx.ConnectTimeout:
            raise _FeedFailure(f"cannot connect: timed out after {timeout.connect:g} s") from None
        except httpx.TimeoutException:
            spent = limits.deadline if read < limits.read_timeout else limits.read_timeout
            raise _FeedFailure(f"timed out after {spent:g} s") from None
        except httpx.ConnectError as e:
            raise _FeedFailure(f"cannot connect: {_os_reason(e)}") from None
        except httpx.RemoteProtocolError as e:
            raise _FeedFailure(f"the connection broke: {_reason(e)}") from None
        except httpx.HTTPError as e:
            raise _FeedFailure(f"cannot fetch: {_reason(e)}") from None
    raise _FeedFailure("too many redirects")


def _http_failure(r: httpx.Response, limits: Limits) -> _FeedFailure:
    code = r.status_code
    if code == 410:
        return _FeedFailure("HTTP 410 Gone: the feed was removed; drop it from the config", "gone")
    text = f"HTTP {code} {r.reason_phrase}".strip()
    seconds = _retry_after(r.headers.get("retry-after", ""), limits.max_retry_after)
    if seconds is None:
        return _FeedFailure(text)
    retry_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    return _FeedFailure(f"{text}, retry after {seconds:g} s", retry_at=retry_at)


def _retry_after(value: str, cap: float) -> float | None:
    """Retry-After in seconds (delay or HTTP date), capped; None when absent or unreadable."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return min(float(value), cap)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return min(max(0.0, round((when - dt.datetime.now(dt.UTC)).total_seconds())), cap)


def _read_body(r: httpx.Response, encoding: str, max_bytes: int, deadline: float,
               total: float) -> bytes:
    """The decoded body, stopping as soon as it passes `max_bytes` or the deadline."""
    chunks, size = [], 0
    for chunk in _decoded(r.iter_raw(65536), encoding.strip().lower()):
        size += len(chunk)
        if size > max_bytes:
            raise _FeedFailure(f"larger than {_size(max_bytes)}")
        if time.monotonic() > deadline:
            raise _FeedFailure(f"timed out after {total:g} s")
        chunks.append(chunk)
    return b"".join(chunks)


# Output per decompression step: a gzip bomb inflates ~1000:1, so an unbounded
# step on one 64 KB network read could make 64 MB before the size check runs.
_STEP = 64 * 1024


def _decoded(raw: Iterable[bytes], encoding: str) -> Iterator[bytes]:
    """Decode a gzip/deflate body in bounded steps (httpx's decoder inflates a whole read at once)."""
    if encoding in ("", "identity"):
        yield from raw
        return
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise _FeedFailure(f"unsupported content encoding {encoding!r}")
    # 47 = 32 + 15: accept a gzip or zlib header; some servers send raw deflate instead.
    d, first = zlib.decompressobj(47), True
    try:
        for data in raw:
            while data:
                try:
                    out = d.decompress(data, _STEP)
                except zlib.error:
                    if not (first and encoding == "deflate"):
                        raise
                    d = zlib.decompressobj(-15)
                    out = d.decompress(data, _STEP)
                first = False
                yield out
                data = d.unconsumed_tail
                if d.eof:  # a gzip stream may hold several members one after another
                    data = d.unused_data + data
                    d = zlib.decompressobj(47)
        yield d.flush()
    except zlib.error as e:
        raise _FeedFailure(f"corrupt {encoding} body: {e}") from None


def _read_file(path: Path, max_bytes: int) -> bytes:
    try:
        with path.open("rb") as f:
            body = f.read(max_bytes + 1)
    except OSError as e:
        raise _FeedFailure(f"cannot read {path}: {e.strerror or e}") from None
    if len(body) > max_bytes:
        raise _FeedFailure(f"larger than {_size(max_bytes)}")
    return body


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:g} MB" if n >= 1024 * 1024 else f"{n / 1024:g} KB"


def _reason(exc: object) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _os_reason(exc: BaseException) -> str:
    """'[Errno 111] Connection refused' -> 'connection refused'."""
    text = re.sub(r"^\[Errno -?\d+\]\s*", "", _reason(exc))
    return text[:1].lower() + text[1:]


# ---------------------------------------------------------------- parsing (runs in a worker)


def parse(body: bytes, headers: Mapping[str, str], url: str, feed: FeedSpec,
          now: dt.datetime) -> Parsed:
    """Parse a body as RSS, Atom or JSON Feed into Articles. Pure; runs in a worker process."""
    ctype = headers.get("content-type", "").split(";")[0].strip().lower()
    if "json" in ctype or body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
        return _json_feed(body, feed, url, now)
    response = {"content-location": url, **headers} if url else dict(headers)
    parsed = feedparser.parse(body, response_headers=response)
    exc = parsed.get("bozo_exception")
    line = exc.getLineNumber() if parsed.bozo and hasattr(exc, "getLineNumber") else 0
    if not parsed.entries and (parsed.bozo or not parsed.version):
        if ctype == "text/html" or _looks_html(body):
            return Parsed(error="not a feed: got text/html")
        if ctype and not any(k in ctype for k in ("xml", "rss", "atom", "text/plain")):
            return Parsed(error=f"not a feed: got {ctype}")
        if line:
            return Parsed(error=f"malformed XML at line {line}; no entries recovered")
        return Parsed(error="not a feed: no RSS, Atom or JSON Feed found")
    title = _plain(parsed.feed.get("title", ""))
    articles = tuple(entries(parsed, feed, title, url, now))
    note = ""
    if line:  # encoding overrides and the like also set bozo, but those read fine
        note = f"malformed XML at line {line}; {_count(len(articles), 'entry', 'entries')} recovered"
    return Parsed(articles, title, note)


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _looks_html(body: bytes) -> bool:
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head[:256]


_TAG = re.compile(r"<[^>]*>")


def _plain(text: str) -> str:
    """Feed text (maybe HTML, maybe escaped twice) as one line of plain text."""
    text = text or ""
    if "<" not in text and "&" not in text:  # most titles, authors and tags: nothing to undo
        return " ".join(text.split())
    # Feeds escape titles once, twice, or not at all ("Launch &amp;amp; recovery").
    for _ in range(3):
        cleaner = html.unescape(_TAG.sub(" ", text))
        if cleaner == text:
            break
        text = cleaner
    return " ".join(text.split())


def _time(struct: time.struct_time | None, now: dt.datetime) -> dt.datetime | None:
    if not struct:
        return None
    try:
        t = dt.datetime.fromtimestamp(calendar.timegm(struct), dt.UTC)
    except (OverflowError, ValueError, OSError):
        return None
    return _clamp(t, now)


def _clamp(t: dt.datetime, now: dt.datetime) -> dt.datetime:
    # A date in the future (a wrong zone, a scheduled post) must not jump the queue.
    return min(t, now)


def _http(url: str) -> str:
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else ""


def _article_id(feed: FeedSpec, key: str) -> str:
    return hashlib.sha256(f"{feed.id}\0{key}".encode()).hexdigest()[:20]


def _untitled(*texts: str) -> str:
    """A title made from the first words of the text, for entries that have none."""
    for text in texts:
        words = _plain(text).split()
        if words:
            return " ".join(words[:12]) + (" …" if len(words) > 12 else "")
    return "(untitled)"


def entries(parsed: feedparser.FeedParserDict, feed: FeedSpec, source: str, base: str,
            now: dt.datetime) -> Iterator[Article]:
    """Normalise feedparser entries; duplicate ids within the feed keep the first.

    Relative links resolve against xml:base, else the URL the feed was read
    from (feedparser does both), else, for a local file, the feed's own link.
    """
    site = urljoin(base, parsed.feed.get("link", "")) if parsed.feed.get("link") else base
    seen: set[str] = set()
    for e in parsed.entries:
        guid = e.get("id", "")
        link = _http(urljoin(site, e.get("link", ""))) if e.get("link") else ""
        if not link and _http(guid):
            link = guid
        published = _time(e.get("published_parsed") or e.get("updated_parsed"), now)
        contents = [c for c in e.get("content", []) if "html" in c.get("type", "html")]
        content = max((c.get("value", "") for c in contents), key=len, default="")
        summary = e.get("summary", "")
        title = _plain(e.get("title", "")) or _untitled(summary, content)
        aid = _article_id(feed, guid or link or f"{title}|{published}")
        if aid in seen:
            continue
        seen.add(aid)
        yield Article(
            id=aid, feed_id=feed.id, title=title, url=link, published=published, seen=now,
            source=source or feed.id, author=_plain(e.get("author", "")),
            categories=tuple(c for c in dict.fromkeys(
                _plain(t.get("label") or t.get("term") or "") for t in e.get("tags", []) if t) if c),
            content_html=content, summary_html=summary, media=_media(e, site))


def _media(e: Mapping, base: str) -> tuple[Media, ...]:
    def num(v: object) -> int:
        try:
            return int(str(v))
        except ValueError:
            return 0

    found: list[Media] = []
    for m in e.get("media_thumbnail", []):
        found.append(Media(urljoin(base, m.get("url", "")), "image", num(m.get("width", 0)),
                           num(m.get("height", 0))))
    for m in e.get("media_content", []):
        kind = m.get("medium") or m.get("type", "")
        found.append(Media(urljoin(base, m.get("url", "")), kind, num(m.get("width", 0)),
                           num(m.get("height", 0))))
    for m in e.get("enclosures", []):
        found.append(Media(urljoin(base, m.get("href", "")), m.get("type", "")))
    return tuple(m for m in found if _http(m.url))


# ---------------------------------------------------------------- JSON Feed
# feedparser 6.0.x returns no entries for JSON Feed (its JSON parser is
# unreleased), so versions 1.0 and 1.1 take this small path into the same records.


def _json_feed(body: bytes, feed: FeedSpec, url: str, now: dt.datetime) -> Parsed:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        return Parsed(error=f"not a feed: malformed JSON: {_reason(e)}")
    if not isinstance(doc, dict) or not str(doc.get("version", "")).startswith("https://jsonfeed.org/version/"):
        return Parsed(error="not a feed: JSON, but not a JSON Feed")
    title = _plain(_str(doc.get("title")))
    base = _http(urljoin(url, _str(doc.get("home_page_url")))) or _http(url) or \
        _http(_str(doc.get("feed_url")))
    items = doc.get("items")
    seen: set[str] = set()
    articles = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        # `url` is the item's own page; `external_url` the page a link post points at.
        link = next((u for key in ("url", "external_url")
                     if item.get(key) and (u := _http(urljoin(base, _str(item.get(key)))))), "")
        content = _str(item.get("content_html")) or html.escape(_str(item.get("content_text")))
        summary = _str(item.get("summary"))
        published = _json_time(item.get("date_published")) or _json_time(item.get("date_modified"))
        published = _clamp(published, now) if published else None
        item_title = _plain(_str(item.get("title"))) or _untitled(summary, content)
        guid = _str(item.get("id"))
        aid = _article_id(feed, guid or link or f"{item_title}|{published}")
        if aid in seen:
            continue
        seen.add(aid)
        authors = item.get("authors") or doc.get("authors") or \
            [a for a in (item.get("author"), doc.get("author")) if a][:1]
        names = [n for a in authors if isinstance(a, dict) and (n := _plain(_str(a.get("name"))))] \
            if isinstance(authors, list) else []
        media = [Media(u, "image") for key in ("image", "banner_image")
                 if (u := _http(urljoin(base, _str(item.get(key)))) if item.get(key) else "")]
        for att in item.get("attachments") or []:
            if isinstance(att, dict) and (u := _http(urljoin(base, _str(att.get("url"))))):
                media.append(Media(u, _str(att.get("mime_type"))))
        raw_tags = item.get("tags")
        tags: list[Any] = raw_tags if isinstance(raw_tags, list) else []
        articles.append(Article(
            id=aid, feed_id=feed.id, title=item_title, url=link, published=published, seen=now,
            source=title or feed.id,
            author=", ".join(names),
            categories=tuple(c for c in dict.fromkeys(_plain(_str(t)) for t in tags) if c),
            content_html=content, summary_html=html.escape(summary), media=tuple(media)))
    return Parsed(tuple(articles), title)


def _str(v: object) -> str:
    return v if isinstance(v, str) else ""


def _json_time(v: object) -> dt.datetime | None:
    if not isinstance(v, str) or not v:
        return None
    try:
        t = dt.datetime.fromisoformat(v.strip())
    except ValueError:
        return None
    return (t if t.tzinfo else t.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


# ---------------------------------------------------------------- time zone names
# feedparser knows the US zone names but reads others (AEST, CET, IST, ...) as
# UTC, which puts an Australian story ten hours in the future. The handler is
# registered at import, so worker processes get it too.

ZONES: dict[str, float] = {
    "UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 1, "BST": 1, "IST": 5.5,
    "CET": 1, "CEST": 2, "MET": 1, "MEST": 2, "EET": 2, "EEST": 3, "MSK": 3,
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    "AKST": -9, "AKDT": -8, "HST": -10, "AST": -4, "ADT": -3, "NST": -3.5, "NDT": -2.5,
    "JST": 9, "KST": 9, "HKT": 8, "SGT": 8, "AWST": 8, "ACST": 9.5, "ACDT": 10.5,
    "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13,
}
_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
_NAMED_ZONE = re.compile(
    r"^\s*(?:[A-Za-z]{2,9},?\s+)?(\d{1,2})\s+([A-Za-z]{3})[A-Za-z]*\.?\s+(\d{2,4})"
    r"\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s+([A-Za-z]{1,5})\s*$")


def named_zone_date(value: str) -> time.struct_time | None:
    """An RFC 822-like date with a zone abbreviation from ZONES, as UTC; else None."""
    m = _NAMED_ZONE.match(value or "")
    if not m or m[7].upper() not in ZONES or m[2].lower() not in _MONTHS:
        return None
    year = int(m[3]) + (2000 if len(m[3]) == 2 and int(m[3]) < 70 else 1900 if len(m[3]) == 2 else 0)
    try:
        local = dt.datetime(year, _MONTHS[m[2].lower()], int(m[1]), int(m[4]), int(m[5]),
                            int(m[6] or 0), tzinfo=dt.timezone(dt.timedelta(hours=ZONES[m[7].upper()])))
    except ValueError:
        return None
    return local.astimezone(dt.UTC).timetuple()


if named_zone_date not in feedparser.datetimes._date_handlers:
    feedparser.registerDateHandler(named_zone_date)


# ---------------------------------------------------------------- feedparser's base URI
# With a base URI (the URL the feed was read from, which we pass so relative
# links resolve), feedparser re-joins the base with itself at every start tag
# (`make_safe_absolute_uri(self.baseuri, baseuri)` in its mixin), about a fifth
# of its parse time on an ordinary feed. The function is pure, so memoising it
# makes the same result for the price of a dict lookup. Only the name the mixin
# calls is replaced; if feedparser renames it, parsing stays correct, only slower.

_mixin = getattr(feedparser, "mixin", None)
if _mixin is not None and callable(getattr(_mixin, "make_safe_absolute_uri", None)) and \
        not hasattr(_mixin.make_safe_absolute_uri, "cache_info"):
    _mixin.make_safe_absolute_uri = functools.lru_cache(maxsize=1024)(_mixin.make_safe_absolute_uri)
