"""Normalising entries: formats, encodings, dates, links, titles; and the shared corpus."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from digest.collect import named_zone_date, parse
from digest.models import FeedSpec

from .conftest import CORPUS

NOW = dt.datetime(2025, 7, 3, 6, 0, tzinfo=dt.UTC)
FEED = FeedSpec("f", "https://feeds.example.org/news/feed.xml")
URL = FEED.url


def one(body: str | bytes, headers: dict[str, str] | None = None, url: str = URL):
    parsed = parse(body.encode() if isinstance(body, str) else body, headers or {}, url, FEED, NOW)
    assert not parsed.error, parsed.error
    return parsed.articles


def rss(items: str, channel: str = "<link>https://site.example.org/</link>") -> str:
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{channel}{items}</channel></rss>'


def atom(entries: str, attrs: str = "") -> str:
    return f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" {attrs}><title>T</title>{entries}</feed>'


TITLES = [
    ("atom-html-double-escaped",
     atom('<entry><id>1</id><title type="html">Launch &amp;amp; recovery</title></entry>'),
     "Launch & recovery"),
    ("atom-xhtml",
     atom('<entry><id>1</id><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
          '<b>Bold</b> move</div></title></entry>'), "Bold move"),
    ("rss-tags-and-entities", rss("<item><guid>1</guid><title>&lt;b&gt;Kyiv&lt;/b&gt; &amp;#8211; "
                                   "night   raid</title></item>"), "Kyiv – night raid"),
    ("cdata", rss("<item><guid>1</guid><title><![CDATA[Fish &amp; <i>chips</i>]]></title></item>"),
     "Fish & chips"),
    ("no-title-uses-summary", rss("<item><guid>1</guid><description>&lt;p&gt;A lead with "
                                   "no headline at all.&lt;/p&gt;</description></item>"),
     "A lead with no headline at all."),
    ("nothing-at-all", rss("<item><guid>1</guid></item>"), "(untitled)"),
]


@pytest.mark.parametrize(("body", "title"), [c[1:] for c in TITLES], ids=[c[0] for c in TITLES])
def test_titles_are_plain_text(body: str, title: str) -> None:
    assert [a.title for a in one(body)] == [title]


LINKS = [
    ("absolute", rss("<item><link>https://a.example.org/x</link></item>"), "https://a.example.org/x"),
    ("root-relative-to-feed-url", rss("<item><link>/story/1</link></item>"),
     "https://feeds.example.org/story/1"),
    ("relative-to-feed-url", rss("<item><link>story/2</link></item>", channel=""),
     "https://feeds.example.org/news/story/2"),
    ("atom-xml-base", atom('<entry><id>1</id><link href="p/3"/></entry>',
                           'xml:base="https://base.example.org/blog/"'),
     "https://base.example.org/blog/p/3"),
    ("guid-permalink", rss('<item><guid>https://g.example.org/4</guid></item>'), "https://g.example.org/4"),
    ("no-link", rss('<item><guid isPermaLink="false">opaque-5</guid><title>x</title></item>'), ""),
    ("javascript-link-dropped", rss("<item><link>javascript:alert(1)</link></item>"), ""),
]


@pytest.mark.parametrize(("body", "url"), [c[1:] for c in LINKS], ids=[c[0] for c in LINKS])
def test_links_are_absolute_http(body: str, url: str) -> None:
    assert [a.url for a in one(body)] == [url]


DATES = [
    ("rfc822-gmt", "Wed, 02 Jul 2025 10:00:00 GMT", dt.datetime(2025, 7, 2, 10, 0, tzinfo=dt.UTC)),
    ("aest-spacedaily", "Thu, 04 APR 2013 20:37:27 AEST", dt.datetime(2013, 4, 4, 10, 37, 27, tzinfo=dt.UTC)),
    ("cest", "Wed, 02 Jul 2025 12:00:00 CEST", dt.datetime(2025, 7, 2, 10, 0, tzinfo=dt.UTC)),
    ("edt-no-seconds", "Mon, 22 Jun 2015 15:25 EDT", dt.datetime(2015, 6, 22, 19, 25, tzinfo=dt.UTC)),
    ("ist-india", "Wed, 02 Jul 2025 15:30:00 IST", dt.datetime(2025, 7, 2, 10, 0, tzinfo=dt.UTC)),
    ("jst", "Wed, 02 Jul 2025 19:00:00 JST", dt.datetime(2025, 7, 2, 10, 0, tzinfo=dt.UTC)),
    ("future-clamped", "Wed, 02 Jul 2031 10:00:00 GMT", NOW),
    ("aest-would-be-future", "Thu, 03 Jul 2025 15:00:00 AEST", dt.datetime(2025, 7, 3, 5, 0, tzinfo=dt.UTC)),
    ("unreadable", "yesterday-ish", None),
]


@pytest.mark.parametrize(("raw", "expected"), [c[1:] for c in DATES], ids=[c[0] for c in DATES])
def test_dates(raw: str, expected: dt.datetime | None) -> None:
    [article] = one(rss(f"<item><guid>1</guid><title>x</title><pubDate>{raw}</pubDate></item>"))
    assert article.published == expected


def test_relative_link_in_a_local_file_resolves_against_the_feed_link() -> None:
    [article] = one(rss("<item><link>/story/1</link></item>"), url="")
    assert article.url == "https://site.example.org/story/1"


def test_named_zone_handler_leaves_unknown_zones_to_feedparser() -> None:
    assert named_zone_date("Wed, 02 Jul 2025 12:00:00 XYZ") is None
    assert named_zone_date("2025-07-02T12:00:00Z") is None


def test_duplicate_guids_in_a_feed_keep_the_first() -> None:
    articles = one(rss("<item><guid>same</guid><title>First</title></item>"
                       "<item><guid>same</guid><title>Second</title></item>"
                       "<item><title>No guid</title></item><item><title>No guid</title></item>"))
    assert [a.title for a in articles] == ["First", "No guid"]


def test_ids_are_stable_across_runs() -> None:
    body = rss("<item><title>Only a title</title></item>")
    assert one(body)[0].id == one(body)[0].id


ENCODINGS = [
    ("declared-latin-1", b'<?xml version="1.0" encoding="iso-8859-1"?>' +
     rss("<item><guid>1</guid><title>Café Zürich</title></item>").split("?>", 1)[1].encode("latin-1"),
     {}, "Café Zürich"),
    ("undeclared-latin-1-with-http-charset",
     rss("<item><guid>1</guid><title>Café Zürich</title></item>").split("?>", 1)[1].encode("latin-1"),
     {"content-type": "application/xml; charset=iso-8859-1"}, "Café Zürich"),
    ("windows-1251", b'<?xml version="1.0" encoding="windows-1251"?>' +
     rss("<item><guid>1</guid><title>Привет мир</title></item>").split("?>", 1)[1].encode("cp1251"),
     {}, "Привет мир"),
    ("utf-16-bom", rss("<item><guid>1</guid><title>Ünïcode</title></item>").replace(
        '<?xml version="1.0"?>', '<?xml version="1.0" encoding="utf-16"?>').encode("utf-16"),
     {}, "Ünïcode"),
]


@pytest.mark.parametrize(("body", "headers", "title"), [c[1:] for c in ENCODINGS],
                         ids=[c[0] for c in ENCODINGS])
def test_encodings(body: bytes, headers: dict[str, str], title: str) -> None:
    assert [a.title for a in one(body, headers)] == [title]


FORMATS = [
    ("rss-0.91", '<?xml version="1.0"?><rss version="0.91"><channel><title>T</title>'
     "<link>https://o.example.org/</link><item><title>Old</title><link>https://o.example.org/1</link>"
     "</item></channel></rss>"),
    ("rss-1.0-rdf", '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
     ' xmlns="http://purl.org/rss/1.0/"><channel rdf:about="https://o.example.org/"><title>T</title>'
     '<link>https://o.example.org/</link></channel><item rdf:about="https://o.example.org/1">'
     "<title>Old</title><link>https://o.example.org/1</link></item></rdf:RDF>"),
    ("atom-0.3", '<?xml version="1.0"?><feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>T</title>'
     '<entry><title>Old</title><link rel="alternate" href="https://o.example.org/1"/>'
     "<id>tag:o,1</id></entry></feed>"),
    ("atom-1.0", atom('<entry><title>Old</title><link href="https://o.example.org/1"/><id>tag:o,1</id></entry>')),
    ("json-feed-1.0", json.dumps({"version": "https://jsonfeed.org/version/1", "title": "T",
                                  "items": [{"id": "1", "url": "https://o.example.org/1", "title": "Old"}]})),
    ("json-feed-1.1", json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "T",
                                  "items": [{"id": "1", "url": "https://o.example.org/1", "title": "Old"}]})),
]


@pytest.mark.parametrize("body", [c[1] for c in FORMATS], ids=[c[0] for c in FORMATS])
def test_formats(body: str) -> None:
    [article] = one(body)
    assert (article.title, article.url) == ("Old", "https://o.example.org/1")


def test_json_feed_fields() -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1.1", "title": "Jay &amp; co",
        "home_page_url": "https://j.example.org/", "authors": [{"name": "Feed Author"}],
        "items": [
            {"id": "a", "url": "/posts/a", "title": "Post <b>A</b>", "content_html": "<p>Body A</p>",
             "summary": "Sum A", "date_published": "2025-07-02T12:00:00+02:00",
             "image": "/img/a.jpg", "tags": ["space", "launch", "space"],
             "authors": [{"name": "Ana"}, {"name": "Ben"}]},
            {"id": "b", "external_url": "https://elsewhere.example.com/b", "content_text": "Text <b>",
             "date_modified": "2031-01-01T00:00:00Z", "author": {"name": "Old style"}},
            {"id": "a", "title": "duplicate id"},
        ],
    }
    a, b = one(json.dumps(doc), {"content-type": "application/feed+json"})
    assert (a.title, a.url, a.published) == ("Post A", "https://j.example.org/posts/a",
                                             dt.datetime(2025, 7, 2, 10, 0, tzinfo=dt.UTC))
    assert (a.content_html, a.summary_html, a.categories, a.author, a.source) == (
        "<p>Body A</p>", "Sum A", ("space", "launch"), "Ana, Ben", "Jay & co")
    assert [m.url for m in a.media] == ["https://j.example.org/img/a.jpg"]
    assert (b.title, b.url, b.published, b.content_html, b.author) == (
        "Text", "https://elsewhere.example.com/b", NOW, "Text &lt;b&gt;", "Feed Author")


@pytest.mark.parametrize(("body", "error"), [
    ("{not json", "not a feed: malformed JSON: Expecting property name enclosed in double quotes: "
                  "line 1 column 2 (char 1)"),
    ('{"hello": "world"}', "not a feed: JSON, but not a JSON Feed"),
], ids=["malformed-json", "json-not-a-feed"])
def test_json_that_is_not_a_feed(body: str, error: str) -> None:
    assert parse(body.encode(), {}, URL, FEED, NOW).error == error


# ---------------------------------------------------------------- the shared corpus

CORPUS_FILES = sorted(p.name for p in (CORPUS / "feeds").glob("*")) if (CORPUS / "feeds").is_dir() else []
# These two are feedparser's own edge cases: a channel without items.
NO_ITEMS = {"feedparser__http_high_bit_date.xml", "feedparser__utf-16le-bom.xml"}
_TAG = re.compile(r"<[a-zA-Z/!?][^>]*>")
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_feed(corpus: Path, name: str) -> None:
    ctype = "application/feed+json" if name.endswith(".json") else ""
    parsed = parse((corpus / name).read_bytes(), {"content-type": ctype} if ctype else {},
                   "", FeedSpec("c", str(corpus / name)), NOW)
    assert not parsed.error
    assert parsed.articles or name in NO_ITEMS
    for a in parsed.articles:
        assert a.title and not _TAG.search(a.title) and not _ENTITY.search(a.title), a.title
        assert a.url == "" or re.match(r"^https?://[^/\s]+", a.url), a.url
        assert a.published is None or a.published <= NOW


def test_corpus_spacedaily_aest_comes_out_right(corpus: Path) -> None:
    parsed = parse((corpus / "sismics__feed_rss2_spacedaily.xml").read_bytes(), {}, "", FEED, NOW)
    assert {a.published for a in parsed.articles} == {dt.datetime(2013, 4, 4, 10, 37, 27, tzinfo=dt.UTC)}


def test_corpus_json_feeds_have_entries(corpus: Path) -> None:
    for name in ("nnw__3960.json", "nnw__DaringFireball.json", "feedrs__jsonfeed_elastic_1.1.json"):
        parsed = parse((corpus / name).read_bytes(), {}, "", FEED, NOW)
        assert len(parsed.articles) >= 3 and all(a.url.startswith("http") for a in parsed.articles)
