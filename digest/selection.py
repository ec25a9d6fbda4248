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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from .dedup import canonical_url, group_duplicates
from .models import Article, Edition, FeedSpec, Lead, Link, Section, Story, Subscriber, TopicSpec

ALL = "all"
# Headlines kept in "More headlines" past max_per_topic: up to MORE_PER_TOPIC
# per topic, but no more than MORE_IN_ALL over all topics (at least 3 each), so
# the all-topics edition of a newsletter with many topics still fits the size
# budget rather than leaving headlines out.
MORE_PER_TOPIC = 20
MORE_IN_ALL = 60


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


_TOKEN = re.compile(r"\w+")
_PLAIN_WORDS = re.compile(r"\w+(?:[\s-]+\w+)*")


class Matcher:
    """The topics' keywords and excludes, looked up in an article's words at once.

    Whole words, case-insensitive. A keyword of letters, digits, spaces and
    hyphens is a run of words (so "air defence" also finds "air-defence"):
    the article's words are split once and every topic looks its phrases up
    in one set. Any other keyword ("C++", "Xi's") is found as written, by a
    regex with word bounds.
    """

    def __init__(self, topics: Sequence[TopicSpec], feeds: Sequence[FeedSpec]):
        self.restricted = topic_feeds(topics, feeds)
        self.rules: dict[str, tuple[frozenset[str], re.Pattern[str] | None,
                                    frozenset[str], re.Pattern[str] | None]] = {}
        self.longer: dict[str, set[int]] = {}  # first word -> lengths of phrases starting with it
        for t in topics:
            kw_phrases, kw_other = self._split(t.keywords)
            ex_phrases, ex_other = self._split(t.exclude)
            self.rules[t.id] = (kw_phrases, _word_pattern(kw_other), ex_phrases, _word_pattern(ex_other))
            for phrase in kw_phrases | ex_phrases:
                words = phrase.split()
                if len(words) > 1:
                    self.longer.setdefault(words[0], set()).add(len(words))
        self.open = {t.id for t in topics if not any(w.strip() for w in t.keywords)}

    @staticmethod
    def _split(words: Sequence[str]) -> tuple[frozenset[str], tuple[str, ...]]:
        phrases = {" ".join(_TOKEN.findall(w.casefold())) for w in words if _PLAIN_WORDS.fullmatch(w.strip())}
        other = tuple(w for w in words if w.strip() and not _PLAIN_WORDS.fullmatch(w.strip()))
        return frozenset(phrases), other

    def phrases(self, text: str) -> set[str]:
        """The words of `text`, and the runs of words any keyword could be."""
        tokens = _TOKEN.findall(text.casefold())
        found = set(tokens)
        for i, token in enumerate(tokens):
            for n in self.longer.get(token, ()):
                found.add(" ".join(tokens[i:i + n]))
        return found

    def claims(self, topic: TopicSpec, article: Article, text: str, phrases: set[str]) -> bool:
        """Does `topic` admit `article`? `text` is its title, summary and categories;
        `phrases` is `self.phrases(text)`."""
        restricted = self.restricted[topic.id]
        if restricted and article.feed_id not in restricted:
            return False
        kw_phrases, kw_other, ex_phrases, ex_other = self.rules[topic.id]
        if not ex_phrases.isdisjoint(phrases) or (ex_other and ex_other.search(text)):
            return False
        return (topic.id in self.open or not kw_phrases.isdisjoint(phrases)
                or (kw_other is not None and kw_other.search(text) is not None))


def stories(articles: Sequence[Article]) -> list[tuple[Article, tuple[Link, ...], tuple[Article, ...]]]:
    """Merge duplicates: same canonical URL first, then the same story reworded.

    Returns (story, its "also" links, all its articles) newest first. The
    earliest article of a group is the story; the first article of each other
    page in the group becomes an "also" link (a second copy of the same page
    is not worth one). Stories are compared by title and the start of their
    summary, so no article needs summarising before it is chosen.
    """
    by_url: dict[str, list[Article]] = {}
    for a in sorted(articles, key=lambda a: (a.when, a.id)):
        by_url.setdefault(canonical_url(a.url) if a.url else a.id, []).append(a)
    heads = [group[0] for group in by_url.values()]
    members = {group[0].id: group for group in by_url.values()}
    out = []
    for group in group_duplicates([(a.title, _intro(a)) for a in heads]):
        rep = heads[group[0]]
        everyone = tuple(m for i in group for m in members[heads[i].id])
        also = tuple(Link(heads[i].title, heads[i].url, heads[i].source)
                     for i in group[1:] if heads[i].url)
        out.append((rep, also, everyone))
    out.sort(key=lambda triple: (triple[0].when, triple[0].id), reverse=True)
    return out


def plan(articles: Sequence[Article], lead_of: Callable[[Article], Lead], *, date: dt.date,
         topics: Sequence[TopicSpec], feeds: Sequence[FeedSpec], subscribers: Sequence[Subscriber],
         max_per_topic: int) -> Plan:
    """Build the day's editions: the all-topics one and one per distinct reader selection.

    `lead_of` is asked only for the stories some edition shows.
    """
    matcher = Matcher(topics, feeds)
    merged = stories(articles)
    claimed: dict[str, list[str]] = {t.id: [] for t in topics}  # topic -> story ids, newest first
    story_topics: dict[str, list[str]] = {}
    for rep, _also, group in merged:
        texts = [(a, text, matcher.phrases(text)) for a in group for text in (_match_text(a),)]
        for t in topics:
            if any(matcher.claims(t, a, text, phrases) for a, text, phrases in texts):
                claimed[t.id].append(rep.id)
                story_topics.setdefault(rep.id, []).append(t.id)

    all_ids = tuple(t.id for t in topics)
    limit = max_per_topic + min(MORE_PER_TOPIC, max(3, MORE_IN_ALL // max(len(topics), 1)))
    layouts: dict[tuple[str, ...], list[tuple[TopicSpec, list[str]]]] = {}
    for sel in sorted({all_ids} | {s.topics for s in subscribers}):
        shown: set[str] = set()
        layout = []
        for t in topics:
            if t.id not in sel:
                continue
            fresh: list[str] = []
            for sid in claimed[t.id]:  # newest first; stop once the section is full
                if sid not in shown:
                    fresh.append(sid)
                    if len(fresh) == limit:
                        break
            shown.update(fresh)
            if fresh:
                layout.append((t, fresh))
        if layout:
            layouts[sel] = layout

    # One Story per shown article, shared by every edition that shows it.
    info = {rep.id: (rep, also, group) for rep, also, group in merged}
    used = sorted({sid for layout in layouts.values() for _t, ids in layout for sid in ids})
    story = {sid: Story(info[sid][0], lead_of(info[sid][0]), info[sid][1]) for sid in used}
    editions: dict[str, Edition] = {}
    for sel, layout in layouts.items():
        key = edition_key(sel, all_ids)
        sections = tuple(Section(t, tuple(story[i] for i in ids[:max_per_topic]),
                                 tuple(story[i] for i in ids[max_per_topic:])) for t, ids in layout)
        editions[key] = Edition(key, date, sel, sections)
    recipients = {s.email: k for s in subscribers if (k := edition_key(s.topics, all_ids)) in editions}
    carried = sorted({a.id for sid in used for a in info[sid][2]})
    return Plan(editions, recipients, tuple(carried), {sid: tuple(story_topics[sid]) for sid in used})


_TAG = re.compile(r"<[^>]*>")


def _plain(fragment: str) -> str:
    return html.unescape(_TAG.sub(" ", fragment))


def _match_text(a: Article) -> str:
    """Where topic keywords are looked for: title, summary (else content) and categories."""
    return " \n ".join((a.title, _plain(a.summary_html or a.content_html), *a.categories))


def _intro(a: Article) -> str:
    """The first words of the summary (else content), plain: what duplicates are compared by."""
    return " ".join(_plain((a.summary_html or a.content_html)[:3000]).split()[:60])
