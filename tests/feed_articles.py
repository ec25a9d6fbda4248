"""Turn corpus feed files into `Article` records for the labelled lead set.

The real collector lives elsewhere; this helper only maps the feedparser
fields the summariser reads, so the labelled set exercises `summarise` and
nothing else.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path

import feedparser

from digest.models import Article, Media

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
FEEDS = CORPUS / "feeds"
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def _int(value: object) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0


def _media(entry: dict) -> tuple[Media, ...]:
    found: list[Media] = []
    for key in ("media_thumbnail", "media_content"):
        for m in entry.get(key) or ():
            if m.get("url"):
                found.append(
                    Media(
                        url=m["url"],
                        type=m.get("type", "image/jpeg" if key == "media_thumbnail" else ""),
                        width=_int(m.get("width")),
                        height=_int(m.get("height")),
                        alt=entry.get("media_title", "") or "",
                    )
                )
    for enc in entry.get("enclosures") or ():
        if enc.get("href"):
            found.append(Media(url=enc["href"], type=enc.get("type", "")))
    return tuple(found)


def _json_articles(path: Path) -> list[Article]:
    data = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for i, item in enumerate(data.get("items", ())):
        url = item.get("url") or item.get("external_url") or ""
        out.append(
            Article(
                id=f"{path.name}#{i}",
                feed_id=path.stem,
                title=item.get("title", "") or "",
                url=url,
                published=None,
                seen=EPOCH,
                content_html=item.get("content_html") or "",
                summary_html=item.get("summary") or item.get("content_text") or "",
                media=(Media(url=item["image"]),) if item.get("image") else (),
            )
        )
    return out


@cache
def load(name: str) -> tuple[Article, ...]:
    """Return the articles of one corpus file, in feed order."""
    path = FEEDS / name
    if path.suffix == ".json":
        return tuple(_json_articles(path))
    parsed = feedparser.parse(path.read_bytes())
    out = []
    for i, e in enumerate(parsed.entries):
        content = e.get("content") or ()
        out.append(
            Article(
                id=f"{name}#{i}",
                feed_id=path.stem,
                title=e.get("title", "") or "",
                url=e.get("link", "") or "",
                published=None,
                seen=EPOCH,
                author=e.get("author", "") or "",
                content_html=content[0].get("value", "") if content else "",
                summary_html=e.get("summary", "") or "",
                media=_media(e),
            )
        )
    return tuple(out)
