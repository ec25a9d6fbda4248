"""One function per command, wiring the stages. Returns result records; never prints."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import queue
import ssl
import threading
import tomllib
import zoneinfo
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from email.utils import parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from . import collect as collect_stage
from . import config as config_mod
from . import deliver, message, opml, outbox, preview, selection
from .dedup import canonical_url
from .errors import ConfigError, UsageError
from .models import (
    Article,
    Config,
    Delivery,
    FeedHealth,
    FeedStatus,
    Lead,
    Message,
    RenderedEdition,
    Subscriber,
)
from .store import Store
from .summarise import summarise

if TYPE_CHECKING:
    from .render import Pieces, Renderer

log = logging.getLogger(__name__)

SECRET_ENV = "DIGEST_SECRET"
EDITIONS_KEPT = 8192  # rendered editions a Day keeps in memory (a few KB each)
PREFETCH = 64  # messages built ahead of the SMTP conversation

T = TypeVar("T")
FAILING_RUNS = 3  # consecutive failed runs before a feed is flagged


@dataclass(frozen=True, slots=True)
class CollectResult:
    feeds: tuple[FeedStatus, ...]

    @property
    def new_articles(self) -> int:
        return sum(f.new_articles for f in self.feeds)

    @property
    def failed(self) -> tuple[FeedStatus, ...]:
        return tuple(f for f in self.feeds if f.status in ("error", "gone"))

    @property
    def failing(self) -> tuple[FeedStatus, ...]:
        """Feeds that have failed FAILING_RUNS runs in a row or more: the config needs a look."""
        return tuple(f for f in self.failed if f.failures >= FAILING_RUNS)

    @property
    def all_failed(self) -> bool:
        return bool(self.feeds) and len(self.failed) == len(self.feeds)


@dataclass(slots=True)
class Day:
    """A date's edition, as built: the plan, its rendered editions and how to reach readers."""

    config: Config
    date: dt.date
    built_at: dt.datetime
    articles: list[Article]
    plan: selection.Plan
    secret: bytes
    rendered: OrderedDict[str, RenderedEdition] = field(default_factory=OrderedDict)
    renderer: Renderer | None = None
    pieces: Pieces | None = None

    def edition(self, key: str) -> RenderedEdition:
        """The rendered edition `key`, assembled from the day's pieces.

        An edition holds references to the day's shared pieces and a few short
        strings of its own, so thousands fit in a few MB; past EDITIONS_KEPT
        the least recently used are dropped (assembling one again costs well
        under a millisecond).
        """
        if key in self.rendered:
            self.rendered.move_to_end(key)
            return self.rendered[key]
        if self.renderer is None or self.pieces is None:
            # Every piece of every edition, rendered once for the whole day.
            from .render import Renderer  # here: premailer and MJML load only when rendering

            self.renderer = Renderer(self.config)
            stories = {s.article.id: s for e in self.plan.editions.values() for s in e.stories}
            self.pieces = self.renderer.pieces(self.date, list(stories.values()), self.config.topics)
        edition = self.rendered[key] = self.renderer.render(self.plan.editions[key], self.pieces)
        if len(self.rendered) > EDITIONS_KEPT:
            self.rendered.popitem(last=False)
        return edition

    def web_version(self, key: str) -> tuple[str, str]:
        """Edition `key` as the outbox keeps it: HTML and text with neutral reader values."""
        return message.personalise(self.edition(key),
                                   message.reader_values(self.config, self.secret, None))

    def reader(self, email: str) -> Subscriber:
        """The subscriber with this address, or an all-topics reader for any other address."""
        for s in self.config.subscribers:
            if s.email.lower() == email.lower():
                return s
        return Subscriber(email, "", tuple(t.id for t in self.config.topics))

    def message(self, reader: Subscriber) -> Message | None:
        """The reader's message, or None when nothing in their topics is new."""
        key = selection.edition_key(reader.topics, [t.id for t in self.config.topics])
        if key not in self.plan.editions:
            return None
        return message.build(self.edition(key), self.config, self.secret, reader, self.date,
                             self.built_at)

    def messages(self) -> Iterator[tuple[Subscriber, Message]]:
        for s in self.config.subscribers:
            if (m := self.message(s)) is not None:
                yield s, m


@dataclass(frozen=True, slots=True)
class BuildResult:
    day: Day
    collected: CollectResult
    folder: Path
    files: tuple[Path, ...]
    frozen: bool  # the edition existed already and was rebuilt as it was
    sizes: dict[str, int] = field(default_factory=dict)  # edition key -> bytes of HTML


def today(config: Config, now: dt.datetime) -> dt.date:
    return now.astimezone(zoneinfo.ZoneInfo(config.timezone)).date()


def collect(config: Config, *, now: dt.datetime | None = None,
            progress: Callable[[collect_stage.Fetched], None] | None = None,
            store: Store | None = None, limits: collect_stage.Limits | None = None) -> CollectResult:
    """Fetch every feed into the store; each feed is saved as soon as it is in."""
    now = now or dt.datetime.now(dt.UTC)
    if store is None:
        with Store.open(config.state) as s:
            return collect(config, now=now, progress=progress, store=s, limits=limits)
    limits = limits or collect_stage.Limits(max_bytes=config.max_feed_bytes)
    states = store.feed_states()
    statuses = []
    for fetched in collect_stage.collect(config.feeds, states, now=now, limits=limits,
                                         progress=progress):
        new = store.save_feed(fetched.status, fetched.state, fetched.articles, canonical_url)
        status = replace(fetched.status, new_articles=new)
        log.debug("feed %s: %s %s (%d new)", status.feed_id, status.status, status.error, new)
        if status.status in ("error", "gone") and status.failures >= FAILING_RUNS:
            log.warning("feed %s has failed %d runs in a row: %s (%s)", status.feed_id,
                        status.failures, status.error, status.url)
        elif status.status == "moved":
            log.warning("feed %s moved permanently to %s: update the config", status.feed_id,
                        status.new_url)
        statuses.append(status)
    order = {f.id: i for i, f in enumerate(config.feeds)}
    statuses.sort(key=lambda s: order[s.feed_id])
    return CollectResult(tuple(statuses))


def feed_health(config: Config) -> list[FeedHealth]:
    """Each configured feed's last known state, from the store (read only, no lock)."""
    states = {}
    if config.state.exists():
        with Store.open(config.state, lock=False) as store:
            states = store.feed_states()
    out = []
    for f in config.feeds:
        s = states.get(f.id)
        if s is None or (s.url and s.url != f.url):
            out.append(FeedHealth(f.id, f.url))
        else:
            out.append(FeedHealth(f.id, f.url, s.status, s.error, s.failures, s.ok_at, s.checked_at,
                                  s.new_url, s.retry_after))
    return out


def import_opml(source: Path, config: Config | None, *, write: bool = False) -> tuple[str, opml.Imported]:
    """TOML blocks for the OPML file's feeds and folders; with `write`, appended to the config.

    The config file is the user's: its text is never rewritten, only added to,
    and only when the result still loads.
    """
    try:
        data = source.read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read {source}: {e.strerror or e}") from None
    imported = opml.plan(opml.read(data, source.name), config, config_mod.feed_slug)
    text = opml.toml_blocks(imported, source.name)
    if write and config is not None and imported.feeds:
        original = config.path.read_text(encoding="utf-8")
        joined = original + ("" if original.endswith("\n") or not original else "\n") + "\n" + text
        config_mod.parse(tomllib.loads(joined), config.path)  # raises ConfigError, writing nothing
        with config.path.open("a", encoding="utf-8") as f:
            f.write(joined[len(original):])
    return text, imported


def export_opml(config: Config, *, now: dt.datetime | None = None) -> str:
    """The configured feeds as OPML, titled as the store last saw them."""
    titles = {}
    if config.state.exists():
        with Store.open(config.state, lock=False) as store:
            titles = {k: s.title for k, s in store.feed_states().items() if s.title}
    return opml.write(config, titles, now or dt.datetime.now(dt.UTC))


def _secret(store: Store) -> bytes:
    env = os.environ.get(SECRET_ENV)
    return env.encode() if env else store.secret()


def load_day(config: Config, store: Store, date: dt.date, now: dt.datetime,
             *, rebuild: bool = False) -> tuple[Day, bool]:
    """The day's plan: the frozen edition if one was built (unless `rebuild`), else fresh candidates."""
    existing = None if rebuild else store.edition(date)
    if existing:
        built_at, ids = existing
        articles = store.articles(ids)
    else:
        zone = zoneinfo.ZoneInfo(config.timezone)
        end_of_day = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(), zone)
        reference = min(now, end_of_day)
        since = reference - dt.timedelta(hours=config.window_hours) if config.window_hours else None
        articles = store.candidates(since, reference, exclude_date=date.isoformat())
        built_at = now

    def lead_of(a: Article) -> Lead:
        return summarise(a, config.lead_words, show_images=config.theme.show_images)

    plan = selection.plan(articles, lead_of, date=date, topics=config.topics, feeds=config.feeds,
                          subscribers=config.subscribers, max_per_topic=config.max_per_topic)
    return Day(config, date, built_at, articles, plan, _secret(store)), existing is not None


def build(config: Config, *, date: dt.date | None = None, rebuild: bool = False,
          offline: bool = False, eml: bool = False, now: dt.datetime | None = None,
          progress: Callable[[collect_stage.Fetched], None] | None = None) -> BuildResult:
    """Collect, select, summarise and render the edition of `date` into the outbox."""
    now = now or dt.datetime.now(dt.UTC)
    date = date or today(config, now)
    with Store.open(config.state) as store:
        collected = CollectResult(()) if offline else collect(config, now=now, progress=progress,
                                                              store=store)
        day, frozen = load_day(config, store, date, now, rebuild=rebuild)
        folder = outbox.day_folder(config.outbox, date.isoformat())
        kept = _kept_editions(day, config.max_edition_files)
        files: list[Path] = []
        for key in kept:
            html_part, text_part = day.web_version(key)
            html_path, text_path = outbox.edition_paths(folder, key)
            outbox.write_atomic(html_path, html_part)
            outbox.write_atomic(text_path, text_part)
            files += [html_path, text_path]
        if eml:
            for reader, msg in day.messages():
                path = outbox.message_path(folder, reader.email)
                outbox.write_atomic(path, msg.raw)
                files.append(path)
        if day.plan.editions and not frozen:
            store.record_edition(date, day.built_at, day.plan.carried)
        sizes: dict[str, int] = {}
        if day.plan.editions:
            manifest = _manifest(day, collected, kept, folder)
            files.append(outbox.write_manifest(folder, manifest))
            files.append(outbox.write_index(folder, manifest))
            sizes = {e["key"]: e["html_bytes"] for e in manifest["editions"]}
    return BuildResult(day, collected, folder, tuple(files), frozen, sizes)


def open_day(config: Config, date: dt.date | None = None, *, now: dt.datetime | None = None) -> Day:
    """The built edition of `date`, read from the store without changing it."""
    now = now or dt.datetime.now(dt.UTC)
    date = date or today(config, now)
    with Store.open(config.state, lock=False) as store:
        if store.edition(date) is None:
            raise UsageError(f"no edition of {date} has been built yet; run `digest build --date {date}`")
        day, _ = load_day(config, store, date, now)
    return day


class PreviewSource:
    """A built day as `digest preview` shows it (preview.Source). Reads only."""

    def __init__(self, day: Day):
        self.day = day
        self.newsletter = day.config.name
        self.date = day.date.isoformat()
        from .render import GMAIL_CLIP

        self.budget = GMAIL_CLIP

    def editions(self) -> list[preview.EditionInfo]:
        readers: dict[str, list[str]] = {}
        for email, key in self.day.plan.recipients.items():
            readers.setdefault(key, []).append(email)
        out = []
        for key in _kept_editions(self.day, len(self.day.plan.editions)):
            r = self.day.edition(key)
            out.append(preview.EditionInfo(key, r.topics, r.subject, len(r.article_ids),
                                           r.html_bytes, tuple(readers.get(key, ()))))
        return out

    def edition(self, key: str) -> preview.Part | None:
        """The web version of an edition (neutral greeting), with a first reader's headers."""
        if key not in self.day.plan.editions:
            return None
        r = self.day.edition(key)
        html_part, text_part = self.day.web_version(key)
        first = next((e for e, k in self.day.plan.recipients.items() if k == key), None)
        headers = self._headers(self.day.reader(first)) if first else ()
        return preview.Part(f"{key}: {r.subject}", html_part, text_part, headers,
                            len(html_part.encode()))

    def reader(self, email: str) -> preview.Part | None:
        """One reader's email, personalised as it will be sent."""
        if email.lower() not in {e.lower() for e in self.day.plan.recipients}:
            return None
        sent = self.day.message(self.day.reader(email))
        if sent is None:
            return None
        msg = message.parse(sent.raw)
        html_body = msg.get_body(("html",))
        text_body = msg.get_body(("plain",))
        html_part = html_body.get_content() if html_body else ""
        return preview.Part(f"{email}: {msg['Subject']}", html_part,
                            text_body.get_content() if text_body else "",
                            tuple((k, str(v)) for k, v in msg.items()), len(html_part.encode()))

    def _headers(self, reader: Subscriber) -> tuple[tuple[str, str], ...]:
        sent = self.day.message(reader)
        return tuple((k, str(v)) for k, v in message.parse(sent.raw).items()) if sent else ()


def preview_source(config: Config, date: dt.date | None = None, *,
                   now: dt.datetime | None = None) -> PreviewSource:
    """What `digest preview` serves: the built edition of `date`, read without the lock."""
    return PreviewSource(open_day(config, date, now=now))


def _kept_editions(day: Day, limit: int) -> list[str]:
    """The editions kept as files: all-topics first, then the most common reader selections."""
    counts = Counter(day.plan.recipients.values())
    keys = sorted(day.plan.editions, key=lambda k: (k != selection.ALL, -counts[k], k))
    return keys[:limit]


def _manifest(day: Day, collected: CollectResult, kept: list[str], folder: Path) -> dict:
    def rel(p: Path) -> str:
        return p.relative_to(folder).as_posix()

    by_id = {a.id: a for a in day.articles}
    editions = []
    for key, ed in day.plan.editions.items():
        r = day.edition(key)
        html_path, text_path = outbox.edition_paths(folder, key)
        editions.append({
            "key": key, "topics": list(ed.topics), "subject": r.subject,
            "html": rel(html_path) if key in kept else None,
            "text": rel(text_path) if key in kept else None,
            "html_bytes": len(day.web_version(key)[0].encode()), "articles": list(r.article_ids),
        })
    return {
        "newsletter": day.config.name,
        "date": day.date.isoformat(),
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "articles": [_article_entry(by_id[aid], topics) for aid, topics in day.plan.topics.items()],
        "editions": editions,
        "recipients": [{"email": e, "edition": k} for e, k in day.plan.recipients.items()],
        "feeds": [{"id": f.feed_id, "url": f.url, "status": f.status, "error": f.error,
                   "new_articles": f.new_articles, "new_url": f.new_url or None,
                   "failures": f.failures} for f in collected.feeds],
    }


def _article_entry(a: Article, topics: tuple[str, ...]) -> dict:
    return {"id": a.id, "title": a.title, "url": a.url, "feed": a.feed_id, "topics": list(topics),
            "published": a.published.isoformat() if a.published else None}


# ---------------------------------------------------------------- send


@dataclass(frozen=True, slots=True)
class SendResult:
    """What `send` did for each reader with a message, in config order (dry run: `pending`)."""

    date: dt.date
    deliveries: tuple[Delivery, ...]
    dry_run: bool = False

    def count(self, status: str) -> int:
        return sum(d.status == status for d in self.deliveries)

    @property
    def undelivered(self) -> tuple[Delivery, ...]:
        """Readers still without their message: failed, deferred (or, in a dry run, pending)."""
        return tuple(d for d in self.deliveries if d.status not in ("sent", "already-sent"))


def send(config: Config, *, date: dt.date | None = None, to: str | None = None,
         dry_run: bool = False, now: dt.datetime | None = None,
         ssl_context: ssl.SSLContext | None = None, retry: deliver.Retry | None = None,
         progress: Callable[[Delivery, int], None] | None = None) -> SendResult:
    """Send the built edition of `date` to every reader who has not had it yet.

    Each accepted message is recorded at once, so a rerun sends only what is
    missing. `ssl_context` defaults to the system's trust store (which honours
    SSL_CERT_FILE); `progress(delivery, total)` is called after each message.
    """
    now = now or dt.datetime.now(dt.UTC)
    date = date or today(config, now)
    password = None if dry_run else _smtp_password(config)
    with Store.open(config.state, lock=not dry_run) as store:
        if store.edition(date) is None:
            raise UsageError(f"no edition of {date} has been built yet;"
                             f" run `digest build --date {date}`")
        day, _ = load_day(config, store, date, now)
        readers = list(config.subscribers)
        if to is not None:
            readers = [r for r in readers if r.email.lower() == to.lower()]
            if not readers:
                raise UsageError(f"{to} is not a subscriber")
        done = {email.lower() for email, (status, _e, _n) in store.deliveries(date).items()
                if status == "sent"}
        all_topics = [t.id for t in config.topics]
        order: list[tuple[str, str]] = []  # (email, edition) of every reader with a message
        pending: list[Subscriber] = []
        for r in readers:
            key = selection.edition_key(r.topics, all_topics)
            if key not in day.plan.editions:
                continue  # nothing new in their topics today: no message
            order.append((r.email, key))
            if r.email.lower() not in done:
                pending.append(r)
        if dry_run:
            pending_emails = {r.email for r in pending}
            return SendResult(date, tuple(
                Delivery(e, k, "pending" if e in pending_emails else "already-sent")
                for e, k in order), dry_run=True)

        # Readers of one edition together, so each edition is assembled once.
        pending.sort(key=lambda r: selection.edition_key(r.topics, all_topics))

        def outgoing() -> Iterator[deliver.Outgoing]:
            for r in pending:
                msg = day.message(r)
                assert msg is not None  # its edition is in the plan
                yield deliver.Outgoing(r.email, selection.edition_key(r.topics, all_topics),
                                       msg.message_id, msg.raw)

        def record(item: deliver.Outgoing, d: Delivery) -> None:
            store.record_delivery(date, item.email, item.edition, item.message_id, d.status,
                                  d.error)

        sent = deliver.send(
            _ahead(outgoing(), PREFETCH), config.smtp, sender=parseaddr(config.sender)[1], record=record,
            password=password, ssl_context=ssl_context, retry=retry,
            progress=(lambda d: progress(d, len(pending))) if progress else None)
    by_email = {d.email: d for d in sent}
    return SendResult(date, tuple(by_email.get(e) or Delivery(e, k, "already-sent")
                                  for e, k in order))


def _ahead(items: Iterator[T], n: int) -> Iterator[T]:
    """`items`, made by a thread up to `n` ahead of the consumer.

    Building the next message (Python, holding the GIL) then overlaps
    waiting for the relay's answer (a socket read, which releases it).
    """
    q: queue.Queue[tuple[bool, object]] = queue.Queue(maxsize=n)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    with contextlib.suppress(queue.Full):
                        q.put((True, item), timeout=0.1)
                        break
                if stop.is_set():
                    return
            q.put((False, None))
        except BaseException as e:  # handed to the consumer, raised there
            q.put((False, e))

    threading.Thread(target=produce, name="digest-messages", daemon=True).start()
    try:
        while True:
            more, item = q.get()
            if not more:
                if isinstance(item, BaseException):
                    raise item
                return
            yield item  # type: ignore[misc]
    finally:
        stop.set()


def _smtp_password(config: Config) -> str | None:
    """The relay password from the environment variable `smtp.password_env` names."""
    smtp = config.smtp
    if not smtp.username:
        return None
    if not smtp.password_env:
        raise ConfigError([f"{config.path.name}: smtp.password_env: expected the name of the"
                           f" environment variable holding {smtp.username}'s password"])
    password = os.environ.get(smtp.password_env)
    if password is None:
        raise ConfigError([f"{config.path.name}: smtp.password_env: the environment variable"
                           f" {smtp.password_env} is not set"])
    return password
