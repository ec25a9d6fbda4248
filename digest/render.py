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

from .errors import RenderError
from .models import Config, Edition, RenderedEdition, Section

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

_MJML_STYLE = re.compile(r"<style(?![^>]*data-premailer)")


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
        self.html_env = jinja2.Environment(loader=loader, autoescape=True,
                                           undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
        self.text_env = jinja2.Environment(loader=loader, autoescape=False,
                                           undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
        for env in (self.html_env, self.text_env):
            env.filters["local_time"] = self._local_time
            env.filters["wrap"] = _wrap
        try:
            self.css = self.text_env.get_template("theme.css").render(theme=config.theme)
        except jinja2.TemplateError as e:
            raise RenderError(f"template theme.css: {e}") from e

    def _local_time(self, t: dt.datetime) -> str:
        local = t.astimezone(self.zone)
        return f"{local:%b} {local.day}, {local:%H:%M}"

    def subject(self, edition: Edition) -> str:
        first = edition.sections[0].stories[0] if edition.sections[0].stories else edition.sections[0].more[0]
        return f"{self.config.name}, {_long_date(edition.date)}: {first.article.title}"

    def render(self, edition: Edition) -> RenderedEdition:
        """Render an edition, moving the lowest stories to "More headlines" until it fits."""
        html, text = self._render(edition)
        while len(html.encode()) > HTML_BUDGET:
            smaller = _demote_last(edition)
            if smaller is None:
                raise RenderError(f"edition {edition.key}: {len(html.encode())} bytes of HTML even "
                                  f"with every story as a headline; the limit is {HTML_BUDGET}")
            log.info("edition %s: %d bytes, over the budget; moving a story to More headlines",
                     edition.key, len(html.encode()))
            edition = smaller
            html, text = self._render(edition)
        ids = tuple(s.article.id for s in edition.stories)
        return RenderedEdition(edition.key, edition.topics, self.subject(edition), html, text, ids)

    def _context(self, edition: Edition) -> dict:
        c = self.config
        titles = {t.id: t.title for t in c.topics}
        top = [s.article.title for sec in edition.sections for s in sec.stories][:3]
        return {
            "lang": "en",
            "newsletter": c.name,
            "subject": self.subject(edition),
            "preheader": " · ".join(top),
            "date_long": _long_date(edition.date),
            "sections": edition.sections,
            "count": len(edition.stories),
            "contents": " · ".join(f"{s.topic.title} {len(s.stories) + len(s.more)}"
                                   for s in edition.sections),
            "theme": c.theme,
            "greeting": PLACEHOLDERS["greeting"],
            "reader_email": PLACEHOLDERS["email"],
            "unsubscribe_url": PLACEHOLDERS["unsubscribe"],
            "web_url": c.site_url,
            "topic_titles": ", ".join(titles[t] for t in edition.topics),
            "sender_address": parseaddr(c.sender)[1],
        }

    def _render(self, edition: Edition) -> tuple[str, str]:
        context = self._context(edition)
        try:
            source = self.html_env.get_template("digest.mjml").render(context)
            text = self.text_env.get_template("digest.txt").render(context)
        except jinja2.TemplateError as e:
            raise RenderError(f"template: {e}") from e
        try:
            compiled = mjml.mjml2html(source, fonts={})
        except Exception as e:  # MRML raises plain exceptions with its message
            raise RenderError(f"MJML: {e}") from e
        return inline(compiled, self.css), text


def inline(html: str, css: str) -> str:
    """Inline the theme CSS into `html`, leaving MJML's own <style> blocks as they are."""
    marked = _MJML_STYLE.sub('<style data-premailer="ignore"', html)
    out = premailer.Premailer(
        marked, css_text=css, allow_network=False, strip_important=False,
        keep_style_tags=True, disable_validation=True, cssutils_logging_level=logging.CRITICAL,
        disable_link_rewrites=True, remove_classes=False,
    ).transform()
    # premailer drops MJML's lowercase doctype; put the HTML5 one back.
    out = re.sub(r"^\s*<!DOCTYPE[^>]*>\s*", "", out, flags=re.IGNORECASE)
    return "<!doctype html>\n" + out


def _long_date(d: dt.date) -> str:
    return f"{d:%A} {d.day} {d:%B %Y}"


def _wrap(text: str, width: int = 76, indent: str = "") -> str:
    """Wrap at `width`, never breaking words or URLs."""
    return "\n".join(textwrap.wrap(text, width, subsequent_indent=indent,
                                   break_long_words=False, break_on_hyphens=False)) or text


def _demote_last(edition: Edition) -> Edition | None:
    """The edition with its lowest full story moved to its section's "More headlines"."""
    sections: Sequence[Section] = edition.sections
    for i in range(len(sections) - 1, -1, -1):
        sec = sections[i]
        if sec.stories:
            moved = replace(sec, stories=sec.stories[:-1], more=(sec.stories[-1], *sec.more))
            return replace(edition, sections=(*sections[:i], moved, *sections[i + 1:]))
    return None
