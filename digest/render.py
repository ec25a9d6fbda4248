"""Stories -> the day's email pieces -> each edition's HTML and text.

Jinja2 renders MJML (autoescaped) -> mjml2html (MRML, no web fonts) ->
premailer inlines the theme's own CSS only. This happens once a day, for a
document holding every piece any reader's email needs (digest.mjml); the
compiled HTML is cut at the template's markers into Pieces, and each
edition (a distinct topic selection) is assembled from them by string
joins. The text part comes the same way from its own template. Nothing
here touches the network.

Per-reader fields (greeting, address, unsubscribe link) stay placeholders,
filled in by message.personalise, so nothing is rendered per reader.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import textwrap
import zoneinfo
from collections.abc import Sequence
from dataclasses import replace
from email.utils import parseaddr
from html import escape
from pathlib import Path

import jinja2
import mjml
import premailer
from markupsafe import Markup

from .errors import RenderError
from .models import PLACEHOLDERS, Config, Edition, RenderedEdition, Story, TopicSpec

log = logging.getLogger(__name__)

# Gmail clips messages whose HTML passes 102 KB (and hides the footer with the
# unsubscribe link). Keep a margin for the per-reader substitutions.
GMAIL_CLIP = 102 * 1024
HTML_BUDGET = GMAIL_CLIP - 2 * 1024


# Gmail ignores a <style> block past 16 KB (and with it every media query).
STYLE_LIMIT = 16 * 1024

# After the preheader: zero-width joiners and no-break spaces fill the inbox
# preview so the body's first words don't follow the headlines there.
PREHEADER_PADDING = "&#847;&zwnj;&nbsp;" * 90
PREHEADER_CHARS = 140
SUBJECT_HEADLINE_CHARS = 110

_STYLE_TAG = re.compile(r"<style(?![^>]*data-premailer)", re.IGNORECASE)
_DOCTYPE = re.compile(r"^\s*<!doctype[^>]*>\s*", re.IGNORECASE)


def builtin_templates() -> Path:
    """The built-in templates: digest/templates in a wheel, else templates/ of the checkout."""
    here = Path(__file__).resolve().parent
    installed = here / "templates"
    return installed if installed.is_dir() else here.parent / "templates"


class Renderer:
    """Renders one config's emails: a day's pieces once, then any edition from them."""

    def __init__(self, config: Config):
        self.config = config
        self.zone = zoneinfo.ZoneInfo(config.timezone)
        loaders: list[jinja2.BaseLoader] = []
        if config.templates:
            loaders.append(jinja2.FileSystemLoader(config.templates))
        builtin = jinja2.FileSystemLoader(builtin_templates())
        # An override can still `{% extends "builtin/digest.mjml" %}`.
        loaders += [builtin, jinja2.PrefixLoader({"builtin": builtin})]
        loader = jinja2.ChoiceLoader(loaders)
        # select_autoescape() would leave .mjml unescaped: switch it on explicitly.
        self.html_env = jinja2.Environment(loader=loader, autoescape=True, finalize=_no_controls,
                                           undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
        self.text_env = jinja2.Environment(loader=loader, autoescape=False,
                                           undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
        for env in (self.html_env, self.text_env):
            env.filters["local_time"] = self._local_time
            env.filters["wrap"] = _wrap
            env.filters["lighten"] = lighten
        try:
            css = self.text_env.get_template("theme.css").render(theme=config.theme)
        except jinja2.TemplateError as e:
            raise RenderError(f"template theme.css: {e}") from e
        self.inline_css, self.head_css = split_css(css)
        self.topic_titles = {t.id: t.title for t in config.topics}

    def _local_time(self, t: dt.datetime) -> str:
        local = t.astimezone(self.zone)
        return f"{local:%b} {local.day}, {local:%H:%M}"

    def subject(self, edition: Edition) -> str:
        """The subject line from the config's template: {name} {date} {headline} {count}."""
        top = _top_stories(edition)
        headline = _shorten(top[0].article.title, SUBJECT_HEADLINE_CHARS) if top else ""
        text = self.config.subject.format(name=self.config.name, date=_long_date(edition.date),
                                          headline=headline, count=len(edition.stories))
        return " ".join(text.split())

    # ------------------------------------------------------------ pieces

    def _context(self, date: dt.date, stories: Sequence[Story], topics: Sequence[TopicSpec],
                 *, html: bool) -> dict:
        c = self.config
        mark = _html_marker if html else _text_marker
        return {
            "lang": "en",
            "dir": "ltr",
            "newsletter": c.name,
            "date_long": _long_date(date),
            "theme": c.theme,
            "topics": topics,
            "stories": stories,
            "image_stories": [s for s in stories if s.lead.image and c.theme.show_images],
            "ph": _PH,
            # Per-reader values under the names older templates used.
            "greeting": _PH["greeting"], "reader_email": _PH["email"],
            "unsubscribe_url": _PH["unsubscribe"],
            "preheader_padding": Markup(PREHEADER_PADDING),
            "web_url": c.site_url,
            "sender_address": c.address or parseaddr(c.sender)[1],
            "part": lambda kind, key="": mark("part", kind, key),
            "row": lambda kind, key="": mark("row", kind, key),
            "item": lambda key: mark("item", key, ""),
        }

    def mjml_source(self, edition: Edition) -> str:
        """The MJML an edition's pieces compile from (for validating templates)."""
        return self._source(edition.date, edition.stories, [s.topic for s in edition.sections])

    def _source(self, date: dt.date, stories: Sequence[Story], topics: Sequence[TopicSpec]) -> str:
        return self.html_env.get_template("digest.mjml").render(
            self._context(date, stories, topics, html=True))

    def pieces(self, date: dt.date, stories: Sequence[Story], topics: Sequence[TopicSpec]) -> Pieces:
        """Render every piece of the day's emails once: one MJML compile, one premailer pass."""
        try:
            source = self._source(date, stories, topics)
            text = self.text_env.get_template("digest.txt").render(
                self._context(date, stories, topics, html=False))
        except jinja2.TemplateError as e:
            raise RenderError(f"template: {e}") from e
        return Pieces.cut(compile_mjml(source, self.inline_css, self.head_css), text)

    # ------------------------------------------------------------ editions

    def render(self, edition: Edition, pieces: Pieces | None = None) -> RenderedEdition:
        """Assemble an edition from the day's pieces (rendered now when not given).

        When the HTML would pass the budget, the lowest stories move to "More
        headlines": the size of any layout is a sum of known piece sizes, so
        the largest number of full stories that fits is found by bisection
        without rendering anything again.
        """
        if pieces is None:
            pieces = self.pieces(edition.date, edition.stories, [s.topic for s in edition.sections])
        subject = self.subject(edition)
        # Demoting stories changes neither the frame (the same stories, counts and
        # first stories) nor the size of anything but the sections.
        top, bottom = self._frame(pieces, edition, subject, 0)
        frame = sum(len(s.encode()) for s in (*top, *bottom))

        def size(full: int) -> int:
            return frame + sum(pieces.size(s) for s in self._sections(pieces, _keep_full(edition, full)))

        full = sum(len(sec.stories) for sec in edition.sections)
        biggest = size(full)
        if biggest <= HTML_BUDGET:
            return self._assemble(pieces, edition, subject, full)
        smallest = size(0)
        if smallest > HTML_BUDGET:
            return self._fit_headlines(pieces, edition, subject)
        lo, hi = 0, full - 1  # keeping `lo` full stories fits; keeping hi + 1 does not
        # The size grows about linearly with the stories kept in full: start from
        # that estimate and its neighbour (usually enough), then bisect.
        guess = int((HTML_BUDGET - smallest) * full / max(biggest - smallest, 1))
        for probe in (guess, guess + 1):
            if lo < probe <= hi:
                if size(probe) <= HTML_BUDGET:
                    lo = probe
                else:
                    hi = probe - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if size(mid) <= HTML_BUDGET:
                lo = mid
            else:
                hi = mid - 1
        log.info("edition %s: over the budget; %d of %d stories moved to More headlines",
                 edition.key, full - lo, full)
        return self._assemble(pieces, edition, subject, lo)

    def _fit_headlines(self, pieces: Pieces, edition: Edition, subject: str) -> RenderedEdition:
        """Even as headlines the day is too big: keep the most headlines that fit.

        The rest are left out of the email, which says how many and links to the web version.
        """
        total = len(edition.stories)
        headlines = _keep_full(edition, 0)

        def size(kept: int) -> int:
            e = _keep_headlines(headlines, kept)
            top, bottom = self._frame(pieces, e, subject, total - kept)
            return sum(len(s.encode()) for s in (*top, *self._sections(pieces, e), *bottom))

        if size(0) > HTML_BUDGET:
            raise RenderError(f"edition {edition.key}: the HTML is over {HTML_BUDGET} bytes "
                              f"even with no story")
        lo, hi = 0, total - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if size(mid) <= HTML_BUDGET:
                lo = mid
            else:
                hi = mid - 1
        log.warning("edition %s: over the budget even with every story as a headline; "
                    "%d of %d headlines left out (the email links to the web version)",
                    edition.key, total - lo, total)
        return self._assemble(pieces, _keep_headlines(headlines, lo), subject, 0, dropped=total - lo)

    def _assemble(self, pieces: Pieces, edition: Edition, subject: str, full: int,
                  dropped: int = 0) -> RenderedEdition:
        """The edition with its first `full` stories in full, as HTML and text pieces."""
        edition = _keep_full(edition, full)
        top, bottom = self._frame(pieces, edition, subject, dropped)
        html = (*top, *self._sections(pieces, edition), *bottom)
        ids = tuple(s.article.id for s in edition.stories)
        return RenderedEdition(edition.key, edition.topics, subject, html,
                               self._text(pieces, edition, dropped), ids)

    def _frame(self, pieces: Pieces, edition: Edition, subject: str,
               dropped: int) -> tuple[list[str], list[str]]:
        """The HTML before and after the sections, with the edition-wide placeholders filled.

        The per-reader ones (render.PLACEHOLDERS) stay for message.personalise.
        """
        h = pieces.html
        links = "".join(h[f"link:{sec.topic.id}"].replace(_PH["n"], str(len(sec.stories) + len(sec.more)))
                        for sec in edition.sections)
        preheader = _shorten(" · ".join(s.article.title for s in _top_stories(edition)), PREHEADER_CHARS)
        values = {"subject": escape(subject), "preheader": escape(preheader), "count": _count(edition),
                  "contents": links, "dropped": _dropped(dropped),
                  "topics": escape(self._titles(edition))}
        top = [*_fill(h["head"], values), *_fill(h["masthead"], values)]
        bottom = []
        if dropped:
            bottom += [h["open"], *_fill(h["dropped"], values), h["close"]]
        bottom += [*_fill(h["footer"], values), h["end"]]
        return top, bottom

    def _sections(self, pieces: Pieces, edition: Edition) -> list[str]:
        """The sections' HTML: shared pieces only, so their sizes are known."""
        h = pieces.html
        out = []
        for sec in edition.sections:
            header = h[f"header:{sec.topic.id}"]
            groups = story_groups(sec.stories, self.config.theme.show_images)
            if not groups or groups[0][0]:
                out += [h["open"], header, h["close"]]
            for i, (with_image, group) in enumerate(groups):
                if with_image:
                    out.append(h[f"image:{group[0].article.id}"])
                else:
                    out += [h["open"], *([header] if i == 0 else []),
                            *(h[f"story:{s.article.id}"] for s in group), h["close"]]
            if sec.more:
                out += [h["open"], h["more_open"], *(h[f"item:{s.article.id}"] for s in sec.more),
                        h["more_close"], h["close"]]
        return out

    def _text(self, pieces: Pieces, edition: Edition, dropped: int) -> tuple[str, ...]:
        t = pieces.text
        if "whole" in t:  # a text template without markers: the same text for every edition
            return (t["whole"],)
        contents = f"{_count(edition)}: " + ", ".join(sec.topic.title for sec in edition.sections)
        body = [t["masthead"].replace(_PH["contents"], _wrap(contents))]
        for sec in edition.sections:
            body.append(t[f"header:{sec.topic.id}"])
            body += [t[f"story:{s.article.id}"] for s in sec.stories]
            if sec.more:
                body += [t["more"], *(t[f"item:{s.article.id}"] for s in sec.more)]
        if dropped:
            body.append(t["dropped"].replace(_PH["dropped"], _dropped(dropped)))
        body += [t["footer"].replace(_PH["topics"], _wrap(self._titles(edition) + ".")), t["end"]]
        return tuple(body)

    def _titles(self, edition: Edition) -> str:
        return ", ".join(self.topic_titles.get(tid, tid) for tid in edition.topics)


def _count(edition: Edition) -> str:
    n = len(edition.stories)
    return f"{n} {'story' if n == 1 else 'stories'}"


def _dropped(n: int) -> str:
    return f"{n} more {'story' if n == 1 else 'stories'} today"


# Placeholders in the pieces: per edition (filled by Renderer._layout) and
# per reader (PLACEHOLDERS, filled by message.personalise).
_PH = {
    "subject": "%%DIGEST_SUBJECT%%", "preheader": "%%DIGEST_PREHEADER%%", "count": "%%DIGEST_COUNT%%",
    "contents": "%%DIGEST_CONTENTS%%", "n": "%%DIGEST_N%%", "dropped": "%%DIGEST_DROPPED%%",
    "topics": "%%DIGEST_TOPICS%%", **PLACEHOLDERS,
}


_EDITION_PH = re.compile("(" + "|".join(re.escape(m) for k, m in _PH.items() if k not in PLACEHOLDERS) + ")")
_EDITION_KEY = {m: k for k, m in _PH.items()}


def _fill(piece: str, values: dict[str, str]) -> list[str]:
    """`piece` with its edition placeholders filled, as a list: the static parts stay
    the day's shared strings (sized and encoded once), only the values are new."""
    return [values[_EDITION_KEY[part]] if i % 2 else part
            for i, part in enumerate(_split_edition(piece)) if part]


@functools.lru_cache(maxsize=1024)
def _split_edition(piece: str) -> tuple[str, ...]:
    return tuple(_EDITION_PH.split(piece))


def _html_marker(where: str, kind: str, key: str) -> Markup:
    name = f"{kind}:{key}" if key else kind
    if where == "part":  # between body-level sections
        return Markup(f"<mj-raw><!--digest:{name}--></mj-raw>")
    return Markup(f"<!--digest:{where}:{name}-->")


def _text_marker(where: str, kind: str, key: str) -> str:
    return f"@@digest:{kind}:{key}@@" if key else f"@@digest:{kind}@@"


_HTML_PART = re.compile(r"<!--digest:([a-z]+(?::[^>]*?)?)-->")
_HTML_ROW = re.compile(r"<!--digest:row:([a-z]+(?::[^>]*?)?)-->")
_HTML_ITEM = re.compile(r"<!--digest:item:([^>]*?):?-->")
_TEXT_PART = re.compile(r"@@digest:([a-z]+(?::[^@]*)?)@@\n?")


class Pieces:
    """A day's pre-rendered email pieces, cut from the compiled template at its markers.

    `html` maps a piece's name to its HTML: "head" (the document up to the
    body), "masthead", "footer", "end"; "open"/"close" (a one-column text
    section around rows); rows "header:TOPIC", "story:ID", "link:TOPIC",
    "dropped"; "more_open", "item:ID", "more_close" (a "More headlines"
    list); "image:ID" (a story with its thumbnail, a section of its own).
    `text` maps "masthead", "header:TOPIC", "story:ID", "more", "item:ID",
    "dropped", "footer", "end" to text; or, for a text template without
    markers, "whole" to its one text.
    """

    def __init__(self, html: dict[str, str], text: dict[str, str]):
        self.html = html
        self.text = text
        self._sizes: dict[str, int] = {}

    def size(self, piece: str) -> int:
        """UTF-8 size of a piece (remembered: the same pieces recur in every edition)."""
        n = self._sizes.get(piece)
        if n is None:
            n = self._sizes[piece] = len(piece.encode())
        return n

    @classmethod
    def cut(cls, html: str, text: str) -> Pieces:
        pieces: dict[str, str] = {}
        marks = list(_HTML_PART.finditer(html))
        if not marks or not all(m.group(1).split(":")[0] in ("masthead", "rows", "image", "footer", "end")
                                or m.group(1).startswith(("row:", "item:")) for m in marks):
            raise RenderError("template digest.mjml: its part markers are missing or unknown")
        parts = [m for m in marks if not m.group(1).startswith(("row:", "item:"))]
        pieces["head"] = html[:parts[0].start()]
        for m, nxt in zip(parts, [*parts[1:], None], strict=True):
            pieces[m.group(1)] = html[m.end():nxt.start() if nxt else len(html)]
        rows_section = pieces.pop("rows")
        rows = list(_HTML_ROW.finditer(rows_section))
        spans = []
        for m in rows:
            start = rows_section.rfind("<tr", 0, m.start())
            end = rows_section.index("</td></tr>", m.end()) + len("</td></tr>")
            spans.append((m.group(1), start, end))
            pieces[m.group(1)] = rows_section[start:end].replace(m.group(0), "")
        pieces["open"] = rows_section[:spans[0][1]]
        pieces["close"] = rows_section[spans[-1][2]:]
        more = pieces.pop("more")
        items = list(_HTML_ITEM.finditer(more))
        pieces["more_open"] = more[:items[0].start()]
        pieces["more_close"] = more[items[-1].end():]
        for m, nxt in zip(items, items[1:], strict=False):
            pieces[f"item:{m.group(1)}"] = more[m.end():nxt.start()]
        for key in [k for k in pieces if k.startswith("link:")]:
            link = re.search(r"<p[^>]*>(.*)</p>", pieces[key], re.DOTALL)
            pieces[key] = link.group(1) if link else ""

        chunks = _TEXT_PART.split(text)  # ['', name, body, name, body, ...]
        text_pieces = {chunks[i]: chunks[i + 1] for i in range(1, len(chunks) - 1, 2)}
        return cls(pieces, text_pieces or {"whole": text})


def compile_mjml(source: str, inline_css: str, head_css: Sequence[str] = ()) -> str:
    """MJML -> HTML (no web fonts) -> the theme CSS inlined, `head_css` blocks added to <head>."""
    try:
        compiled = mjml.mjml2html(source, fonts={})
    except Exception as e:  # MRML raises plain exceptions with its message
        raise RenderError(f"MJML: {e}") from e
    return inline(compiled, inline_css, head_css)


def inline(html: str, css: str, head_css: Sequence[str] = ()) -> str:
    """Inline `css` into `html`; leave every existing <style> as it is; append `head_css` blocks.

    premailer's defaults would copy MJML's reset CSS onto every element, drop
    the doctype, strip !important from media queries and fetch stylesheets:
    here it sees only the theme's plain rules, and never the network.
    """
    doctype = m.group(0).strip() if (m := _DOCTYPE.match(html)) else "<!doctype html>"
    marked = _STYLE_TAG.sub('<style data-premailer="ignore"', html)
    out = premailer.Premailer(
        marked, css_text=css, allow_network=False, strip_important=False,
        keep_style_tags=False, disable_leftover_css=True, disable_validation=True,
        cssutils_logging_level=logging.CRITICAL, disable_link_rewrites=True, remove_classes=False,
    ).transform()
    out = _DOCTYPE.sub("", out)
    # premailer unmarks the blocks it saw; those inside Outlook's conditional comments it never saw.
    out = out.replace('<style data-premailer="ignore"', "<style")
    if head_css:
        blocks = "".join(f'<style type="text/css">\n{b}\n</style>\n' for b in head_css)
        out = out.replace("</head>", blocks + "</head>", 1)
    return doctype + "\n" + out


def split_css(css: str) -> tuple[str, tuple[str, ...]]:
    """Split theme CSS into plain rules (to inline) and head blocks (@media, :root) kept as written."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    plain: list[str] = []
    head: list[str] = []
    i = 0
    while i < len(css):
        brace = css.find("{", i)
        if brace < 0:
            break
        depth, j = 0, brace
        while j < len(css):
            if css[j] == "{":
                depth += 1
            elif css[j] == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        block = css[i:j + 1].strip()
        prelude = css[i:brace].strip()
        (head if prelude.startswith("@") or ":root" in prelude else plain).append(block)
        i = j + 1
    return "\n".join(plain), tuple(head)


def story_groups(stories: Sequence[Story], show_images: bool) -> list[tuple[bool, list[Story]]]:
    """Consecutive stories grouped for layout: (True, [one story with a thumbnail]) or (False, run)."""
    groups: list[tuple[bool, list[Story]]] = []
    for s in stories:
        if s.lead.image and show_images:
            groups.append((True, [s]))
        elif groups and not groups[-1][0]:
            groups[-1][1].append(s)
        else:
            groups.append((False, [s]))
    return groups


def lighten(colour: str, amount: float = 0.45) -> str:
    """`colour` (#rgb or #rrggbb) mixed with white: an accent readable on a dark background."""
    h = colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    rgb = [int(h[k:k + 2], 16) for k in (0, 2, 4)]
    return "#" + "".join(f"{round(c + (255 - c) * amount):02x}" for c in rgb)


def _top_stories(edition: Edition) -> list[Story]:
    """The first story of each section, then the rest in order: what a subject and preheader lead with."""
    firsts = [sec.stories[0] if sec.stories else sec.more[0] for sec in edition.sections
              if sec.stories or sec.more]
    first_ids = {id(s) for s in firsts}  # identity: comparing Story records field by field is slow
    return firsts + [s for s in edition.stories if id(s) not in first_ids]


def _shorten(text: str, limit: int) -> str:
    """`text` cut at a word end to at most `limit` characters, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit - 1].rsplit(" ", 1)[0] if " " in text[:limit - 1] else text[:limit - 1]
    return cut.rstrip(" ·,;:") + "…"


_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _no_controls(value: object) -> object:
    """Control characters from feed text make invalid HTML (and stop MJML): drop them."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return _CONTROLS.sub("", value)
    return value


def _long_date(d: dt.date) -> str:
    return f"{d:%A} {d.day} {d:%B %Y}"


def _wrap(text: str, width: int = 76, indent: str = "") -> str:
    """Wrap at `width`, never breaking words or URLs."""
    return "\n".join(textwrap.wrap(text, width, subsequent_indent=indent,
                                   break_long_words=False, break_on_hyphens=False)) or text


def _keep_headlines(edition: Edition, n: int) -> Edition:
    """An all-headlines edition cut to its first `n` headlines; sections left empty are dropped."""
    sections = []
    left = n
    for sec in edition.sections:
        keep = sec.more[:max(left, 0)]
        left -= len(keep)
        if keep:
            sections.append(replace(sec, stories=(), more=keep))
    return replace(edition, sections=tuple(sections))


def _keep_full(edition: Edition, n: int) -> Edition:
    """The edition with only its first `n` full stories (reading order); the rest join "More headlines"."""
    sections = []
    left = n
    for sec in edition.sections:
        keep = sec.stories[:max(left, 0)]
        left -= len(keep)
        sections.append(replace(sec, stories=keep, more=(*sec.stories[len(keep):], *sec.more)))
    return replace(edition, sections=tuple(sections))
