"""The SQLite store: feeds and their fetch state, articles, editions, deliveries.

Only this module touches SQLite. Every write is one transaction, so a run
killed at any point leaves either the old or the new state. One run at a time
holds an exclusive lock on a file beside the database.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from .errors import DigestError, LockedError
from .models import Article, FeedState, FeedStatus, Media

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE feeds (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    etag TEXT NOT NULL DEFAULT '',
    last_modified TEXT NOT NULL DEFAULT '',
    body_hash TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT '',
    new_url TEXT NOT NULL DEFAULT '',
    failures INTEGER NOT NULL DEFAULT 0,
    retry_after TEXT NOT NULL DEFAULT '',
    checked_at TEXT NOT NULL DEFAULT '',
    ok_at TEXT NOT NULL DEFAULT ''
);
CREATE TABLE articles (
    id TEXT PRIMARY KEY,
    feed_id TEXT NOT NULL,
    canonical_url TEXT NOT NULL,
    title TEXT NOT NULL,
    url TEXT NOT NULL,
    published TEXT,
    seen TEXT NOT NULL,
    source TEXT NOT NULL,
    author TEXT NOT NULL,
    categories TEXT NOT NULL,
    content_html TEXT NOT NULL,
    summary_html TEXT NOT NULL,
    media TEXT NOT NULL
);
CREATE INDEX articles_canonical ON articles (canonical_url);
CREATE INDEX articles_when ON articles (coalesce(published, seen));
CREATE TABLE editions (date TEXT PRIMARY KEY, built_at TEXT NOT NULL);
CREATE TABLE edition_articles (
    date TEXT NOT NULL REFERENCES editions (date) ON DELETE CASCADE,
    article_id TEXT NOT NULL REFERENCES articles (id),
    PRIMARY KEY (date, article_id)
);
CREATE INDEX edition_articles_article ON edition_articles (article_id);
CREATE TABLE deliveries (
    date TEXT NOT NULL,
    email TEXT NOT NULL,
    edition TEXT NOT NULL,
    message_id TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    at TEXT NOT NULL,
    PRIMARY KEY (date, email)
);
"""


def _iso(t: dt.datetime | None) -> str | None:
    return t.astimezone(dt.UTC).isoformat(timespec="seconds") if t else None


def _time(s: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(s) if s else None


class Store:
    """An open store. Use `Store.open(path)` as a context manager."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    @classmethod
    @contextlib.contextmanager
    def open(cls, path: Path, *, lock: bool = True, wait: float = 5.0) -> Iterator[Store]:
        """Open (creating on first use) the store; with `lock`, hold the run lock."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.ExitStack() as stack:
            if lock:
                stack.enter_context(_run_lock(path.with_name(path.name + ".lock"), wait))
            db = sqlite3.connect(path, timeout=wait, isolation_level=None)
            stack.callback(db.close)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA synchronous=NORMAL")
            store = cls(db)
            store._migrate(path)
            yield store

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _migrate(self, path: Path) -> None:
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "meta" not in tables:
            # executescript commits what is pending, so the script carries its own transaction.
            self.db.executescript(f"BEGIN IMMEDIATE; {_SCHEMA} INSERT INTO meta VALUES"
                                  f" ('schema_version', '{SCHEMA_VERSION}'); COMMIT;")
            return
        version = int(self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise DigestError(f"{path}: store schema version {version} is newer than this "
                              f"digest understands ({SCHEMA_VERSION}); upgrade digest")

    # ------------------------------------------------------------ meta

    def secret(self) -> bytes:
        """A random per-store secret, made on first use (signs unsubscribe tokens)."""
        row = self.db.execute("SELECT value FROM meta WHERE key='secret'").fetchone()
        if row:
            return bytes.fromhex(row[0])
        value = secrets.token_hex(32)
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO meta VALUES ('secret', ?)", (value,))
        return bytes.fromhex(self.db.execute("SELECT value FROM meta WHERE key='secret'").fetchone()[0])

    # ------------------------------------------------------------ feeds

    def feed_state(self, feed_id: str) -> FeedState:
        row = self.db.execute(
            "SELECT etag, last_modified, body_hash, failures, retry_after, title, status, error,"
            " new_url, checked_at, ok_at, url FROM feeds WHERE id=?", (feed_id,)).fetchone()
        return FeedState(*row) if row else FeedState()

    def feed_states(self) -> dict[str, FeedState]:
        rows = self.db.execute(
            "SELECT id, etag, last_modified, body_hash, failures, retry_after, title, status, error,"
            " new_url, checked_at, ok_at, url FROM feeds")
        return {r[0]: FeedState(*r[1:]) for r in rows}

    def save_feed(self, status: FeedStatus, state: FeedState, articles: Sequence[Article],
                  canonical: Callable[[str], str]) -> int:
        """Record one feed's run and its articles in one transaction; return how many are new."""
        with self.transaction() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(a.id, a.feed_id, canonical(a.url), a.title, a.url, _iso(a.published), _iso(a.seen),
                  a.source, a.author, json.dumps(a.categories), a.content_html, a.summary_html,
                  json.dumps([[m.url, m.type, m.width, m.height, m.alt] for m in a.media]))
                 for a in articles])
            new = db.total_changes - before
            db.execute(
                "INSERT INTO feeds (id, url, title, etag, last_modified, body_hash, status, error,"
                " new_url, failures, retry_after, checked_at, ok_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT (id) DO UPDATE SET url=excluded.url, title=excluded.title,"
                " etag=excluded.etag, last_modified=excluded.last_modified,"
                " body_hash=excluded.body_hash, status=excluded.status, error=excluded.error,"
                " new_url=excluded.new_url, failures=excluded.failures,"
                " retry_after=excluded.retry_after, checked_at=excluded.checked_at,"
                " ok_at=excluded.ok_at",
                (status.feed_id, status.url, state.title, state.etag, state.last_modified,
                 state.body_hash, status.status, status.error, status.new_url, state.failures,
                 state.retry_after, state.checked_at, state.ok_at))
        return new

    # ------------------------------------------------------------ articles

    _COLUMNS = ("id, feed_id, title, url, published, seen, source, author, categories,"
                " content_html, summary_html, media")

    @staticmethod
    def _article(row: Sequence) -> Article:
        return Article(
            id=row[0], feed_id=row[1], title=row[2], url=row[3], published=_time(row[4]),
            seen=_time(row[5]) or dt.datetime.now(dt.UTC), source=row[6], author=row[7],
            categories=tuple(json.loads(row[8])), content_html=row[9], summary_html=row[10],
            media=tuple(Media(*m) for m in json.loads(row[11])))

    def candidates(self, since: dt.datetime | None, until: dt.datetime, exclude_date: str) -> list[Article]:
        """Articles within the window that no other edition carried, by id or by canonical URL."""
        rows = self.db.execute(
            f"SELECT {self._COLUMNS} FROM articles a"
            " WHERE coalesce(published, seen) >= ? AND coalesce(published, seen) <= ?"
            " AND NOT EXISTS (SELECT 1 FROM edition_articles e JOIN articles c ON c.id = e.article_id"
            "   WHERE e.date != ? AND (c.id = a.id OR c.canonical_url = a.canonical_url))"
            " ORDER BY coalesce(published, seen), id",
            (_iso(since) if since else "", _iso(until), exclude_date))
        return [self._article(r) for r in rows]

    def articles(self, ids: Iterable[str]) -> list[Article]:
        ids = list(ids)
        out: list[Article] = []
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            marks = ",".join("?" * len(chunk))
            out += [self._article(r) for r in self.db.execute(
                f"SELECT {self._COLUMNS} FROM articles WHERE id IN ({marks})", chunk)]
        return sorted(out, key=lambda a: (a.when, a.id))

    # ------------------------------------------------------------ editions

    def edition(self, date: dt.date) -> tuple[dt.datetime, list[str]] | None:
        """When the edition of `date` was first built and the articles it carried, if built."""
        row = self.db.execute("SELECT built_at FROM editions WHERE date=?", (date.isoformat(),)).fetchone()
        if not row:
            return None
        ids = [r[0] for r in self.db.execute(
            "SELECT article_id FROM edition_articles WHERE date=? ORDER BY article_id", (date.isoformat(),))]
        return dt.datetime.fromisoformat(row[0]), ids

    def record_edition(self, date: dt.date, built_at: dt.datetime, article_ids: Iterable[str]) -> None:
        """Freeze what the edition of `date` carries (replacing an earlier build of it)."""
        d = date.isoformat()
        with self.transaction() as db:
            db.execute("DELETE FROM editions WHERE date=?", (d,))
            db.execute("INSERT INTO editions VALUES (?, ?)", (d, _iso(built_at)))
            db.executemany("INSERT OR IGNORE INTO edition_articles VALUES (?, ?)",
                           [(d, i) for i in article_ids])

    # ------------------------------------------------------------ deliveries

    def deliveries(self, date: dt.date) -> dict[str, tuple[str, str, int]]:
        """email -> (status, error, attempts) for the edition of `date`."""
        rows = self.db.execute("SELECT email, status, error, attempts FROM deliveries WHERE date=?",
                               (date.isoformat(),))
        return {r[0]: (r[1], r[2], r[3]) for r in rows}

    def record_delivery(self, date: dt.date, email: str, edition: str, message_id: str,
                        status: str, error: str = "") -> None:
        """Record one attempt at once, so a rerun after a crash never sends it twice."""
        now = _iso(dt.datetime.now(dt.UTC))
        with self.transaction() as db:
            db.execute(
                "INSERT INTO deliveries VALUES (?,?,?,?,?,?,1,?) ON CONFLICT (date, email) DO UPDATE"
                " SET status=excluded.status, error=excluded.error, edition=excluded.edition,"
                " message_id=excluded.message_id, attempts=attempts+1, at=excluded.at",
                (date.isoformat(), email, edition, message_id, status, error, now))


@contextlib.contextmanager
def _run_lock(path: Path, wait: float) -> Iterator[None]:
    """Hold an exclusive lock on `path`; wait up to `wait` seconds, then raise LockedError."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another run"
                    raise LockedError(
                        f"the store {path.with_suffix('')} is in use by {holder}; "
                        f"waited {wait:g} s. Try again when it has finished.") from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"digest pid {os.getpid()}".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the flock
