"""Editions made in code for the email tests: any size, any hostile text."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from digest import config as config_mod
from digest.models import Article, Config, Edition, Image, Lead, Link, Section, Story, TopicSpec

DATE = dt.date(2025, 7, 4)
NOW = dt.datetime(2025, 7, 4, 6, 0, tzinfo=dt.UTC)

LONG_LEAD = (
    "Officials said on Thursday that the programme had passed its critical design review "
    "and that the first flight units would be delivered to the integration site next spring, "
    "a year later than planned but within the revised budget agreed with parliament. "
)


def story(n: int, *, title: str = "", lead: str = "", image: bool = False, url: str = "",
          also: int = 0, source: str = "SpaceWar.example") -> Story:
    """Story number `n`: a plausible headline, a lead, optionally a thumbnail and "also" links."""
    article = Article(
        id=f"a{n:04d}", feed_id="spacewar", title=title or f"Interceptor test number {n} meets its goals",
        url=url or f"https://www.spacewar.example.com/reports/story_{n}.html",
        published=NOW - dt.timedelta(minutes=7 * n), seen=NOW, source=source)
    img = Image(f"https://www.spacewar.example.com/images/{n}.jpg", 150, 100,
                f"Photo for story {n}") if image else None
    links = tuple(Link(f"Same story {k}", f"https://other{k}.example.net/{n}", f"Other {k}")
                  for k in range(also))
    return Story(article, Lead(lead or LONG_LEAD[:160], dateline="Washington (AFP)", image=img), links)


def edition(sections: dict[str, list[Story]], *, more: dict[str, list[Story]] | None = None,
            key: str = "all") -> Edition:
    """An edition with one section per entry of `sections` (topic id -> stories)."""
    more = more or {}
    secs = tuple(Section(TopicSpec(tid, tid.replace("-", " ").title()), tuple(stories),
                         tuple(more.get(tid, ()))) for tid, stories in sections.items())
    return Edition(key, DATE, tuple(sections), secs)


def config(sample: Path, extra: str = "") -> Config:
    """The sample config, with `extra` TOML set in its [digest] table (replacing those keys)."""
    text = sample.read_text(encoding="utf-8")
    if extra:
        keys = {line.split("=")[0].strip() for line in extra.splitlines() if "=" in line}
        head, sep, rest = text.partition("[digest.theme]")
        head = "\n".join(x for x in head.splitlines() if x.split("=")[0].strip() not in keys)
        text = head + "\n" + extra + "\n\n" + sep + rest
    sample.write_text(text, encoding="utf-8")
    return config_mod.load(sample)


def sample_edition() -> Edition:
    """A day like the samples: four topics, images, "also" links and More headlines."""
    return edition(
        {"superpowers": [story(1, also=2), story(2, image=True), story(3)],
         "missile-defense": [story(4, image=True), story(5), story(6, also=1)],
         "military-space": [story(7), story(8)],
         "nuclear-weapons": [story(9, image=True)]},
        more={"superpowers": [story(10), story(11)], "military-space": [story(12)]})
