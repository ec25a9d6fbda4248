"""Fetch feeds (http(s) or local files) and normalise their entries into Articles.

Only this module talks HTTP. A failing feed is data, a FeedStatus with a
message a person understands, never an exception that stops the run.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import hashlib
import html
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import feedparser
import httpx

from . import __version__
from .models import Article, FeedSpec, FeedState, FeedStatus, Media

log = logging.getLogger(__name__)

USER_AGENT = f"digest/{__version__} (newsletter digest generator; +https://pypi.org/project/digest/)"
TIMEOUT = httpx.Timeout(20.0, connect=10.0)
MAX_REDIRECTS = 5


@dataclass(frozen=True, slots=True)
class Fetched:
    """One feed's outcome: its status, the state to remember, and its entries."""

    status: FeedStatus
    state: FeedState
    articles: tuple[Article, ...] = ()


def collect(feeds: Sequence[FeedSpec], states: Mapping[str, FeedState], *, now: dt.datetime,
            max_bytes: int, workers: int = 8,
            progress: Callable[[Fetched], None] | None = None) -> Iterator[Fetched]:
    """Fetch and parse every feed, yielding each result as soon as it is ready."""
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False,
                      headers={"User-Agent": USER_AGENT}) as client, \
            ThreadPoolExecutor(max_workers=workers) as pool:
        jobs = [pool.submit(fetch_one, client, f, states.get(f.id, FeedState()), now, max_bytes)
                for f in feeds]
        for job in as_completed(jobs):
            result = job.result()
            if progress:
                progress(result)
            yield result


def fetch_one(client: httpx.Client, feed: FeedSpec, state: FeedState, now: dt.datetime,
              max_bytes: int) -> Fetched:
    """Fetch and parse one feed; every failure becomes an error status."""
    stamp = now.isoformat(timespec="seconds")
    try:
        if urlsplit(feed.url).scheme in ("http", "https"):
            body, headers, final_url, code = _get(client, feed.url, state, max_bytes)
        else:
            body, headers, final_url, code = _read_file(Path(feed.url), max_bytes), {}, feed.url, 200
    except _FeedFailure as e:
        status = FeedStatus(feed.id, feed.url, "error", str(e), failures=state.failures + 1)
        return Fetched(status, dataclasses.replace(
            state, failures=state.failures + 1, status="error", error=str(e), checked_at=stamp))

    if code == 304:
        status = FeedStatus(feed.id, feed.url, "not-modified")
        return Fetched(status, dataclasses.replace(state, failures=0, status=status.status,
                                                   error="", checked_at=stamp, ok_at=stamp))
    moved = final_url if final_url != feed.url else ""
    new_state = dataclasses.replace(
        state, etag=headers.get("etag", ""), last_modified=headers.get("last-modified", ""),
        body_hash=hashlib.sha256(body).hexdigest(), failures=0, checked_at=stamp, ok_at=stamp,
        new_url=moved)
    parsed = feedparser.parse(body, response_headers={"content-location": final_url, **headers})
    if not parsed.entries and parsed.bozo:
        error = f"not a feed: {_reason(parsed.bozo_exception)}"
        status = FeedStatus(feed.id, feed.url, "error", error, failures=state.failures + 1)
        return Fetched(status, dataclasses.replace(
            state, failures=state.failures + 1, status="error", error=error, checked_at=stamp))
    title = feed.title or _plain(parsed.feed.get("title", "")) or feed.id
    articles = tuple(entries(parsed, feed, title, final_url, now))
    status = FeedStatus(feed.id, feed.url, "moved" if moved else "ok", "",
                        entries=len(articles), new_url=moved)
    return Fetched(status, dataclasses.replace(new_state, title=title, status=status.status, error=""),
                   articles)


class _FeedFailure(Exception):
    pass


def _get(client: httpx.Client, url: str, state: FeedState,
         max_bytes: int) -> tuple[bytes, dict[str, str], str, int]:
    headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.8"}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    current = url
    try:
        for _ in range(MAX_REDIRECTS + 1):
            with client.stream("GET", current, headers=headers) as r:
                if r.status_code in (301, 302, 303, 307, 308) and "location" in r.headers:
                    current = urljoin(current, r.headers["location"])
                    continue
                if r.status_code == 304:
                    return b"", dict(r.headers), current, 304
                if r.status_code >= 400:
                    raise _FeedFailure(f"HTTP {r.status_code} {r.reason_phrase}".strip())
                chunks, size = [], 0
                for chunk in r.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise _FeedFailure(f"larger than {_size(max_bytes)}")
                    chunks.append(chunk)
                return b"".join(chunks), {k.lower(): v for k, v in r.headers.items()}, current, r.status_code
        raise _FeedFailure(f"more than {MAX_REDIRECTS} redirects")
    except httpx.TimeoutException:
        raise _FeedFailure(f"timed out after {TIMEOUT.read:g} s") from None
    except httpx.HTTPError as e:
        raise _FeedFailure(f"cannot fetch: {e}") from None


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


# ---------------------------------------------------------------- entries -> articles

_TAG = re.compile(r"<[^>]*>")


def _plain(text: str) -> str:
    """Feed text (maybe HTML, maybe with entities) as one line of plain text."""
    return " ".join(html.unescape(_TAG.sub(" ", text or "")).split())


def _time(struct: time.struct_time | None, now: dt.datetime) -> dt.datetime | None:
    if not struct:
        return None
    try:
        t = dt.datetime.fromtimestamp(calendar.timegm(struct), dt.UTC)
    except (OverflowError, ValueError):
        return None
    # A date in the future (a wrong zone, a scheduled post) must not jump the queue.
    return min(t, now)


def _http(url: str) -> str:
    return url if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc else ""


def entries(parsed: feedparser.FeedParserDict, feed: FeedSpec, source: str, base: str,
            now: dt.datetime) -> Iterator[Article]:
    """Normalise feedparser entries; duplicate ids within the feed keep the first."""
    site = parsed.feed.get("link") or (base if urlsplit(base).scheme else "")
    seen: set[str] = set()
    for e in parsed.entries:
        link = _http(urljoin(site, e.get("link", ""))) if e.get("link") else ""
        guid = e.get("id", "")
        if not link and _http(guid):
            link = guid
        published = _time(e.get("published_parsed") or e.get("updated_parsed"), now)
        title = _plain(e.get("title", ""))
        contents = [c for c in e.get("content", []) if "html" in c.get("type", "html")]
        content = max((c.get("value", "") for c in contents), key=len, default="")
        summary = e.get("summary", "")
        if not title:
            words = _plain(summary or content).split()
            title = " ".join(words[:12]) + (" …" if len(words) > 12 else "") if words else "(untitled)"
        key = guid or link or f"{title}|{published}"
        aid = hashlib.sha256(f"{feed.id}\0{key}".encode()).hexdigest()[:20]
        if aid in seen:
            continue
        seen.add(aid)
        yield Article(
            id=aid, feed_id=feed.id, title=title, url=link, published=published, seen=now,
            source=source, author=_plain(e.get("author", "")),
            categories=tuple(dict.fromkeys(
                _plain(t.get("label") or t.get("term") or "") for t in e.get("tags", []) if t)),
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
    return tuple(m for m in found if m.url)
