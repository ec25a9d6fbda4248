"""The SQLite store: schema, frozen editions, what counts as new, the run lock."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from digest.dedup import canonical_url
from digest.errors import DigestError, LockedError
from digest.models import Article, FeedState, FeedStatus
from digest.store import SCHEMA_VERSION, Store

NOW = dt.datetime(2025, 7, 3, 6, 0, tzinfo=dt.UTC)


def art(aid: str, url: str, hours_ago: float) -> Article:
    return Article(id=aid, feed_id="wire", title=f"Story {aid}", url=url,
                   published=NOW - dt.timedelta(hours=hours_ago), seen=NOW, source="Wire")


def save(store: Store, *articles: Article) -> int:
    return store.save_feed(FeedStatus("wire", "https://wire.example.com", "ok"), FeedState(),
                           articles, canonical_url)


def test_schema_is_created_with_a_version(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        assert store.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == (
            str(SCHEMA_VERSION),)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite"):
        pass
    db = sqlite3.connect(tmp_path / "s.sqlite")
    db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    db.commit()
    with pytest.raises(DigestError, match="schema version 99 is newer"), Store.open(tmp_path / "s.sqlite"):
        pass


def test_articles_are_stored_once_and_round_trip(tmp_path: Path) -> None:
    a = art("1", "https://wire.example.com/1", 1)
    with Store.open(tmp_path / "s.sqlite") as store:
        assert save(store, a) == 1
        assert save(store, a) == 0
        assert store.articles(["1"]) == [a]


def test_candidates_skip_what_other_editions_carried(tmp_path: Path) -> None:
    old = art("1", "https://wire.example.com/1", 30)
    carried = art("2", "https://wire.example.com/2", 2)
    same_link = art("3", "http://www.wire.example.com/2/?utm_source=x", 1)
    fresh = art("4", "https://wire.example.com/4", 1)
    with Store.open(tmp_path / "s.sqlite") as store:
        save(store, old, carried, same_link, fresh)
        store.record_edition(dt.date(2025, 7, 2), NOW, ["2"])
        since = NOW - dt.timedelta(hours=24)
        assert [a.id for a in store.candidates(since, NOW, "2025-07-03")] == ["4"]
        # The day that carried it still sees its own articles (for a --rebuild).
        assert [a.id for a in store.candidates(since, NOW, "2025-07-02")] == ["2", "3", "4"]
        assert [a.id for a in store.candidates(None, NOW, "2025-07-03")] == ["1", "4"]


def test_edition_is_frozen_until_rebuilt(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        save(store, art("1", "https://wire.example.com/1", 1), art("2", "https://wire.example.com/2", 1))
        assert store.edition(dt.date(2025, 7, 3)) is None
        store.record_edition(dt.date(2025, 7, 3), NOW, ["1"])
        assert store.edition(dt.date(2025, 7, 3)) == (NOW, ["1"])
        store.record_edition(dt.date(2025, 7, 3), NOW, ["2"])
        assert store.edition(dt.date(2025, 7, 3)) == (NOW, ["2"])


def test_second_run_waits_then_fails_with_a_clear_message(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite"):
        with pytest.raises(LockedError, match=r"is in use by digest pid \d+; waited 0.2 s"), \
                Store.open(tmp_path / "s.sqlite", wait=0.2):
            pass
        # Readers that change nothing do not need the lock.
        with Store.open(tmp_path / "s.sqlite", lock=False) as reader:
            assert reader.edition(dt.date(2025, 7, 3)) is None
    with Store.open(tmp_path / "s.sqlite", wait=0.2):
        pass  # released


def test_secret_is_made_once(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        first = store.secret()
    with Store.open(tmp_path / "s.sqlite") as store:
        assert store.secret() == first and len(first) == 32
