"""Find the same story across feeds: by canonical link, and by reworded headline.

Pure functions, no I/O. `selection.py` uses `canonical_url` to merge entries
that point at the same page and `group_duplicates` to merge near-duplicate
stories, so each story is shown once with the others as "also:" links.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from rapidfuzz import fuzz, process

# Query parameters that only say how a reader arrived (campaign, click id,
# mailing-list id), never which page. Compared lower-cased.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "yclid", "msclkid", "twclid",
        "mc_cid", "mc_eid", "igshid", "_hsenc", "_hsmi", "mkt_tok", "cmpid", "cmp",
        "ocid", "icid", "ncid", "s_cid", "_ga", "_gl", "oly_anon_id", "oly_enc_id",
        "vero_id", "ref_src", "ref_url", "soc_src", "soc_trk", "sr_share", "at_medium",
        "at_campaign", "wt.mc_id",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_",)

# `ref` is also a real parameter (a git branch on code hosts, a product code in
# shops), so it is dropped only when its value names where the click came from.
_TRACKING_REF = re.compile(
    r"(rss|atom|feeds?|feedly|newsletters?|e?mail|social|share|twitter|tw|twsrc.*|x|"
    r"facebook|fb|linkedin|reddit|hn|hackernews|producthunt|mastodon|"
    r"homepage|home|nav|sidebar|related|footer|header|widget|push|app)",
    re.IGNORECASE,
)

# http and https are one scheme here, so either default port is dropped from both.
_DEFAULT_PORTS = {"https": (80, 443), "ftp": (21,)}


def _is_tracking(segment: str) -> bool:
    key, _, value = segment.partition("=")
    key = unquote_plus(key).strip().lower()
    if key.startswith(TRACKING_PREFIXES) or key in TRACKING_PARAMS:
        return True
    return key == "ref" and _TRACKING_REF.fullmatch(unquote_plus(value).strip()) is not None


def canonical_url(url: str) -> str:
    """Canonical form for comparing links across feeds.

    http and https compare equal (both come out as https); the host is
    lower-cased without `www.`, a trailing dot or its default port; the path
    keeps its case but loses trailing slashes; the fragment and tracking
    parameters go, and the remaining parameters are sorted, each kept as
    written. Anything that is not an absolute URL with a host comes back
    stripped, unchanged otherwise. The result is a fixed point:
    `canonical_url(canonical_url(u)) == canonical_url(u)`.
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname
        port = parts.port
    except ValueError:  # bad IPv6 literal, non-numeric or out-of-range port
        return text
    scheme = parts.scheme.lower()
    if not host or scheme not in ("", "http", "https", "ftp") or (not scheme and text[:2] != "//"):
        return text
    if scheme in ("", "http"):
        scheme = "https"
    host = host.rstrip(".")
    host = host.removeprefix("www.")
    if not host:
        return text
    if ":" in host:  # IPv6 literal: urlsplit dropped its brackets
        host = f"[{host}]"
    netloc = host if port is None or port in _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    userinfo = parts.netloc.rpartition("@")[0]
    if userinfo:
        netloc = f"{userinfo}@{netloc}"
    query = "&".join(sorted(s for s in parts.query.split("&") if s and not _is_tracking(s)))
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), query, ""))


# ---------------------------------------------------------------- near-duplicates

# Words that carry no story: function words, reporting verbs, and the labels
# and number words that differ between outlets telling the same story.
STOP_WORDS = frozenset(
    """a an the and or but of in on at to for from by with without as is are was were be been
    being has have had it its this that these those into onto over under after before about
    against between than then there their they them he she his her we our you your i not no
    nor so if up out off more most also just says say said told tells will would could should
    may might can amid via per while who what which when where why how""".split()  # noqa: SIM905
)
NUMBER_WORDS = frozenset(
    """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
    fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty
    ninety hundred hundreds thousand thousands million millions billion billions trillion
    dozen dozens""".split()  # noqa: SIM905
)
_LABEL = re.compile(
    r"^\s*(exclusive|live|breaking|update|updated|watch|video|analysis|opinion|explainer|"
    r"factbox|pictures|photos)\s*[:|–—-]\s*",
    re.IGNORECASE,
)
_SOURCE_SUFFIX = re.compile(r"\s+[|–—-]\s+([^|–—-]{1,40})$")
_NUMBER = re.compile(r"[$€£]?\d[\d.,]*(bn|m|k|st|nd|rd|th|s|%)?")
_JOINER = re.compile(r"(?<=\w)[-'’.](?=\w)")
_WORD = re.compile(r"[$€£%\w]+")
_MAX_LEAD_WORDS = 40


# Thresholds, chosen on the "tune" split of tests/data/dedup/pairs.json by a
# grid over WORD_MATCH in {75..100}, LEAD_WEIGHT in {0..0.5}, SAME_STORY in
# {60..95}, keeping tune precision >= 0.95 and taking the best recall
# (tests/dedup_report.py prints the result). Precision first: a false merge
# hides a story from the reader, a missed one only shows it twice.
# - WORD_MATCH 85: fuzz.ratio at which two words count as one: "defence"/
#   "defense" (86) and typos match, "france"/"french" (67) do not.
# - LEAD_WEIGHT 0.2: leads from different outlets share little wording even
#   on one story, so they only nudge the title score.
# - SAME_STORY 76: the tune split's best recall at precision >= 0.95. A
#   one-word swap stays a weak spot: "Fed holds interest rates steady" vs
#   "ECB holds ..." scores 80 on titles alone (merged) and 74 with its leads.
# The set is small and these were picked on it: the held-out third scores
# lower (see the report), and heavy paraphrase ("to cut 10,000 jobs" vs "will
# lay off 10,000 employees") is beyond word matching.
WORD_MATCH = 85
LEAD_WEIGHT = 0.2
SAME_STORY = 76


def _stem(word: str) -> str:
    # Just enough to meet "kills"/"killed"/"killing" and plurals; both sides
    # go through it, so an odd stem ("lockheed" stays, "mars" -> "mar") is harmless.
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    if len(word) > 6 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 5 and word.endswith("ed") and not word.endswith("eed"):
        return word[:-2]
    return word


def _words(text: str, *, title: bool = False) -> tuple[str, ...]:
    """Content words of a title or lead: case, accents, punctuation, stop words and numbers gone."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    if title:
        text = _LABEL.sub("", text)
        suffix = _SOURCE_SUFFIX.search(text)  # "... - BBC News", "... | Reuters"
        if suffix and len(suffix.group(1).split()) <= 3:
            text = text[: suffix.start()]
    text = re.sub(r"['’]s\b", "", text.casefold())
    text = _JOINER.sub("", text)  # F-35 -> f35, U.S. -> us, re-entry -> reentry
    return tuple(
        _stem(w)
        for w in _WORD.findall(text)
        if w not in STOP_WORDS and w not in NUMBER_WORDS and not _NUMBER.fullmatch(w)
    )


@dataclass(frozen=True, slots=True)
class _Story:
    """A (title, lead) pair reduced to the words compared."""

    title: tuple[str, ...]
    lead: tuple[str, ...]
    lead_text: str
    words: frozenset[str]  # title and lead, for exact look-ups

    @classmethod
    def of(cls, item: tuple[str, str]) -> _Story:
        title = _words(item[0], title=True)
        lead = _words(item[1])[:_MAX_LEAD_WORDS]
        return cls(title, lead, " ".join(lead), frozenset(title + lead))


def _coverage(a: _Story, b: _Story) -> float:
    """Share of a's title words that b's title or lead also uses (spelling slips allowed)."""
    choices = b.title + b.lead
    hits = sum(
        1
        for w in a.title
        if w in b.words
        or process.extractOne(w, choices, scorer=fuzz.ratio, score_cutoff=WORD_MATCH) is not None
    )
    return hits / len(a.title)


def _score(a: _Story, b: _Story) -> float:
    """0-100: how sure we are that a and b tell the same story."""
    if not a.title or not b.title:
        return 0.0
    cover = 50 * (_coverage(a, b) + _coverage(b, a))
    if not (a.lead and b.lead):
        return cover
    return (1 - LEAD_WEIGHT) * cover + LEAD_WEIGHT * fuzz.token_set_ratio(a.lead_text, b.lead_text)


def same_story(a: tuple[str, str], b: tuple[str, str]) -> bool:
    """(title, lead) pairs: True when they report the same story.

    Each title's words (case, accents, punctuation, stop words and numbers
    dropped, plurals folded) are looked up in the other item's title and lead
    with rapidfuzz's `fuzz.ratio`; the mean share found, blended with
    `fuzz.token_set_ratio` of the two leads when both have one, must reach
    SAME_STORY. A title with no content words never matches.
    """
    return _score(_Story.of(a), _Story.of(b)) >= SAME_STORY


# A title word in more than this many representatives ("trump", "ukraine") is
# too common to find candidates by; rarer words of the same title still do.
_COMMON_WORD = 200


def group_duplicates(items: Sequence[tuple[str, str]]) -> list[list[int]]:
    """Group (title, lead) items that report the same story.

    Returns lists of indices in input order; every index appears in exactly
    one group; the groups are ordered by their first index, and each group's
    first index is its representative.

    Grouping is representative-based, not transitive: an item joins the first
    earlier group whose representative it is `same_story` with, else starts a
    group. So a chain A~B~C without A~C leaves C out of A's group, and one
    loose match cannot glue unrelated stories together.

    Only representatives sharing title words with the item are scored (an
    inverted index; two shared words when both titles have three or more),
    so the cost grows with the number of plausible matches, not with the
    square of the input. Words carried by more than `_COMMON_WORD`
    representatives are skipped while another word of the title is rarer. So
    a pair that `same_story` accepts through spelling variants or the lead
    alone, or through common words only, can be left apart here.
    """
    stories = [_Story.of(item) for item in items]
    groups: list[list[int]] = []
    reps_by_word: dict[str, list[int]] = defaultdict(list)  # word -> group numbers
    for i, story in enumerate(stories):
        postings = [reps_by_word[w] for w in set(story.title) if w in reps_by_word]
        rare = [p for p in postings if len(p) <= _COMMON_WORD]
        shared = Counter(g for p in (rare or postings) for g in p)
        # Scoring is the slow part; a title that shares one word of several is
        # never close enough to pass, so ask for two when both titles have them.
        need = 1 if len(story.title) < 3 else 2
        candidates = sorted(
            g for g, n in shared.items() if n >= min(need, len(stories[groups[g][0]].title))
        )
        home = next(
            (g for g in candidates if _score(stories[groups[g][0]], story) >= SAME_STORY), None
        )
        if home is not None:
            groups[home].append(i)
            continue
        for w in set(story.title):
            reps_by_word[w].append(len(groups))
        groups.append([i])
    return groups
