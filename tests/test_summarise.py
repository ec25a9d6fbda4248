"""Unit and property tests for digest.summarise (a pure stage: no fixtures needed)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest.models import Article, Image, Media
from digest.summarise import DISPLAY_WIDTH, count_words, split_sentences, summarise

SEEN = dt.datetime(2025, 7, 3, tzinfo=dt.UTC)


def art(content: str = "", summary: str = "", media=(), url="https://example.org/a/story.html",
        title="A headline") -> Article:
    return Article(id="x", feed_id="f", title=title, url=url, published=None, seen=SEEN,
                   content_html=content, summary_html=summary, media=tuple(media))


# ---------------------------------------------------------------- sentences

SENTENCES = [
    ("us-and-gen", "The U.S. Army said Gen. Smith met Sen. Jones on Feb. 3 at 9 a.m. in the capital. He left.",
     ["The U.S. Army said Gen. Smith met Sen. Jones on Feb. 3 at 9 a.m. in the capital.", "He left."]),
    ("mr-dr-no-st", "Mr. Li and Dr. Roe live at No. 5 St. James Road. They moved.",
     ["Mr. Li and Dr. Roe live at No. 5 St. James Road.", "They moved."]),
    ("initials", "Donald J. Trump met Vladimir V. Putin. Talks ended.",
     ["Donald J. Trump met Vladimir V. Putin.", "Talks ended."]),
    ("decimals", "Prices rose 3.5 percent. Rates held at 4.25%.",
     ["Prices rose 3.5 percent.", "Rates held at 4.25%."]),
    ("quote-ends-sentence", '"We will win." He smiled.', ['"We will win."', "He smiled."]),
    ("quote-then-said", '"We will win," he said. Then he left.', ['"We will win," he said.', "Then he left."]),
    ("bracket", "It rained (a lot.) Then it stopped.", ["It rained (a lot.)", "Then it stopped."]),
    ("question-exclaim", "Who won? Nobody! Really.", ["Who won?", "Nobody!", "Really."]),
    ("lowercase-after-ellipsis", "He paused... and went on. Done.", ["He paused... and went on.", "Done."]),
    ("german-ordinal", "Am 3. Juli z. B. streikten sie. Nr. 5 folgt.", ["Am 3. Juli z. B. streikten sie.", "Nr. 5 folgt."]),
    ("french", "M. Dupont a parlé. « Non », dit-il.", ["M. Dupont a parlé.", "« Non », dit-il."]),
    ("spanish", "¿Quién ganó? La Sra. García.", ["¿Quién ganó?", "La Sra. García."]),
    ("cjk", "今天天气很好。我们去公园吧！你去吗？", ["今天天气很好。", "我们去公园吧！", "你去吗？"]),
    ("urdu-full-stop", "پہلا جملہ۔ دوسرا جملہ۔", ["پہلا جملہ۔", "دوسرا جملہ۔"]),
    ("no-end", "A headline-like phrase", ["A headline-like phrase"]),
]


@pytest.mark.parametrize("text, expected", [c[1:] for c in SENTENCES], ids=[c[0] for c in SENTENCES])
def test_split_sentences(text, expected):
    assert split_sentences(text) == expected


@pytest.mark.parametrize(
    "text, n",
    [("one two three", 3), ("", 0), ("a – b", 2), ("今天天气", 4), ("word… ", 1), ("U.S. Army", 2)],
    ids=["plain", "empty", "dash-not-a-word", "cjk-per-char", "ellipsis-glued", "initialism"],
)
def test_count_words(text, n):
    assert count_words(text) == n


# ---------------------------------------------------------------- datelines

DATELINES = [
    ("ap-emdash", "<p>WASHINGTON (AP) — The Senate voted.</p>", "WASHINGTON (AP)", "The Senate voted."),
    ("afp-date", "<p>Washington (AFP) Jul 3, 2025 The Senate voted.</p>", "Washington (AFP) Jul 3, 2025", "The Senate voted."),
    ("staff-writers", "by Staff Writers, Washington (AFP) Jul 03, 2025<br/>The Senate voted.",
     "Washington (AFP) Jul 03, 2025", "The Senate voted."),
    ("reuters-date", "LONDON, July 3 (Reuters) - The pound rose.", "LONDON, July 3 (Reuters)", "The pound rose."),
    ("reuters-two-places", "MOSUL, Iraq/BAGHDAD (Reuters) - Troops advanced.", "MOSUL, Iraq/BAGHDAD (Reuters)", "Troops advanced."),
    ("spx-glued", "Huntsville AL (SPX) Apr 04, 2013 Ozone stinks.", "Huntsville AL (SPX) Apr 04, 2013", "Ozone stinks."),
    ("spx-own-line", "Munich, Germany (SPX) Apr 04, 2013<br /> <img src='x.jpg'/> Turbulence is hard.",
     "Munich, Germany (SPX) Apr 04, 2013", "Turbulence is hard."),
    ("caps-no-agency", "<p>NEW YORK — Stocks fell.</p>", "NEW YORK", "Stocks fell."),
    ("ticker-is-not-dateline", "<p>Apple (AAPL) rose on Monday.</p>", "", "Apple (AAPL) rose on Monday."),
    ("no-dateline", "<p>Stocks fell on Monday.</p>", "", "Stocks fell on Monday."),
]


@pytest.mark.parametrize("summary, dateline, text", [c[1:] for c in DATELINES], ids=[c[0] for c in DATELINES])
def test_dateline_kept_apart(summary, dateline, text):
    lead = summarise(art(summary=summary), 60)
    assert (lead.dateline, lead.text) == (dateline, text)


# ---------------------------------------------------------------- not a lead

LEAD = "The council approved the budget on Tuesday."
NOT_LEADS = [
    ("byline", "<p>By Jane Doe</p>"),
    ("byline-lower", "<p>by Staff Writers</p>"),
    ("photo-caption", "<p>Photo: Jane Smith/Example</p>"),
    ("credit", "<p>Credit: Example Agency</p>"),
    ("figure", "<figure><img src='https://example.org/a.jpg'><figcaption>A view of the hall.</figcaption></figure>"),
    ("one-word", "<p>Update:</p>"),
    ("agency-credit", "<p>EFE</p>"),
    ("update-note", "<p><em>Updated 11/28/17: The fifth beta is out.</em></p>"),
    ("advertisement", "<p>Advertisement</p>"),
    ("share", "<p>Share this: Twitter Facebook</p>"),
    ("subscribe", "<p>Subscribe to our newsletter for more.</p>"),
    ("feedflare", "<div class='feedflare'><a href='http://feeds.feedburner.com/~ff/x'>Email this</a></div>"),
    ("posted-on", "<p>posted on 07-19-2021</p>"),
    ("heading", "<h4>A subtitle</h4>"),
]


@pytest.mark.parametrize("junk", [c[1] for c in NOT_LEADS], ids=[c[0] for c in NOT_LEADS])
def test_skips_what_is_not_a_lead(junk):
    assert summarise(art(content=junk + f"<p>{LEAD}</p>"), 60).text == LEAD


TAILS = [
    ("read-more-link", f"<p>{LEAD} <a href='/x'>Read more</a></p>"),
    ("continue-reading", f"<p>{LEAD}</p><a href='/x'>Continue reading...</a>"),
    ("bracket-ellipsis", f"<p>{LEAD} […]</p>"),
    ("post-appeared", f"<p>{LEAD}</p><p>The post Budget passes appeared first on City News.</p>"),
    ("tracking-pixel", f"<p>{LEAD}<img src='https://example.org/pixel.gif' width='1' height='1'/></p>"),
]


@pytest.mark.parametrize("content", [c[1] for c in TAILS], ids=[c[0] for c in TAILS])
def test_drops_trailing_boilerplate(content):
    assert summarise(art(content=content), 60).text == LEAD


# ---------------------------------------------------------------- source choice and budget

SOURCES = [
    ("content-preferred", "<p>Full content has the real lead here and it is long enough to count as one.</p>",
     "<p>Short teaser.</p>", "Full content has the real lead here and it is long enough to count as one."),
    ("summary-when-content-empty", "", "<p>Only the description.</p>", "Only the description."),
    ("summary-when-content-is-junk", "<p>Read more</p>", "<p>The real description.</p>", "The real description."),
    ("plain-text-description", "", "Plain text &amp; entities. Second.", "Plain text & entities. Second."),
    ("br-separated", "", "First line here.<br><br>Second line here.", "First line here. Second line here."),
    ("br-wrapped-line", "", "A sentence that wraps,<br>onto the next line.", "A sentence that wraps, onto the next line."),
    ("list-only-short-items-join", "<ul><li>First item.</li><li>Second item.</li></ul>", "", "First item. Second item."),
    ("glued-sentences", "", "It rained in April.Previously it was dry.", "It rained in April. Previously it was dry."),
]


@pytest.mark.parametrize("content, summary, text", [c[1:] for c in SOURCES], ids=[c[0] for c in SOURCES])
def test_source_choice(content, summary, text):
    assert summarise(art(content=content, summary=summary), 60).text == text


BUDGETS = [
    ("whole-sentences", "One two three. Four five six. Seven eight nine.", 7, "One two three. Four five six."),
    ("first-over-budget-ellipsis", "One two three four five six seven eight.", 5, "One two three four five…"),
    ("cut-drops-comma", "One two three, four five six seven.", 3, "One two three…"),
    ("truncated-feed-drops-broken-tail", "First sentence is whole. Second is brok", 60, "First sentence is whole."),
    ("truncated-only-sentence", "A single sentence the feed cut in the mid", 60, "A single sentence the feed cut in the…"),
    ("feed-ellipsis", "A sentence the feed shortened ...", 60, "A sentence the feed shortened…"),
    ("open-quote-closed", 'He said "stop the cut here and now and again', 4, 'He said "stop the…"'),
    ("open-bracket-closed", "Alpha beta (gamma delta epsilon zeta.", 4, "Alpha beta (gamma delta…)"),
    ("zero-budget", "Anything at all.", 0, ""),
]


@pytest.mark.parametrize("summary, budget, text", [c[1:] for c in BUDGETS], ids=[c[0] for c in BUDGETS])
def test_budget(summary, budget, text):
    assert summarise(art(summary=f"<p>{summary}</p>"), budget).text == text


def test_second_paragraph_only_when_first_is_short():
    short = "<p>Short standfirst</p><p>The lead paragraph follows.</p>"
    assert summarise(art(summary=short), 60).text == "Short standfirst. The lead paragraph follows."
    long_first = "<p>" + "word " * 40 + "end.</p><p>Second paragraph.</p>"
    assert "Second" not in summarise(art(summary=long_first), 60).text


# ---------------------------------------------------------------- images

IMAGES = [
    ("media-thumbnail", (Media("https://img.example.org/a.jpg", "image/jpeg", 300, 200, "Alt"),), "",
     Image("https://img.example.org/a.jpg", 300, 200, "Alt")),
    ("largest-media-scaled", (Media("https://img.example.org/s.jpg", "image/jpeg", 140, 84),
                              Media("https://img.example.org/l.jpg", "image/jpeg", 1120, 630)), "",
     Image("https://img.example.org/l.jpg", DISPLAY_WIDTH, 315, "A headline")),
    ("enclosure-unknown-size", (Media("https://img.example.org/e.png", "image/png"),), "",
     Image("https://img.example.org/e.png", DISPLAY_WIDTH, 0, "A headline")),
    ("audio-enclosure-ignored", (Media("https://cdn.example.org/ep.mp3", "audio/mpeg"),), "", None),
    ("http-rejected", (Media("http://img.example.org/a.jpg", "image/jpeg"),), "", None),
    ("javascript-rejected", (Media("javascript:alert(1)", "image/jpeg"),), "", None),
    ("content-img-relative", (), "<p><img src='/i/pic.jpg' alt='A pic' width='400' height='300'></p>",
     Image("https://example.org/i/pic.jpg", 400, 300, "A pic")),
    ("pixel-rejected", (), "<img src='https://example.org/p.gif' width='1' height='1'>", None),
    ("feedburner-rejected", (), "<img src='https://feeds.feedburner.com/~r/x/~4/abc'>", None),
    ("mf-gif-rejected", (), "<img src='https://da.feedsportal.com/r/1/mf.gif'>", None),
    ("icon-rejected", (), "<img src='https://example.org/i/a.png' width='16' height='16'>", None),
]


@pytest.mark.parametrize("media, content, image", [c[1:] for c in IMAGES], ids=[c[0] for c in IMAGES])
def test_lead_image(media, content, image):
    lead = summarise(art(content=content + "<p>Some text here.</p>", media=media), 60)
    assert lead.image == image


def test_no_image_unless_asked():
    media = (Media("https://img.example.org/a.jpg", "image/jpeg", 300, 200),)
    assert summarise(art(summary="<p>Text.</p>", media=media), 60, show_images=False).image is None


# ---------------------------------------------------------------- untrusted HTML

HTMLISH = st.one_of(
    st.text(),
    st.lists(
        st.one_of(
            st.text(max_size=30),
            st.sampled_from([
                "<p>", "</p>", "<br>", "<div class='feedflare'>", "</div>", "<img src='x'>",
                "<script>alert(1)</script>", "&amp;", "&lt;b&gt;", "&#x3c;", "<a href='javascript:x'>",
                "</a>", "<blockquote>", "<li>", "<![CDATA[", "-->", "<!--", ". ", "WASHINGTON (AP) — ",
                "“", "(", "\"", "…", "Dr. ", "U.S. ", "。", "\x00", "\ud800", "javascript:",
            ]),
        ),
        max_size=40,
    ).map("".join),
)

TAG = re.compile(r"<[a-zA-Z/!]")
ENTITY = re.compile(r"&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);")


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(content=HTMLISH, summary=HTMLISH, budget=st.integers(min_value=0, max_value=80))
def test_any_html_gives_plain_text_within_budget(content, summary, budget):
    lead = summarise(art(content=content, summary=summary), budget)
    assert count_words(lead.text) <= budget
    for field in (lead.text, lead.dateline):
        assert not TAG.search(field)
        assert not ENTITY.search(field)
        assert "javascript:" not in field.lower()
        assert field == field.strip() and "  " not in field


@settings(max_examples=200, deadline=None)
@given(url=st.text(max_size=60), width=st.integers(-5, 5000), height=st.integers(-5, 5000))
def test_any_media_gives_https_image_or_none(url, width, height):
    lead = summarise(art(summary="<p>x y.</p>", media=(Media(url, "image/jpeg", width, height),)), 60)
    if lead.image is not None:
        assert lead.image.url.startswith("https://")
        assert 0 < lead.image.width <= DISPLAY_WIDTH and lead.image.height >= 0


@pytest.mark.parametrize(
    "summary, dateline, text",
    [
        ("<p>By many measures, the sector is huge.</p>", "", "By many measures, the sector is huge."),
        ("<p>Join us for the launch on Friday.</p>", "", "Join us for the launch on Friday."),
        ("Quito, 24 Set 2018 (AFP) - O fundador falou.", "Quito, 24 Set 2018 (AFP)", "O fundador falou."),
        ("<p>By JANE DOE and JOHN ROE</p><p>Real lead.</p>", "", "Real lead."),
    ],
    ids=["by-phrase-is-not-byline", "join-us-is-prose", "day-month-dateline", "caps-byline"],
)
def test_found_on_the_whole_corpus(summary, dateline, text):
    lead = summarise(art(summary=summary), 60)
    assert (lead.dateline, lead.text) == (dateline, text)
