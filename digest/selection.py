"""Pure: which stories go into which edition.

Topics claim articles by feed and keywords; duplicates (same canonical URL,
or the same story reworded) become one story with "also" links; each
distinct topic selection becomes one Edition, where a story shows once, in
the first of its topics (config order) that claims it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from .dedup import canonical_url, group_duplicates
from .models import Article, Edition, FeedSpec, Lead, Link, Section, Story, Subscriber, TopicSpec

ALL = "all"
MORE_PER_TOPIC = 20  # headlines kept in "More headlines" past max_per_topic


@dataclass(frozen=True, slots=True)
class Plan:
    """A day's editions, keyed by edition key, and which edition each reader gets."""

    editions: dict[str, Edition]
    recipients: dict[str, str]  # email -> edition key (readers with nothing new are absent)
    carried: tuple[str, ...]  # ids of every article shown, "also" links included
    topics: dict[str, tuple[str, ...]]  # story (article id) -> the topics that claim it


def edition_key(topics: Sequence[str], all_topics: Sequence[str]) -> str:
    """A file-safe, stable name for a topic selection."""
    if tuple(topics) == tuple(all_topics):
        return ALL
    key = "+".join(topics)
    if len(key) > 80:
        key = "sel-" + hashlib.sha256(key.encode()).hexdigest()[:16]
    return key


@cache
def _word_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    if not words:
        return None
    alts = "|".join(re.escape(w.strip()) for w in sorted(words, key=len, reverse=True) if w.strip())
    return re.compile(rf"(?<!\w)(?:{alts})(?!\w)", re.IGNORECASE) if alts else None


def topic_feeds(topics: Sequence[TopicSpec], feeds: Sequence[FeedSpec]) -> dict[str, frozenset[str]]:
    """topic id -> the feeds it is restricted to (empty: every feed)."""
    out = {t.id: set(t.feeds) for t in topics}
    for f in feeds:
        for t in f.topics:
            out.setdefault(t, set()).add(f.id)
    return {k: frozenset(v) for k, v in out.items()}


def claims(topic: TopicSpec, restricted: frozenset[str], article: Article, text: str) -> bool:
    """Does `topic` admit `article`? `text` is the title, summary and categories to match words in."""
    if restricted and article.feed_id not in restricted:
        return False
    exclude = _word_pattern(topic.exclude)
    if exclude and exclude.search(text):
        return False
    keywords = _word_pattern(topic.keywords)
    return keywords is None or keywords.search(text) is not None


def stories(articles: Sequence[Article],
            leads: Mapping[str, Lead]) -> list[tuple[Story, tuple[Article, ...]]]:
    """Merge duplicates: same canonical URL first, then the same story reworded.

    Returns (story, all its articles) newest first; the earliest article of a
    group is the story; the first article of each other page in the group
    becomes an "also" link (a second copy of the same page is not worth one).
    """
    by_url: dict[str, list[Article]] = {}
    for a in sorted(articles, key=lambda a: (a.when, a.id)):
        by_url.setdefault(canonical_url(a.url) if a.url else a.id, []).append(a)
    heads = [group[0] for group in by_url.values()]
    members = {group[0].id: group for group in by_url.values()}
    out = []
    for group in group_duplicates([(a.title, leads[a.id].text if a.id in leads else "") for a in heads]):
        rep = heads[group[0]]
        everyone = [m for i in group for m in members[heads[i].id]]
        also = tuple(Link(heads[i].title, heads[i].url, heads[i].source)
                     for i in group[1:] if heads[i].url)
        out.append((Story(rep, leads.get(rep.id, Lead("")), also), tuple(everyone)))
    out.sort(key=lambda pair: (pair[0].article.when, pair[0].article.id), reverse=True)
    return out


def plan(articles: Sequence[Article], leads: Mapping[str, Lead], *, date: dt.date,
         topics: Sequence[TopicSpec], feeds: Sequence[FeedSpec], subscribers: Sequence[Subscriber],
         max_per_topic: int) -> Plan:
    """Build the day's editions: the all-topics one and one per distinct reader selection."""
    restricted = topic_feeds(topics, feeds)
    merged = stories(articles, leads)
    claimed: dict[str, list[Story]] = {t.id: [] for t in topics}
    story_topics: dict[str, list[str]] = {}
    for story, group in merged:
        texts = {a.id: _match_text(a, leads.get(a.id)) for a in group}
        for t in topics:
            if any(claims(t, restricted[t.id], a, texts[a.id]) for a in group):
                claimed[t.id].append(story)
                story_topics.setdefault(story.article.id, []).append(t.id)

    all_ids = tuple(t.id for t in topics)
    selections = {all_ids} | {s.topics for s in subscribers}
    editions: dict[str, Edition] = {}
    for sel in sorted(selections):
        key = edition_key(sel, all_ids)
        shown: set[str] = set()
        sections = []
        for t in topics:
            if t.id not in sel:
                continue
            fresh = [s for s in claimed[t.id] if s.article.id not in shown]
            fresh = fresh[:max_per_topic + MORE_PER_TOPIC]
            shown.update(s.article.id for s in fresh)
            if fresh:
                sections.append(Section(t, tuple(fresh[:max_per_topic]), tuple(fresh[max_per_topic:])))
        if sections:
            editions[key] = Edition(key, date, sel, tuple(sections))
    recipients = {s.email: k for s in subscribers if (k := edition_key(s.topics, all_ids)) in editions}
    groups = {story.article.id: group for story, group in merged}
    shown = {s.article.id for e in editions.values() for s in e.stories}
    carried = sorted({a.id for sid in shown for a in groups[sid]})
    return Plan(editions, recipients, tuple(carried),
                {sid: tuple(story_topics[sid]) for sid in sorted(shown)})


_TAG = re.compile(r"<[^>]*>")


def _match_text(a: Article, lead: Lead | None) -> str:
    summary = html.unescape(_TAG.sub(" ", a.summary_html))
    return " \n ".join((a.title, summary if summary.strip() else (lead.text if lead else ""),
                        *a.categories))
