"""Pure: duplicate detection (first version: exact canonical URLs and equal titles)."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit


def canonical_url(url: str) -> str:
    """Canonical form for comparing links across feeds."""
    p = urlsplit(url.strip())
    return urlunsplit(("https", p.netloc.lower().removeprefix("www."), p.path.rstrip("/"), p.query, ""))


def same_story(a: tuple[str, str], b: tuple[str, str]) -> bool:
    """(title, lead) pairs: True when they report the same story."""
    return a[0].casefold() == b[0].casefold()


def group_duplicates(items: Sequence[tuple[str, str]]) -> list[list[int]]:
    """Group (title, lead) items reporting the same story; lists of indices in input order."""
    groups: dict[str, list[int]] = {}
    for i, (title, _lead) in enumerate(items):
        groups.setdefault(title.casefold(), []).append(i)
    return sorted(groups.values())
