"""Find the same story across feeds: by canonical link, and by reworded headline.

Pure functions, no I/O. `selection.py` uses `canonical_url` to merge entries
that point at the same page and `group_duplicates` to merge near-duplicate
stories, so each story is shown once with the others as "also:" links.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
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
# A hyphen between two words of three or more letters splits them
# ("lunar-Earth", "next-generation"); short or numeric parts stay joined.
_COMPOUND = re.compile(r"(?<=[^\W\d_]{3})-(?=[^\W\d_]{3})")
_WORD = re.compile(r"[$€£%\w]+")
_MAX_LEAD_WORDS = 40

# A cheap paraphrase bridge: outlets word one event differently ("to cut
# 10,000 jobs" / "will lay off 10,000 employees"). Kept small on purpose: every
# entry makes two words interchangeable everywhere, so only near-synonyms in
# news usage go here. Phrases are rewritten in the text first (keeping the
# first letter's case, so a name stays a name); single words are mapped after
# stemming (so list the stem `_stem` produces).
_PHRASES = [
    (re.compile(r"\b(lay|lays|laying|laid) off\b", re.IGNORECASE), "cut"),
    (re.compile(r"\b(shoot|shoots|shot|shooting) down\b", re.IGNORECASE), "down"),
    (re.compile(r"\b(lift|lifts|lifted|lifting|blast|blasts|blasted) off\b", re.I), "launch"),
    (re.compile(r"\bfederal reserve\b", re.IGNORECASE), "Fed"),
    (re.compile(r"\bunited (states|kingdom)\b", re.IGNORECASE), "U\\1"),
]  # fmt: skip
_ANY_PHRASE = re.compile(r"\b(off|down|reserve|united)\b", re.IGNORECASE)  # cheap pre-check
_SYNONYMS = {
    # job cuts
    "slash": "cut", "axe": "cut", "layoff": "cut",
    "employee": "job", "staff": "job", "worker": "job", "workforce": "job",
    # deaths
    "killed": "kill", "dead": "kill", "death": "kill", "die": "kill", "died": "kill",
    # launches
    "loft": "launch", "liftoff": "launch",
    "strike": "attack", "struck": "attack",
    "maiden": "first", "debut": "first", "inaugural": "first",
    "lunar": "moon", "quake": "earthquake", "vehicle": "car", "flee": "evacuate",
    "unchanged": "steady",
    # past tenses `_stem` leaves odd, for the opposites below
    "declar": "declare", "stopp": "stop", "resum": "resume", "clos": "close", "won": "win",
    "lost": "lose", "approv": "approve", "rose": "rise", "fell": "fall",
    # places and their adjectives, so "Dutch" finds "Netherlands"
    "ustates": "us", "american": "us", "ukingdom": "uk", "britain": "uk", "british": "uk",
    "french": "france", "japanese": "japan", "greek": "greece", "dutch": "netherland",
    "chinese": "china", "russian": "russia", "ukrainian": "ukraine", "german": "germany",
    "spanish": "spain", "indian": "india", "israeli": "israel", "european": "europe",
    "korean": "korea", "taiwanese": "taiwan", "turkish": "turkey", "polish": "poland",
}  # fmt: skip


# Verbs that turn a story into its sequel or its reverse: titles that differ
# by one of these pairs ("declares" / "lifts martial law") are different
# stories however many other words they share. Stems as `_term` makes them.
_OPPOSITES = [
    ("declare", "lift"), ("stop", "resume"), ("open", "close"), ("win", "lose"),
    ("approve", "reject"), ("join", "leave"), ("enter", "exit"), ("rise", "fall"),
]  # fmt: skip


def _opposed(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """One title uses a verb and the other its opposite, and neither uses both."""
    sa, sb = set(a), set(b)
    return any(
        (x in sa and y in sb and y not in sa and x not in sb)
        or (y in sa and x in sb and x not in sa and y not in sb)
        for x, y in _OPPOSITES
    )


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


def _term(word: str) -> str:
    stem = _stem(word)
    return _SYNONYMS.get(word, _SYNONYMS.get(stem, stem))


def _prepare(text: str, *, title: bool = False) -> str:
    """Accents, labels, source suffixes, possessives and joiners gone; case kept."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    if title:
        text = _LABEL.sub("", text)
        suffix = _SOURCE_SUFFIX.search(text)  # "... - BBC News", "... | Reuters"
        if suffix and len(suffix.group(1).split()) <= 3:
            text = text[: suffix.start()]
    text = re.sub(r"['’][sS]\b", "", text)
    text = _COMPOUND.sub(" ", text)  # next-generation -> next generation
    text = _JOINER.sub("", text)  # F-35 -> F35, U.S. -> US, re-entry -> reentry
    if not _ANY_PHRASE.search(text):
        return text
    for pattern, repl in _PHRASES:
        text = pattern.sub(functools.partial(_keep_case, repl), text)
    return text


def _keep_case(repl: str, m: re.Match[str]) -> str:
    """`repl` for the match `m`, capitalised when the matched text was."""
    return (repl[0].upper() if m.group(0)[0].isupper() else repl[0]) + m.expand(repl[1:])


def _content(word: str) -> bool:
    low = word.casefold()
    return low not in STOP_WORDS and low not in NUMBER_WORDS and not _NUMBER.fullmatch(low)


def _words(prepared: str) -> tuple[str, ...]:
    """Content words of a `_prepare`d title or lead: case, stop words and numbers gone."""
    return tuple(_term(w.casefold()) for w in _WORD.findall(prepared) if _content(w))


_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9}
_QUANTITY = re.compile(
    r"(?<![\w.])[$€£]?(\d[\d,]*(?:\.\d+)?)\s*(k|m|bn|thousand|million|billion|%)?(?![\w])",
    re.IGNORECASE,
)


def _numbers(text: str) -> frozenset[float]:
    """Quantities in a text, scaled: "8.5m", "8.5 million" and "8,500,000" are one number."""
    out = set()
    text = unicodedata.normalize("NFKD", text)
    for m in _QUANTITY.finditer(text):
        digits, unit = m.group(1).replace(",", ""), (m.group(2) or "").lower()
        try:
            value = float(digits)
        except ValueError:
            continue
        out.add(round(value * _SCALE.get(unit, 1), 6))
    return frozenset(out)


def _entities(title: str, lead: str) -> frozenset[str]:  # both `_prepare`d
    """Title words that may name someone or somewhere: acronyms ("ECB"), inner
    capitals ("SpaceX"), words the lead capitalises, words capitalised mid-title,
    and the first word (its capital says nothing, so it is taken as a possible
    name: it only matters when the other item never uses it, "House passes"
    / "Senate passes"). Headline case ("Satellite Ground Station Opens In
    Guam", or all caps) says nothing about names either, so there a later
    word counts only when the lead capitalises it or it is an acronym.
    """
    raw = _WORD.findall(title)
    lead_caps = {w.casefold() for w in _WORD.findall(lead) if w[0].isupper()}
    later = [w for w in raw[1:] if w[0].isalpha()]
    capped = [w for w in later if w[0].isupper()]
    headline = raw and (
        title.isupper()
        or any(w.casefold() in STOP_WORDS for w in capped)
        or (len(later) >= 3 and len(capped) >= 0.8 * len(later))
    )
    names = set()
    for k, w in enumerate(raw):
        if not _content(w) or not w[0].isalpha():
            continue
        low = w.casefold()
        acronym = len(w) > 1 and w.isupper() and not title.isupper()
        inner_caps = any(c.isupper() for c in w[1:]) and not w.isupper()  # SpaceX, OpenAI
        mid_title = w[0].isupper() and not headline
        if k == 0 or acronym or inner_caps or mid_title or low in lead_caps:
            names.add(_term(low))
    return frozenset(names)


# Thresholds, chosen on the "tune" split of tests/data/dedup/pairs.json by a
# grid over NAME_WEIGHT {1, 1.5, 2}, LEAD_WEIGHT {0.2, 0.3, 0.4}, the lead
# measure (token_set_ratio or shared-word overlap), CLASH_PENALTY {10, 20, 30}
# and SAME_STORY {55..90}, keeping tune precision >= 0.95 and taking the best
# recall (tests/dedup_report.py prints the result). Precision first: a false
# merge hides a story from the reader, a missed one only shows it twice.
# - WORD_MATCH 85: fuzz.ratio at which two words count as one: "defence"/
#   "defense" (86) and typos match, "france"/"french" (67) do not.
# - NAME_WEIGHT 1: weighting names above other title words lost recall at
#   equal precision; names matter through the clash rule instead.
# - LEAD_WEIGHT 0.2 with token_set_ratio: leads from different outlets share
#   little wording even on one story, so they only nudge the title score; a
#   shared-word overlap of the leads did worse than token_set_ratio.
# - CLASH_PENALTY 20: "House passes" / "Senate passes" when the Senate lead
#   mentions the House vote; 10 let that pair through on held-out.
# - SAME_STORY 73: the tune split's best recall at precision >= 0.95 (71 and
#   72 tie on tune recall; the highest of the tie is kept, precision first).
# Sequels whose verbs are not in _OPPOSITES still merge ("stops sending data"
# / "sending data again"): word overlap cannot tell them apart.
WORD_MATCH = 85
NAME_WEIGHT = 1.0
LEAD_WEIGHT = 0.2
SAME_STORY = 73
CLASH_PENALTY = 20


@dataclass(frozen=True, slots=True)
class _Story:
    """A (title, lead) pair reduced to the words compared."""

    title: tuple[str, ...]
    lead: tuple[str, ...]
    lead_text: str
    words: frozenset[str]  # title and lead, for exact look-ups
    names: frozenset[str]  # title words that name someone or somewhere
    title_numbers: frozenset[float]
    numbers: frozenset[float]  # title and lead

    @classmethod
    def of(cls, item: tuple[str, str]) -> _Story:
        title_text, lead_text = _prepare(item[0], title=True), _prepare(item[1])
        title = _words(title_text)
        lead = _words(lead_text)[:_MAX_LEAD_WORDS]
        tnum = _numbers(item[0])
        return cls(
            title,
            lead,
            " ".join(lead),
            frozenset(title + lead),
            _entities(title_text, lead_text) & frozenset(title),
            tnum,
            tnum | _numbers(item[1]),
        )


def _found(word: str, b: _Story, choices: tuple[str, ...]) -> bool:
    return (
        word in b.words
        or process.extractOne(word, choices, scorer=fuzz.ratio, score_cutoff=WORD_MATCH) is not None
    )


def _coverage(a: _Story, b: _Story) -> float:
    """Weighted share of a's title words (and numbers) that b's title or lead also uses."""
    choices = b.title + b.lead
    total = hits = 0.0
    for w in set(a.title):
        weight = NAME_WEIGHT if w in a.names else 1.0
        total += weight
        hits += weight if _found(w, b, choices) else 0.0
    # An equal number is evidence; a different one is not counter-evidence
    # (death tolls change from one report to the next).
    shared = len(a.title_numbers & b.numbers)
    return (hits + shared) / (total + shared)


def _missing_names(a: _Story, b: _Story, *, in_title: bool) -> set[str]:
    if in_title:
        return {n for n in a.names if not any(fuzz.ratio(n, w) >= WORD_MATCH for w in b.title)}
    return {n for n in a.names if not _found(n, b, b.title + b.lead)}


def _names_clash(a: _Story, b: _Story) -> float:
    """1 when each item names someone or somewhere the other item never
    mentions ("opens in Guam" / "opens in Oslo"); 0.5 when each
    title has a name the other title lacks but one of them shows up in the
    other's lead ("House passes" / "Senate passes", the Senate story's lead
    recalling the House vote); else 0."""
    if not (_missing_names(a, b, in_title=True) and _missing_names(b, a, in_title=True)):
        return 0.0
    a_gone = bool(_missing_names(a, b, in_title=False))
    b_gone = bool(_missing_names(b, a, in_title=False))
    if a_gone and b_gone:
        return 1.0
    return 0.5 if a_gone or b_gone else 0.0


def _score(a: _Story, b: _Story) -> float:
    """0-100: how sure we are that a and b tell the same story."""
    if not a.title or not b.title:
        return 0.0
    score = 50 * (_coverage(a, b) + _coverage(b, a))
    if a.lead and b.lead:
        score = (1 - LEAD_WEIGHT) * score + LEAD_WEIGHT * _lead_similarity(a, b)
    if score < SAME_STORY:
        return score  # the checks below can only lower it
    if _opposed(a.title, b.title):
        return 0.0
    if not (a.names and b.names):
        return score
    clash = _names_clash(a, b)
    return 0.0 if clash >= 1 else score - (CLASH_PENALTY if clash else 0.0)


def _lead_similarity(a: _Story, b: _Story) -> float:
    return fuzz.token_set_ratio(a.lead_text, b.lead_text)


def same_story(a: tuple[str, str], b: tuple[str, str]) -> bool:
    """(title, lead) pairs: True when they report the same story.

    Each title's words (case, accents, punctuation, stop words and numbers
    dropped, plurals folded, a few news synonyms merged) are looked up in the
    other item's title and lead with rapidfuzz's `fuzz.ratio`, names counting
    more and shared numbers counting as found words; the mean share found,
    blended with `fuzz.token_set_ratio` of the two leads when both have one,
    must reach SAME_STORY. Two titles that each name someone or somewhere
    the other does not (and one name is missing from the other item
    altogether) never match, nor do titles told apart by opposite verbs
    (_OPPOSITES). A title with no content words never matches.
    """
    return _score(_Story.of(a), _Story.of(b)) >= SAME_STORY


# A title word in more than this many representatives ("trump", "ukraine") is
# too common to find candidates by; rarer words of the same title still do.
_COMMON_WORD = 200
# A true duplicate's title is among the closest few to the item's (on the
# labelled pairs, every matched duplicate has a title token_set_ratio of 55
# or more), so scoring the closest few bounds the cost per item.
_MAX_SCORED = 12
# Below this title similarity no labelled duplicate is found by `_score` (the
# lowest that is scores 55), so such candidates are not scored at all.
_TITLE_FLOOR = 50


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
    representatives are skipped while another word of the title is rarer (a
    title of common words only looks among the most recent groups using
    them), and at most `_MAX_SCORED` candidates, those with the closest
    titles, are scored. So
    a pair that `same_story` accepts through spelling variants or the lead
    alone, or through common words only, can be left apart here.
    """
    # Title words find the candidates; the rest of an item's reading (lead,
    # names, numbers) is only made when it is scored, which most items never are.
    titles = [_words(_prepare(title, title=True)) for title, _lead in items]
    read: dict[int, _Story] = {}

    def story_of(i: int) -> _Story:
        if i not in read:
            read[i] = _Story.of(items[i])
        return read[i]

    groups: list[list[int]] = []
    rep_words: list[int] = []  # group number -> how many title words its representative has
    rep_title: list[str] = []  # group number -> its representative's title words, joined
    reps_by_word: dict[str, list[int]] = defaultdict(list)  # word -> group numbers
    for i, title in enumerate(titles):
        words = set(title)
        postings = [reps_by_word[w] for w in words if w in reps_by_word]
        rare = [p for p in postings if len(p) <= _COMMON_WORD]
        if not rare:
            # Only common words: look among the groups that most recently used the
            # two least common of them (input comes in time order, and the same
            # story arrives close together), so the cost stays bounded.
            rare = [p[-_COMMON_WORD:] for p in sorted(postings, key=len)[:2]]
        shared = Counter(chain.from_iterable(rare))
        # Scoring is the slow part; a title that shares one word of several is
        # never close enough to pass, so ask for two when both titles have them.
        need = 1 if len(title) < 3 else 2
        likely = [g for g, n in shared.items() if n >= need or n >= rep_words[g]]
        if likely:
            # Keep the few closest titles (rapidfuzz, in C++) that could pass at all.
            close = process.extract(" ".join(title), [rep_title[g] for g in likely],
                                    scorer=fuzz.token_set_ratio, limit=_MAX_SCORED,
                                    score_cutoff=_TITLE_FLOOR)
            likely = [likely[k] for _title, _score_, k in close]
        home = next((g for g in sorted(likely)
                     if _score(story_of(groups[g][0]), story_of(i)) >= SAME_STORY), None)
        if home is not None:
            groups[home].append(i)
            continue
        for w in words:
            reps_by_word[w].append(len(groups))
        groups.append([i])
        rep_words.append(len(title))
        rep_title.append(" ".join(title))
    return groups
