"""OPML in and out: subscriptions as outlines, their folders and categories as topics.

Pure: bytes in, records or text out. OPML files come from other programs and
the web, so DTDs (and with them entity expansion, "billion laughs") are refused.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit
from urllib.request import url2pathname

from .errors import UsageError
from .models import Config, FeedSpec, TopicSpec


@dataclass(frozen=True, slots=True)
class Subscription:
    """One feed outline: its URL, title and the titles of the topics it sits under."""

    url: str
    title: str = ""
    topics: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Imported:
    """What an import adds to a config, and what it left out and why."""

    feeds: tuple[FeedSpec, ...]
    topics: tuple[TopicSpec, ...]
    skipped: tuple[str, ...]  # "URL: reason"


class _NoDoctype(ET.TreeBuilder):
    def doctype(self, name: str, pubid: str, system: str) -> None:
        raise UsageError("a DTD is not allowed in OPML (it could expand entities without limit)")


def read(data: bytes, name: str = "OPML") -> list[Subscription]:
    """The feed outlines of an OPML document, in order; same URL twice merges its topics."""
    parser = ET.XMLParser(target=_NoDoctype())
    try:
        parser.feed(data)
        root = parser.close()
    except ET.ParseError as e:
        raise UsageError(f"{name}: not valid XML: {e}") from None
    except UsageError as e:
        raise UsageError(f"{name}: {e}") from None
    if root.tag != "opml" or root.find("body") is None:
        raise UsageError(f"{name}: not OPML (expected <opml><body>, found <{root.tag}>)")
    found: dict[str, Subscription] = {}

    def walk(node: ET.Element, folders: tuple[str, ...]) -> None:
        for o in node.findall("outline"):
            title = " ".join((o.get("title") or o.get("text") or "").split())
            url = (o.get("xmlUrl") or o.get("xmlurl") or "").strip()
            if url:
                topics = folders[-1:] + tuple(
                    c.strip("/ ").split("/")[-1] for c in (o.get("category") or "").split(",")
                    if c.strip("/ "))
                old = found.get(url, Subscription(_local(url), title))
                found[url] = Subscription(old.url, old.title or title,
                                          tuple(dict.fromkeys(old.topics + topics)))
            walk(o, folders + (title,) if not url and title else folders)

    walk(root.find("body"), ())  # type: ignore[arg-type]
    return list(found.values())


def _local(url: str) -> str:
    """A file: URL as the path the config expects."""
    return url2pathname(urlsplit(url).path) if url.startswith("file:") else url


def slug(text: str, fallback: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s or fallback


def plan(subs: Sequence[Subscription], config: Config | None,
         feed_slug: Callable[[str], str] = lambda u: slug(u, "feed")) -> Imported:
    """The feeds and topics to add to `config`: new URLs only, ids that do not clash.

    A feed joins an existing topic only when that topic is already restricted
    to some feeds: adding it to an open topic would quietly narrow that topic
    to this one feed.
    """
    feeds = config.feeds if config else ()
    topics = config.topics if config else ()
    known_urls = {f.url for f in feeds}
    feed_ids = {f.id for f in feeds}
    by_title = {t.title.casefold(): t for t in topics} | {t.id: t for t in topics}
    restricted = {t.id for t in topics if t.feeds} | {t for f in feeds for t in f.topics}
    topic_ids = {t.id for t in topics}
    new_topics: dict[str, TopicSpec] = {}
    new_feeds: list[FeedSpec] = []
    skipped: list[str] = []
    for sub in subs:
        if sub.url in known_urls:
            skipped.append(f"{sub.url}: already in the config")
            continue
        parts = urlsplit(sub.url)
        if not (parts.scheme in ("http", "https") and parts.netloc) and not sub.url.startswith("/"):
            skipped.append(f"{sub.url}: not an http(s) URL or a file path")
            continue
        known_urls.add(sub.url)
        joined: list[str] = []
        for title in sub.topics:
            existing = by_title.get(title.casefold()) or by_title.get(slug(title, ""))
            if existing:
                if existing.id in restricted:
                    joined.append(existing.id)
                continue
            tid = _unique(slug(title, "topic"), topic_ids)
            topic_ids.add(tid)
            new_topics[tid] = TopicSpec(tid, title)
            by_title[title.casefold()] = new_topics[tid]
            restricted.add(tid)
            joined.append(tid)
        fid = _unique(slug(sub.title, "") or feed_slug(sub.url), feed_ids)
        feed_ids.add(fid)
        new_feeds.append(FeedSpec(fid, sub.url, tuple(dict.fromkeys(joined)), sub.title))
    return Imported(tuple(new_feeds), tuple(new_topics.values()), tuple(skipped))


def _unique(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def toml_blocks(imported: Imported, source: str) -> str:
    """`[[topics]]` and `[[feeds]]` blocks to append to a config file."""
    def q(s: str) -> str:
        return json.dumps(s, ensure_ascii=False)  # a JSON string is a valid TOML basic string

    out = [f"# Imported from {source}: {len(imported.feeds)} feeds, {len(imported.topics)} topics."]
    out += [f"# Skipped {s}" for s in imported.skipped]
    for t in imported.topics:
        out += ["", "[[topics]]", f"id = {q(t.id)}", f"title = {q(t.title)}"]
    for f in imported.feeds:
        out += ["", "[[feeds]]", f"id = {q(f.id)}", f"url = {q(f.url)}"]
        if f.title:
            out.append(f"title = {q(f.title)}")
        if f.topics:
            out.append("topics = [" + ", ".join(q(t) for t in f.topics) + "]")
    return "\n".join(out) + "\n"


def write(config: Config, titles: dict[str, str], now: dt.datetime) -> str:
    """The config's feeds as OPML 2.0: a folder per topic, unrestricted feeds at the top."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = config.name
    ET.SubElement(head, "dateCreated").text = email.utils.format_datetime(now)
    body = ET.SubElement(root, "body")
    members: dict[str, list[FeedSpec]] = {t.id: [] for t in config.topics}
    for t in config.topics:
        members[t.id] += [f for f in config.feeds if f.id in t.feeds]
    for f in config.feeds:
        for tid in f.topics:
            if f not in members[tid]:
                members[tid].append(f)

    def outline(parent: ET.Element, f: FeedSpec) -> None:
        title = f.title or titles.get(f.id) or f.id
        ET.SubElement(parent, "outline", type="rss", text=title, title=title, xmlUrl=f.url)

    placed = set()
    for t in config.topics:
        if members[t.id]:
            folder = ET.SubElement(body, "outline", text=t.title, title=t.title)
            for f in members[t.id]:
                outline(folder, f)
                placed.add(f.id)
    for f in config.feeds:
        if f.id not in placed:
            outline(body, f)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
