"""Pure: feed HTML -> a story's lead (first version: whole sentences of the first text)."""

from __future__ import annotations

import html
import re

from .models import Article, Lead

_TAG = re.compile(r"<[^>]*>")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'“])")


def summarise(article: Article, lead_words: int, *, show_images: bool = True) -> Lead:
    """The lead: whole sentences of the content (or summary) within `lead_words` words."""
    text = " ".join(html.unescape(_TAG.sub(" ", article.content_html or article.summary_html)).split())
    out: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        if len(" ".join([*out, sentence]).split()) > lead_words:
            break
        out.append(sentence)
    if not out and text:
        out = [" ".join(text.split()[:lead_words]) + " …"]
    return Lead(" ".join(out))
