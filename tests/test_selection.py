"""Selection is pure: topics, once-per-email, editions per distinct selection."""

from __future__ import annotations

import datetime as dt

import pytest

from digest import selection
from digest.models import Article, FeedSpec, Lead, Link, Subscriber, TopicSpec

NOW = dt.datetime(2025, 7, 3, 6, 0, tzinfo=dt.UTC)
DAY = dt.date(2025, 7, 3)


def art(aid: str, title: str, feed: str = "wire", *, url: str = "", minutes: int = 0,
        summary: str = "", categories: tuple[str, ...] = (), source: str = "") -> Article:
    return Article(id=aid, feed_id=feed, title=title, url=url or f"https://{feed}.example.com/{aid}",
                   published=NOW - dt.timedelta(minutes=minutes), seen=NOW, source=source or feed,
                   summary_html=summary, categories=categories)


SPACE = TopicSpec("space", "Military Space", keywords=("satellite", "Space Force"))
MISSILE = TopicSpec("missile", "Missile Defense", keywords=("missile", "air defence"), exclude=("sponsored",))
NUKES = TopicSpec("nukes", "Nuclear Weapons", feeds=("arms",))
TOPICS = (SPACE, MISSILE, NUKES)
FEEDS = (FeedSpec("wire", "https://wire.example.com"), FeedSpec("arms", "https://arms.example.com"))


def leads(articles: list[Article]):
    """A lead_of for plan(); it must only be asked for the articles it was given."""
    known = {a.id for a in articles}

    def lead_of(a: Article) -> Lead:
        assert a.id in known
        return Lead(f"Lead of {a.title}.")
    return lead_of


@pytest.mark.parametrize(("topic", "title", "summary", "feed", "expected"), [
    pytest.param(MISSILE, "New missile shield", "", "wire", True, id="keyword-in-title"),
    pytest.param(MISSILE, "MISSILE shield", "", "wire", True, id="case-insensitive"),
    pytest.param(MISSILE, "Missiles everywhere", "", "wire", False, id="whole-words-only"),
    pytest.param(MISSILE, "Shield", "A new <b>air defence</b> radar", "wire", True, id="phrase-in-summary"),
    pytest.param(MISSILE, "Missile deal (sponsored)", "", "wire", False, id="exclude-wins"),
    pytest.param(NUKES, "Warheads counted", "", "arms", True, id="feed-restricted-in"),
    pytest.param(NUKES, "Warheads counted", "", "wire", False, id="feed-restricted-out"),
])
def test_claims(topic: TopicSpec, title: str, summary: str, feed: str, expected: bool) -> None:
    a = art("x", title, feed, summary=summary)
    assert claims(topic, a) is expected


def claims(topic: TopicSpec, a: Article, topics: tuple[TopicSpec, ...] = TOPICS) -> bool:
    matcher = selection.Matcher(topics, FEEDS)
    text = selection._match_text(a)
    return matcher.claims(topic, a, text, matcher.phrases(text))


@pytest.mark.parametrize(("keyword", "title", "expected"), [
    ("air defence", "New air-defence radar", True),
    ("air defence", "Air   defence in the north", True),
    ("air defence", "Air power and defence", False),
    ("F-35", "Norway takes more F-35 jets", True),
    ("F-35", "F-350 truck recall", False),
    ("C++", "Why C++ still matters", True),
    ("C++", "Grades: C and B", False),
    ("Xi's", "Xi's visit ends", True),
    ("", "anything at all", True),
], ids=["hyphen", "spaces", "apart", "dashed-word", "dashed-prefix", "symbols", "symbols-absent",
        "apostrophe", "blank-keyword-admits-all"])
def test_keyword_forms(keyword: str, title: str, expected: bool) -> None:
    topic = TopicSpec("t", "T", keywords=(keyword,))
    assert claims(topic, art("x", title), (topic,)) is expected


def test_feed_topics_restrict_a_topic() -> None:
    feeds = (FeedSpec("wire", "u", topics=("space",)), FeedSpec("arms", "v"))
    assert selection.topic_feeds(TOPICS, feeds) == {
        "space": frozenset({"wire"}), "missile": frozenset(), "nukes": frozenset({"arms"})}


def test_categories_count_as_words() -> None:
    a = art("x", "Untitled", categories=("Space Force",))
    assert claims(SPACE, a)


def test_story_once_per_email_in_first_topic() -> None:
    both = art("1", "Space Force missile warning satellite", minutes=5)
    missile = art("2", "Missile test", minutes=10)
    arts = [both, missile]
    readers = (Subscriber("a@example.org", "A", ("space", "missile")),
               Subscriber("b@example.org", "B", ("missile",)))
    plan = selection.plan(arts, leads(arts), date=DAY, topics=TOPICS, feeds=FEEDS,
                          subscribers=readers, max_per_topic=8)
    ed_a = plan.editions[plan.recipients["a@example.org"]]
    assert [[s.article.id for s in sec.stories] for sec in ed_a.sections] == [["1"], ["2"]]
    ed_b = plan.editions[plan.recipients["b@example.org"]]
    assert [[s.article.id for s in sec.stories] for sec in ed_b.sections] == [["1", "2"]]
    assert plan.topics == {"1": ("space", "missile"), "2": ("missile",)}
    assert set(plan.editions) == {"all", "space+missile", "missile"}


def test_reader_with_nothing_new_gets_no_edition() -> None:
    arts = [art("1", "Satellite launched")]
    readers = (Subscriber("a@example.org", "A", ("missile",)), Subscriber("b@example.org", "", ("space",)))
    plan = selection.plan(arts, leads(arts), date=DAY, topics=TOPICS, feeds=FEEDS,
                          subscribers=readers, max_per_topic=8)
    assert plan.recipients == {"b@example.org": "space"}


def test_same_link_from_two_feeds_is_one_story_with_also() -> None:
    a = art("1", "Satellite launched", "wire", url="https://news.example.com/sat?utm_source=rss", minutes=20)
    b = art("2", "Satellite launched", "arms", url="https://www.news.example.com/sat/", minutes=10)
    plan = selection.plan([a, b], leads([a, b]), date=DAY, topics=TOPICS, feeds=FEEDS,
                          subscribers=(), max_per_topic=8)
    (story,) = plan.editions["all"].stories
    assert story.article.id == "1"  # the earliest report leads
    assert story.also == ()  # the same page again is no "also" link
    assert plan.carried == ("1", "2")  # both are spent: neither repeats tomorrow


def test_overflow_goes_to_more_headlines_newest_first() -> None:
    places = ["Guam", "Oslo", "Perth", "Lima", "Nairobi", "Quito", "Riga", "Sofia", "Tunis", "Vienna",
              "Warsaw", "Zagreb"]
    arts = [art(str(i), f"Satellite ground station opens in {p}", minutes=i) for i, p in enumerate(places)]
    plan = selection.plan(arts, leads(arts), date=DAY, topics=TOPICS, feeds=FEEDS,
                          subscribers=(), max_per_topic=5)
    (sec,) = plan.editions["all"].sections
    assert [s.article.id for s in sec.stories] == ["0", "1", "2", "3", "4"]
    assert [s.article.id for s in sec.more] == [str(i) for i in range(5, 12)]


def test_edition_key_is_file_safe_and_stable() -> None:
    assert selection.edition_key(("space", "missile", "nukes"), ("space", "missile", "nukes")) == "all"
    assert selection.edition_key(("space", "nukes"), ("space", "missile", "nukes")) == "space+nukes"
    long = tuple(f"topic-number-{i}" for i in range(10))
    key = selection.edition_key(long, ())
    assert key.startswith("sel-") and key == selection.edition_key(long, ())


def test_reworded_story_from_another_feed_becomes_an_also_link() -> None:
    a = art("1", "Russian drone and missile barrage kills eight in Kyiv", "wire", minutes=30)
    b = art("2", "Russian drone and missile barrage on Kyiv kills seven", "arms", minutes=10,
            source="Arms Wire")
    c = art("3", "Ukraine downs Russian drones over Odesa", "arms", minutes=5)
    plan = selection.plan([a, b, c], leads([a, b, c]), date=DAY, topics=(TopicSpec("news", "News"),), feeds=FEEDS,
                          subscribers=(), max_per_topic=8)
    stories = {s.article.id: s for s in plan.editions["all"].stories}
    assert set(stories) == {"1", "3"}
    assert stories["1"].also == (Link(b.title, b.url, "Arms Wire"),)
    assert plan.carried == ("1", "2", "3")


def test_more_headlines_shrink_when_there_are_many_topics() -> None:
    places = ["Guam", "Oslo", "Perth", "Lima", "Nairobi", "Quito", "Riga", "Sofia", "Tunis", "Vienna"]
    arts = [art(str(i), f"Satellite ground station opens in {p}", minutes=i) for i, p in enumerate(places)]
    many = tuple(TopicSpec(f"t{n}", f"Topic {n}") for n in range(30))  # open topics: all claim all
    plan = selection.plan(arts, leads(arts), date=DAY, topics=many, feeds=FEEDS, subscribers=(),
                          max_per_topic=2)
    first = plan.editions["all"].sections[0]
    assert (len(first.stories), len(first.more)) == (2, 3)  # 60 // 30 = 2, but at least 3
