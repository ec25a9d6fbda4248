"""Edition -> finished HTML and text parts.

Jinja2 renders MJML (autoescaped) -> mjml2html (MRML, no web fonts) ->
premailer inlines the theme's own CSS only -> a full HTML document. The text
part comes from its own template. Nothing here touches the network.

Per-reader fields (greeting, address, unsubscribe link) are rendered as
placeholders and filled in by message.personalise, so an edition is
rendered once however many readers get it.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import textwrap
import zoneinfo
from collections.abc import Sequence
from dataclasses import replace
from email.utils import parseaddr
from pathlib import Path

import jinja2
import mjml
import premailer
from markupsafe import Markup

from .errors import RenderError
from .models import Config, Edition, RenderedEdition, Story

log = logging.getLogger(__name__)

# Gmail clips messages whose HTML passes 102 KB (and hides the footer with the
# unsubscribe link). Keep a margin for the per-reader substitutions.
GMAIL_CLIP = 102 * 1024
HTML_BUDGET = GMAIL_CLIP - 2 * 1024

# Markers in a rendered edition that message.personalise replaces per reader.
PLACEHOLDERS = {
    "greeting": "%%DIGEST_GREETING%%",
    "email": "%%DIGEST_EMAIL%%",
    "unsubscribe": "%%DIGEST_UNSUBSCRIBE%%",
}

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
    """Renders editions with one config's theme and templates."""

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
            env.filters["story_groups"] = story_groups
        try:
            css = self.text_env.get_template("theme.css").render(theme=config.theme)
        except jinja2.TemplateError as e:
            raise RenderError(f"template theme.css: {e}") from e
        self.inline_css, self.head_css = split_css(css)

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

    def render(self, edition: Edition) -> RenderedEdition:
        """Render an edition, moving the lowest stories to "More headlines" until it fits.

        The HTML grows with the number of full stories, so the largest number
        that fits is found by bisection (a few renders, whatever the day's size),
        starting from a linear estimate.
        """
        full = [s for sec in edition.sections for s in sec.stories]
        html, text = self._render(edition)
        if len(html.encode()) > HTML_BUDGET:
            smallest = _keep_full(edition, 0)
            html0, text0 = self._render(smallest)
            size0 = len(html0.encode())
            if size0 > HTML_BUDGET:
                edition, html, text = self._fit_headlines(smallest, size0)
                ids = tuple(s.article.id for s in edition.stories)
                return RenderedEdition(edition.key, edition.topics, self.subject(edition), html,
                                       text, ids)
            # Invariant: keeping `lo` full stories fits (`best`), keeping hi + 1 does not.
            lo, hi = 0, len(full) - 1
            best = (smallest, html0, text0)
            per_story = (len(html.encode()) - size0) / max(len(full), 1)
            guess = int((HTML_BUDGET - size0) / max(per_story, 1))
            probes = 0
            while lo < hi:
                # The estimate and its neighbour first (usually enough), then bisection.
                if probes >= 2 or not lo < guess <= hi:
                    guess = (lo + hi + 1) // 2
                probes += 1
                candidate = _keep_full(edition, guess)
                c_html, c_text = self._render(candidate)
                if len(c_html.encode()) <= HTML_BUDGET:
                    lo, best = guess, (candidate, c_html, c_text)
                    guess += 1
                else:
                    hi = guess - 1
                    guess -= 1
            edition, html, text = best
            log.info("edition %s: over the budget; %d of %d stories moved to More headlines "
                     "(%d bytes, %d renders)", edition.key, len(full) - lo, len(full),
                     len(html.encode()), probes + 2)
        ids = tuple(s.article.id for s in edition.stories)
        return RenderedEdition(edition.key, edition.topics, self.subject(edition), html, text, ids)

    def _fit_headlines(self, edition: Edition, size: int) -> tuple[Edition, str, str]:
        """Even as headlines the day is too big: keep the most headlines that fit, by bisection.

        The rest are left out of the email, which says how many and links to the web version.
        """
        total = len(edition.stories)
        lo, hi = 0, total - 1  # keeping `lo` headlines fits (checked below), hi + 1 does not
        smallest = _keep_headlines(edition, 0)
        html, text = self._render(smallest, dropped=total)
        if len(html.encode()) > HTML_BUDGET:
            raise RenderError(f"edition {edition.key}: {len(html.encode())} bytes of HTML even "
                              f"with no story; the limit is {HTML_BUDGET}")
        best = (smallest, html, text)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            candidate = _keep_headlines(edition, mid)
            c_html, c_text = self._render(candidate, dropped=total - mid)
            if len(c_html.encode()) <= HTML_BUDGET:
                lo, best = mid, (candidate, c_html, c_text)
            else:
                hi = mid - 1
        log.warning("edition %s: %d bytes of HTML even with every story as a headline; "
                    "%d of %d headlines left out (the email links to the web version)",
                    edition.key, size, total - lo, total)
        return best

    def _context(self, edition: Edition) -> dict:
        c = self.config
        titles = {t.id: t.title for t in c.topics}
        top = [s.article.title for s in _top_stories(edition)]
        preheader = _shorten(" · ".join(top), PREHEADER_CHARS)
        return {
            "lang": "en",
            "dir": "ltr",
            "newsletter": c.name,
            "subject": self.subject(edition),
            "preheader": preheader,
            "preheader_padding": Markup(PREHEADER_PADDING),
            "date_long": _long_date(edition.date),
            "sections": edition.sections,
            "dropped": 0,
            "count": len(edition.stories),
            "contents": " · ".join(f"{s.topic.title} {len(s.stories) + len(s.more)}"
                                   for s in edition.sections),
            "theme": c.theme,
            "greeting": PLACEHOLDERS["greeting"],
            "reader_email": PLACEHOLDERS["email"],
            "unsubscribe_url": PLACEHOLDERS["unsubscribe"],
            "web_url": c.site_url,
            "topic_titles": ", ".join(titles[t] for t in edition.topics),
            "sender_address": c.address or parseaddr(c.sender)[1],
        }

    def _render(self, edition: Edition, dropped: int = 0) -> tuple[str, str]:
        context = self._context(edition)
        context["dropped"] = dropped
        try:
            source = self.html_env.get_template("digest.mjml").render(context)
            text = self.text_env.get_template("digest.txt").render(context)
        except jinja2.TemplateError as e:
            raise RenderError(f"template: {e}") from e
        return compile_mjml(source, self.inline_css, self.head_css), text

    def mjml_source(self, edition: Edition) -> str:
        """The MJML the edition compiles from (for validating templates)."""
        return self.html_env.get_template("digest.mjml").render(self._context(edition), dropped=0)


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
    rest = [s for s in edition.stories if s not in firsts]
    return firsts + rest


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
