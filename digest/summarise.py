"""Pure stage: feed HTML -> a story's lead text, its dateline and one safe image.

No I/O and no clock. Feed HTML never leaves this module: the output is plain
text and, at most, one vetted https image URL.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html

from digest.models import Article, Image, Lead, Media

__all__ = ["summarise", "count_words", "split_sentences", "DISPLAY_WIDTH"]

#: Width an image is shown at when the feed gives no size, and the widest we show.
DISPLAY_WIDTH = 560

ELLIPSIS = "…"

# ---------------------------------------------------------------- words

# CJK has no spaces between words, so each ideograph or kana counts as a word;
# otherwise a budget of 60 "words" would let a whole Chinese article through.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|[^\s{_CJK}]+")


def _is_word(token: str) -> bool:
    return any(c.isalnum() for c in token)


def count_words(text: str) -> int:
    """Count words as the budget does: runs with a letter or digit, each CJK character one."""
    return sum(1 for m in _TOKEN.finditer(text) if _is_word(m.group()))


def _cut_words(text: str, n: int) -> str:
    """Return the text up to the end of its n-th word (never inside a word)."""
    seen = 0
    for m in _TOKEN.finditer(text):
        if _is_word(m.group()):
            seen += 1
            if seen == n:
                return text[: m.end()]
    return text


# ---------------------------------------------------------------- sentences

# Words that end with a full stop without ending the sentence. Lower case,
# without the final dot; initialisms like "U.S." are caught by the letter-dot rule.
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "messrs",
        "dr",
        "prof",
        "gen",
        "sen",
        "rep",
        "gov",
        "lt",
        "col",
        "sgt",
        "capt",
        "cpt",
        "maj",
        "adm",
        "cmdr",
        "cdr",
        "brig",
        "pvt",
        "st",
        "ste",
        "mt",
        "ft",
        "ave",
        "blvd",
        "rd",
        "hwy",
        "jr",
        "sr",
        "rev",
        "hon",
        "pres",
        "supt",
        "insp",
        "det",
        "no",
        "nos",
        "nr",
        "vs",
        "etc",
        "al",
        "approx",
        "est",
        "inc",
        "ltd",
        "co",
        "corp",
        "bros",
        "dept",
        "div",
        "univ",
        "assn",
        "fig",
        "figs",
        "vol",
        "vols",
        "ch",
        "pp",
        "para",
        "art",
        "sec",
        "ed",
        "eds",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "mon",
        "tue",
        "tues",
        "wed",
        "thu",
        "thur",
        "thurs",
        "fri",
        "sat",
        "sun",
        "a.m",
        "p.m",
        "e.g",
        "i.e",
        "cf",
        "ca",
        "bzw",
        "usw",
        "z.b",
        "d.h",
        "u.a",
        "s.o",
        "s.u",
        "ggf",
        "evtl",
        "inkl",
        "ca",
        "mio",
        "mrd",
        "tsd",
        "abs",
        "str",
        "mme",
        "mlle",
        "mm",
        "sra",
        "srta",
        "sres",
        "dña",
        "dra",
        "ud",
        "uds",
        "pág",
        "núm",
    ]
)

_MONTHS_ORDINAL = frozenset(
    [
        "januar",
        "jänner",
        "februar",
        "märz",
        "april",
        "mai",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "dezember",
    ]
)

_OPENERS = "\"“‘'(«¿¡[„"
_SENTENCE_END = re.compile(r"[.!?…。！？۔]+[\"'”’»)\]]*")
_CJK_END = frozenset("。！？")


def _boundary_ok(text: str, end: int, match_start: int) -> bool:
    """Decide whether the punctuation that stops at `end` closes a sentence."""
    punct = text[match_start:end]
    rest = text[end:]
    if not rest.strip():
        return True
    if punct[0] in _CJK_END:
        return True
    if not rest[0].isspace():
        return False
    nxt = rest.lstrip()[0]
    starts_sentence = (
        nxt.isupper()
        or nxt.isdigit()
        or nxt in _OPENERS
        or (nxt.isalpha() and not nxt.islower())  # scripts without case: Urdu, Hebrew...
    )
    if not starts_sentence:
        return False
    if punct[0] != ".":
        return True
    if punct.startswith(".."):  # an ellipsis before a capital is usually a pause in quotes
        return True
    head = text[:match_start]
    word = head.rsplit(None, 1)[-1] if head.split() else ""
    word = word.lstrip("\"“‘'([«")
    low = word.lower()
    if low in _ABBREVIATIONS or low.rstrip(".") in _ABBREVIATIONS:
        return False
    # initials and initialisms: J. / U.S. / J.R.R.
    if re.fullmatch(r"(?:[A-Za-z]\.)*[A-Za-z]", word):
        return False
    # German/Slavic ordinal dates: "am 3. Juli"
    if word.isdigit() and len(word) <= 2:
        following = rest.split(None, 1)[0].lower().strip(".,")
        if following in _MONTHS_ORDINAL:
            return False
    return True


def split_sentences(text: str) -> list[str]:
    """Split plain text into sentences, keeping abbreviations, initials and decimals whole."""
    out: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if _boundary_ok(text, m.end(), m.start()):
            piece = text[start : m.end()].strip()
            if piece:
                out.append(piece)
            start = m.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


def _ends_sentence(s: str) -> bool:
    return bool(re.search(r"[.!?…。！？۔:][\"'”’»)\]]*$", s))


# ---------------------------------------------------------------- HTML -> blocks

# Removed with their content: not prose, or captions and credits.
_DROP_TAGS = (
    "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "embed",
    "video", "audio", "picture", "figure", "figcaption", "img", "form", "button", "select",
    "textarea", "input", "head", "title", "caption", "nav", "aside", "sup",
)  # fmt: skip
_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
_BLOCKS = frozenset(
    (
        "p", "div", "li", "ul", "ol", "dl", "dt", "dd", "blockquote", "pre", "table", "tr",
        "td", "th", "section", "article", "header", "footer", "main", "hr", "address",
        "center", "body", "html", *_HEADINGS,
    )
)  # fmt: skip
# Class names of wrappers that only ever hold share buttons or tracking.
_JUNK_CLASS = re.compile(
    r"\b(feedflare|share|sharing|social|sharedaddy|jp-relatedposts|related|subscribe|"
    r"advert|ads?|sponsor|newsletter|byline|author|caption|credit|wp-caption-text)\b",
    re.I,
)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_TAGLIKE = re.compile(r"<[a-zA-Z/!?][^<>]*>")
_ENTITY = re.compile(r"&(?:[a-zA-Z][a-zA-Z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
_SPACE = re.compile(r"\s+")
_GLUED = re.compile(r"(?<=[a-z]{3})([.!?])(?=[A-Z][a-z]{2})")  # "in April.Previously, ..."


@dataclass(frozen=True, slots=True)
class _Block:
    """A run of text the feed set apart: `kind` is p, li, quote, heading or pre."""

    kind: str
    text: str


def _clean_text(text: str) -> str:
    """Make extracted text plain: decode leftovers, strip stray tags, collapse space."""
    # Feeds that escape twice leave "&lt;b&gt;" as text "<b>" after one decode.
    for _ in range(2):
        if not (_ENTITY.search(text) or _TAGLIKE.search(text)):
            break
        text = _TAGLIKE.sub(" ", html.unescape(_TAGLIKE.sub(" ", text)))
    text = _CONTROL.sub("", text).replace("\u00ad", "").replace("\u200b", "")
    # A "javascript:" in prose is harmless text, but it must never look like a link.
    text = re.sub(r"(?i)javascript\s*:", "javascript ", text)
    # A literal "<" before a letter is text, but keep it from ever reading as a tag.
    text = re.sub(r"<(?=[a-zA-Z/!?])", "< ", text)
    text = _SPACE.sub(" ", text).strip()
    return _GLUED.sub(r"\1 ", text)


def _parse(markup: str) -> lxml.html.HtmlElement | None:
    markup = _CONTROL.sub("", markup)
    if not markup.strip():
        return None
    try:
        return lxml.html.fragment_fromstring(markup, create_parent="div")
    except (lxml.etree.ParserError, ValueError, TypeError):
        return None


def _blocks(markup: str) -> list[_Block]:
    """Return the feed text as blocks, in order, with images and junk wrappers removed."""
    if not markup or not markup.strip():
        return []
    if not _TAGLIKE.search(markup):
        # Plain-text descriptions: paragraphs are blank lines at most.
        parts = re.split(r"\n\s*\n", html.unescape(markup))
        return [_Block("p", t) for t in (_clean_text(p) for p in parts) if t]
    root = _parse(markup)
    if root is None:
        text = _clean_text(markup)
        return [_Block("p", text)] if text else []
    for el in list(root.iter(*_DROP_TAGS)):
        if el.getparent() is not None:
            el.drop_tree()
    for el in list(root.iter()):
        cls = el.get("class") if isinstance(el.tag, str) else None
        if cls and _JUNK_CLASS.search(cls) and el.getparent() is not None:
            el.drop_tree()

    blocks: list[_Block] = []
    buf: list[str] = []
    kind_stack: list[str] = []
    # `soft` marks a pending <br>: a line break that may only be a wrapped line.
    soft = False

    def current_kind() -> str:
        for k in reversed(kind_stack):
            if k != "p":
                return k
        return "p"

    def flush() -> None:
        nonlocal soft
        soft = False
        text = _clean_text("".join(buf))
        buf.clear()
        if text:
            blocks.append(_Block(current_kind(), text))

    def add(text: str | None) -> None:
        nonlocal soft
        if not text:
            return
        if soft and text.strip():
            before = _clean_text("".join(buf))
            after = text.lstrip()
            joined = not before or before[-1] in ",、，;–-" or (after[:1].islower())
            if joined:
                buf.append(" ")
                soft = False
            else:
                flush()
        buf.append(text)

    for event, el in lxml.etree.iterwalk(root, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            if tag == "br":
                if soft:  # two <br> in a row: a paragraph break
                    flush()
                else:
                    soft = True
                continue
            if tag in _BLOCKS:
                flush()
                if tag in ("li", "dd", "dt"):
                    kind_stack.append("li")
                elif tag == "blockquote":
                    kind_stack.append("quote")
                elif tag in _HEADINGS:
                    kind_stack.append("heading")
                elif tag == "pre":
                    kind_stack.append("pre")
                else:
                    kind_stack.append("p")
            if isinstance(el.tag, str):
                add(el.text)
        else:
            if tag in _BLOCKS:
                flush()
                if kind_stack:
                    kind_stack.pop()
            if el is not root:
                add(el.tail)
    flush()
    return blocks


# ---------------------------------------------------------------- not-a-lead lines

_JUNK_LINE = re.compile(
    r"""^(?:
        (?:photo|photograph|image|picture|pictured|illustration|graphic|video|watch|listen
           |credit|source|foto|bild|fotó|imagen|crédito|caption)s?\b\s*(?::|by\b|credit\b|[-–—|])
      | (?:©|\(c\)|copyright\b)
      # "By Jane Doe", "by Staff Writers", "By Jane Doe, Reuters": capitalised names
      # only, so "By many measures, ..." stays a lead.
      | by\s+(?-i:[A-Z][\w.'’\-]*(?:\s+(?:and\s+|&\s+|de\s+|van\s+|von\s+)?[A-Z][\w.'’\-]*){0,4})
        \s*(?:$|[,|])
      | (?:von|par|por)\s+[A-ZÀ-Þ][\w.'’\-]+(?:\s+[A-ZÀ-Þ][\w.'’\-]+){0,3}$
      | (?:read|see|view|watch)\s+(?:more|the\s+(?:full|whole|rest)|full|on|it\s+on|the\s+original)\b
      | (?:continue|continued)\s+(?:reading|on|at)\b
      | (?:click|tap)\s+here\b
      | more\s*(?:»|›|→|\.\.\.|…)
      | \(?more\s*…?\)?$
      | \[?(?:…|\.\.\.)\]?$
      | (?:share|tweet|email|print|pin)\s+(?:this|on|via|it)\b
      | share\s*(?::|$)
      | (?:subscribe|sign\s+up|follow\s+us|like\s+us|download\s+our\s+app)\b
      | (?:advertisement|advertising|sponsored|sponsor(?:ed)?\s+(?:by|content)|anzeige|publicidad|publicité)\b
      | (?:related|see\s+also|also\s+read|recommended|more\s+from|tags?|filed\s+under|categories)\s*:
      | the\s+post\s+.+\s+appeared\s+first\s+on\b
      | this\s+(?:post|article|entry)\s+(?:was\s+)?(?:originally\s+)?(?:published|posted|appeared)\b.*\bon\b
      | (?:posted|published|updated|last\s+updated)\s+(?:on|at|in|by)\b[^.!?]{0,60}$
      | (?:full\s+)?(?:transcript|show\s+notes)\b.{0,40}\b(?:at|on)\s+\S+$
      | updated?\b[^.:!?]{0,30}:                      # "Update:", "Updated 11/28/17: ..."
      | editor['’]s\s+note\s*:
      | \d+\s+comments?\b
      | comments?\s*(?:\(\d+\)|$)
    )""",
    re.I | re.X,
)
# Trailing link text a feed appends to its last paragraph.
_JUNK_TAIL = re.compile(
    r"""\s*(?:
        \[\s*(?:…|\.\.\.|&hellip;|more)\s*\]
      | \(\s*more\s*(?:…|\.\.\.)?\s*\)
      | (?:read|continue)\s+(?:more|reading)\b[^.!?]{0,40}
      | the\s+post\s+.+?\s+appeared\s+first\s+on\s+.+
      | (?:→|»|›)
    )\s*$""",
    re.I | re.X,
)


def _strip_tail(text: str) -> str:
    for _ in range(3):
        new = _JUNK_TAIL.sub("", text).rstrip()
        if new == text:
            break
        text = new
    return text


def _is_junk(text: str) -> bool:
    if count_words(text) < 2 and not re.search(f"[{_CJK}]", text):
        return True  # "EFE", "Update:", a lone link
    return bool(_JUNK_LINE.match(text))


# ---------------------------------------------------------------- datelines

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]{0,6}\.?"
_PLACE_WORD = r"[A-ZÀ-Þ][\w.'’\-]*"
_PLACE = rf"{_PLACE_WORD}(?:(?:\s+|,\s*|\s*/\s*){_PLACE_WORD})*"
_DASH = r"\s*(?:--|[-–—])\s+"
_DATELINE = re.compile(
    rf"""^(?:by\s+[\w.'’\- ]{{1,40}}?,\s*)?          # "by Staff Writers, "
    (?P<dl>
        (?P<place>{_PLACE})
        (?P<date1>,\s*(?:{_MONTH}\s+\d{{1,2}}        # "LONDON, July 3 (Reuters)"
          |\d{{1,2}}\s+[A-Z][a-z]{{2,8}}\.?(?:\s+\d{{4}})?))?  # "Quito, 24 Set 2018 (AFP)"
        \s+\((?P<agency>(?:[A-Z][A-Za-z.&]{{1,14}}|dpa|epd|kna|apa)(?:[ /|][A-Z][A-Za-z.&]{{1,14}})?)\)
        (?P<date2>\s+{_MONTH}\s+\d{{1,2}},?\s+\d{{4}})? # "(AFP) Jul 3, 2025"
    )
    (?P<dash>{_DASH})?""",
    re.X,
)
# "WASHINGTON —": an all-capitals place and a dash, no agency.
_CAPS_DATELINE = re.compile(
    rf"^(?P<dl>[A-Z][A-Z.'\-]{{2,}}(?:[ /][A-Z][A-Z.'\-]+)*(?:,\s*[A-Z][\w.]+(?:\s[A-Z][\w.]+)?)?"
    rf"(?:,\s*{_MONTH}\s+\d{{1,2}})?){_DASH}"
)


def _take_dateline(text: str) -> tuple[str, str]:
    """Split a leading dateline off `text`: returns (dateline, rest)."""
    m = _DATELINE.match(text)
    if m and (m.group("dash") or m.group("date2")) and len(m.group("place")) <= 60:
        return m.group("dl").strip(), text[m.end() :].lstrip(" -–—:")
    m = _CAPS_DATELINE.match(text)
    if m:
        return m.group("dl").strip(), text[m.end() :]
    return "", text


# ---------------------------------------------------------------- lead choice


@dataclass(frozen=True, slots=True)
class _Source:
    dateline: str
    paragraphs: tuple[str, ...]
    truncated: bool  # the feed's text stops without a sentence end: maybe mid-word


def _lead_source(markup: str) -> _Source:
    blocks = _blocks(markup)
    # Headings and list items are leads only when the item has no paragraph at all.
    prose = [b for b in blocks if b.kind in ("p", "quote") and not _is_junk(_strip_tail(b.text))]
    chosen = blocks if not prose else [b for b in blocks if b.kind in ("p", "quote")]
    if not prose:
        chosen = [b for b in blocks if b.kind == "li"] or blocks
    dateline = ""
    paragraphs: list[str] = []
    for b in chosen:
        text = _strip_tail(b.text)
        if not paragraphs and not dateline:
            dateline, text = _take_dateline(text)
            if dateline and not text:
                continue
        if not text or _is_junk(text):
            continue
        paragraphs.append(text)
        if len(paragraphs) >= 3:
            break
    last = _strip_tail(chosen[-1].text) if chosen else ""
    truncated = bool(paragraphs) and last == paragraphs[-1] and not _ends_sentence(last)
    return _Source(dateline, tuple(paragraphs), truncated)


def _real_words(src: _Source) -> int:
    return sum(count_words(p) for p in src.paragraphs)


# A full-content lead of this many words is preferred even over a longer
# description: descriptions are often standfirsts or photo captions.
_ENOUGH_CONTENT = 20


def _choose(article: Article) -> _Source:
    content = _lead_source(article.content_html)
    summary = _lead_source(article.summary_html)
    cw, sw = _real_words(content), _real_words(summary)
    if cw and (cw >= sw or cw >= _ENOUGH_CONTENT):
        if not content.dateline and summary.dateline:
            return _Source(summary.dateline, content.paragraphs, content.truncated)
        return content
    return summary


_PAIRS = {"(": ")", "[": "]", "“": "”", "«": "»", "„": "“"}


def _balance(text: str) -> str:
    """Close any quote or bracket the cut left open, innermost first."""
    stack: list[str] = []
    for c in text:
        if c in _PAIRS and not (c == "“" and stack and stack[-1] == "„"):
            stack.append(c)
        elif stack and c == _PAIRS[stack[-1]]:
            stack.pop()
        elif c in ")]”»" and c in [_PAIRS[o] for o in stack]:
            while stack and _PAIRS[stack[-1]] != c:
                stack.pop()
            if stack:
                stack.pop()
    closers = "".join(_PAIRS[o] for o in reversed(stack))
    if text.count('"') % 2:
        closers = '"' + closers if not stack else closers + '"'
    if not closers:
        return text
    if text.endswith(ELLIPSIS):
        return text + closers
    # put the closer inside the full stop only when the quote ended the sentence
    return text + closers


def _ellipsis_cut(sentence: str, words: int) -> str:
    if words <= 0:
        return ""
    cut = _cut_words(sentence, words).rstrip(" ,;:–—-([{\"“‘'«„")
    cut = re.sub(r"[.…]+$", "", cut)
    return cut + ELLIPSIS if cut else ""


def _fit(paragraphs: tuple[str, ...], budget: int, truncated: bool) -> str:
    """Whole sentences within budget; a second paragraph only when the first is short."""
    out: list[str] = []
    used = 0
    for i, para in enumerate(paragraphs):
        if i and used >= budget // 2:
            break
        if i:
            _close_paragraph(out)
        # A feed's own "..." at the end marks text it cut: show it as one "…".
        para = re.sub(r"\s*(?:\.\.\.|…)$", ELLIPSIS, para)
        sentences = split_sentences(para)
        if truncated and i == len(paragraphs) - 1 and sentences and not _ends_sentence(sentences[-1]):
            broken = sentences.pop()
            if not sentences and not out:
                # The feed cut its only sentence: end at the last whole word.
                tail = re.sub(r"\s*(?:…|\.\.\.)$", "", broken)
                had_ellipsis = tail != broken
                n = count_words(tail) - (0 if had_ellipsis else 1)
                return _balance(_ellipsis_cut(tail, min(n, budget)))
        for s in sentences:
            n = count_words(s)
            if used + n <= budget:
                out.append(s)
                used += n
                continue
            if not out or (out[-1].endswith(":") and budget - used >= 8):
                out.append(_ellipsis_cut(s, budget - used))
                used = budget
            break
        else:
            continue
        break
    text = " ".join(p for p in out if p)
    return _balance(text)


def _close_paragraph(sentences: list[str]) -> None:
    """End a paragraph with a full stop before another is appended (standfirsts often lack one)."""
    if sentences and not _ends_sentence(sentences[-1]):
        sentences[-1] += "."


# ---------------------------------------------------------------- images

_TRACKER = re.compile(
    r"mf\.gif|feedburner|feedsportal|/~ff/|/~r/|pixel|stats?[./?]|/stat\?|tracking|tracker|"
    r"beacon|analytics|doubleclick|/ads?/|adserver|gravatar|avatar|emoji|/icons?/|icon[._-]|"
    r"spacer|blank\.gif|1x1|cpx\.php|count(?:er)?\.|\.svg(?:$|\?)|share|button|badge|logo",
    re.I,
)
_IMAGE_EXT = re.compile(r"\.(?:jpe?g|png|gif|webp|avif)(?:$|[?#])", re.I)
_UNSAFE_URL_CHARS = re.compile(r"[\s\"'<>\\`{}|^\x00-\x1f\x7f]")


def _safe_https(url: str, base: str) -> str:
    url = (url or "").strip()
    if not url or _UNSAFE_URL_CHARS.search(url):
        return ""
    try:
        absolute = urljoin(base or "", url) if not url.lower().startswith("https://") else url
        parts = urlsplit(absolute)
    except ValueError:
        return ""
    if parts.scheme.lower() != "https" or not parts.hostname or parts.username or parts.password:
        return ""
    if _UNSAFE_URL_CHARS.search(absolute):
        return ""
    return absolute


def _int_attr(value: object) -> int:
    try:
        n = int(str(value).strip().removesuffix("px"))
    except (TypeError, ValueError):
        return 0
    return n if 0 < n < 100_000 else 0


def _display_size(width: int, height: int) -> tuple[int, int]:
    if not width:
        return DISPLAY_WIDTH, 0
    if width > DISPLAY_WIDTH:
        height = round(height * DISPLAY_WIDTH / width) if height else 0
        width = DISPLAY_WIDTH
    return width, height


def _plain(text: str) -> str:
    return _clean_text(text)[:200]


def _candidate(url: str, width: int, height: int, base: str) -> str:
    if (width and width <= 2) or (height and height <= 2):
        return ""  # tracking pixels
    if width and height and width <= 48 and height <= 48:
        return ""  # icons
    if _TRACKER.search(url):
        return ""
    return _safe_https(url, base)


def _media_image(m: Media, base: str) -> tuple[str, int, int, str] | None:
    kind = (m.type or "").lower()
    if kind and not kind.startswith("image/"):
        return None
    if not kind and not _IMAGE_EXT.search(m.url or ""):
        return None
    url = _candidate(m.url, m.width, m.height, base)
    return (url, m.width, m.height, m.alt) if url else None


def _content_images(markup: str, base: str) -> tuple[str, int, int, str] | None:
    if not markup or "<img" not in markup.lower():
        return None
    root = _parse(markup)
    if root is None:
        return None
    for img in root.iter("img"):
        w, h = _int_attr(img.get("width")), _int_attr(img.get("height"))
        url = _candidate(img.get("src") or "", w, h, base)
        if url:
            return url, w, h, img.get("alt") or img.get("title") or ""
    return None


def _image(article: Article) -> Image | None:
    # The largest attached image: feeds often list a small thumbnail first.
    attached = [c for c in (_media_image(m, article.url) for m in article.media) if c]
    found = max(attached, key=lambda c: c[1], default=None)
    if not found:
        found = _content_images(article.content_html, article.url) or _content_images(
            article.summary_html, article.url
        )
    if not found:
        return None
    url, width, height, alt = found
    width, height = _display_size(width, height)
    return Image(url=url, width=width, height=height, alt=_plain(alt) or _plain(article.title))


# ---------------------------------------------------------------- the stage


def summarise(article: Article, lead_words: int, *, show_images: bool = True) -> Lead:
    """Pick the article's lead: whole sentences within `lead_words`, its dateline, one image.

    The text is plain (no tags or entities) and holds at most `lead_words`
    words as `count_words` counts them; when even the first sentence is longer
    it is cut at a word end and ends with "…". The image, only when
    `show_images`, has an absolute https URL; its width is the feed's (scaled
    down to at most DISPLAY_WIDTH) or DISPLAY_WIDTH when unknown, and a height
    of 0 means unknown: let the client scale it.
    """
    source = _choose(article)
    text = _fit(source.paragraphs, max(lead_words, 0), source.truncated) if lead_words > 0 else ""
    image = _image(article) if show_images else None
    return Lead(text=text, dateline=source.dateline, image=image)
