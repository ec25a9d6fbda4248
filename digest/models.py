"""The plain records passed between pipeline stages. No I/O here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

# ---------------------------------------------------------------- config


@dataclass(frozen=True, slots=True)
class Theme:
    """How the email looks; every field has a default so `[digest.theme]` is optional.

    `logo_width`/`logo_height` are the logo's display size in CSS pixels (the
    image itself should be twice that for sharp phones).
    """

    accent: str = "#0b4f8a"
    logo_url: str = ""
    logo_width: int = 160
    logo_height: int = 40
    font_stack: str = "-apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
    show_images: bool = True


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """One `[[feeds]]` entry: `url` is an http(s) URL or an absolute file path."""

    id: str
    url: str
    topics: tuple[str, ...] = ()
    title: str = ""


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One `[[topics]]` entry; empty `feeds` means every feed may contribute."""

    id: str
    title: str
    feeds: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A reader; `topics` is never empty after config loading (absent = all topics)."""

    email: str
    name: str
    topics: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SmtpSpec:
    url: str = "smtp://localhost:25"
    username: str = ""
    password_env: str = ""
    rate: float = 10.0


@dataclass(frozen=True, slots=True)
class Config:
    """A checked configuration; paths are absolute, resolved against the file's folder."""

    path: Path
    name: str
    sender: str
    site_url: str
    unsubscribe: str
    reply_to: str = ""
    unsubscribe_mailto: str = ""
    subject: str = "{name}, {date}: {headline}"
    address: str = ""
    timezone: str = "UTC"
    window_hours: float = 24
    lead_words: int = 60
    max_per_topic: int = 8
    max_edition_files: int = 100
    max_feed_bytes: int = 10 * 1024 * 1024
    outbox: Path = Path("outbox")
    state: Path = Path("digest.sqlite")
    templates: Path | None = None
    theme: Theme = field(default_factory=Theme)
    feeds: tuple[FeedSpec, ...] = ()
    topics: tuple[TopicSpec, ...] = ()
    subscribers: tuple[Subscriber, ...] = ()
    smtp: SmtpSpec = field(default_factory=SmtpSpec)


# ---------------------------------------------------------------- collect


@dataclass(frozen=True, slots=True)
class Media:
    """An image or enclosure a feed attached to an entry (sizes 0 when unknown)."""

    url: str
    type: str = ""
    width: int = 0
    height: int = 0
    alt: str = ""


@dataclass(frozen=True, slots=True)
class Article:
    """A normalised feed entry.

    `id` is stable across runs (derived from feed id and guid, else link, else
    title). `published` is UTC, or None when the feed gave no date; `seen` is
    when the store first saw it. `title` is plain text; `url` is absolute.
    """

    id: str
    feed_id: str
    title: str
    url: str
    published: dt.datetime | None
    seen: dt.datetime
    source: str = ""
    author: str = ""
    categories: tuple[str, ...] = ()
    content_html: str = ""
    summary_html: str = ""
    media: tuple[Media, ...] = ()

    @property
    def when(self) -> dt.datetime:
        """The time the window and ordering use: published, else first seen."""
        return self.published or self.seen


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """How one feed fared in a collect run. `status` is one of STATUSES."""

    feed_id: str
    url: str
    status: str
    error: str = ""
    new_articles: int = 0
    entries: int = 0
    new_url: str = ""
    failures: int = 0


FEED_STATUSES = ("ok", "not-modified", "moved", "gone", "error")


@dataclass(frozen=True, slots=True)
class FeedHealth:
    """A configured feed as the store last saw it (`status` "" when never checked)."""

    feed_id: str
    url: str
    status: str = ""
    error: str = ""
    failures: int = 0
    ok_at: str = ""
    checked_at: str = ""
    new_url: str = ""
    retry_after: str = ""


@dataclass(frozen=True, slots=True)
class FeedState:
    """What the store remembers of a feed between runs."""

    etag: str = ""
    last_modified: str = ""
    body_hash: str = ""
    failures: int = 0
    retry_after: str = ""
    title: str = ""
    status: str = ""
    error: str = ""
    new_url: str = ""
    checked_at: str = ""
    ok_at: str = ""
    url: str = ""  # the URL these validators belong to


# ---------------------------------------------------------------- summarise


@dataclass(frozen=True, slots=True)
class Image:
    """A vetted lead image: absolute https URL, display size and alt text."""

    url: str
    width: int
    height: int
    alt: str


@dataclass(frozen=True, slots=True)
class Lead:
    """A story's summary: plain text within the word budget, and its dateline apart."""

    text: str
    dateline: str = ""
    image: Image | None = None


# ---------------------------------------------------------------- select / render


@dataclass(frozen=True, slots=True)
class Link:
    title: str
    url: str
    source: str


@dataclass(frozen=True, slots=True)
class Story:
    """An article as the email shows it; `also` lists the same story from other feeds."""

    article: Article
    lead: Lead
    also: tuple[Link, ...] = ()


@dataclass(frozen=True, slots=True)
class Section:
    topic: TopicSpec
    stories: tuple[Story, ...]
    more: tuple[Story, ...] = ()


@dataclass(frozen=True, slots=True)
class Edition:
    """One email body for a distinct topic selection on one date.

    `key` is a file-safe name derived from the topic ids; `topics` keeps
    config order; sections with no story are left out.
    """

    key: str
    date: dt.date
    topics: tuple[str, ...]
    sections: tuple[Section, ...]

    @property
    def stories(self) -> tuple[Story, ...]:
        return tuple(s for sec in self.sections for s in (*sec.stories, *sec.more))


# Markers in a RenderedEdition's pieces that message.personalise fills per reader.
PLACEHOLDERS = {
    "greeting": "%%DIGEST_GREETING%%",
    "email": "%%DIGEST_EMAIL%%",
    "unsubscribe": "%%DIGEST_UNSUBSCRIBE%%",
}


@dataclass(frozen=True, slots=True)
class RenderedEdition:
    """An edition's HTML and text, as the day's shared pieces in order.

    Per-reader fields are still placeholders (see render.PLACEHOLDERS). The
    pieces are shared by every edition of the day, so a message encoder can
    encode each once (message.py does).
    """

    key: str
    topics: tuple[str, ...]
    subject: str
    html_parts: tuple[str, ...]
    text_parts: tuple[str, ...]
    article_ids: tuple[str, ...]

    @property
    def html(self) -> str:
        return "".join(self.html_parts)

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    @property
    def html_bytes(self) -> int:
        return len(self.html.encode("utf-8"))


@dataclass(frozen=True, slots=True)
class Message:
    """One reader's finished message: RFC 5322 bytes with CRLF line ends."""

    email: str
    message_id: str
    raw: bytes


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of handing one message to the relay."""

    email: str
    edition: str
    status: str  # sent | already-sent | failed | deferred | pending (a dry run)
    error: str = ""
