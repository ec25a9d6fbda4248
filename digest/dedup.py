"""Find the same story across feeds: by canonical link, and by reworded headline.

Pure functions, no I/O. `selection.py` uses `canonical_url` to merge entries
that point at the same page and `group_duplicates` to merge near-duplicate
stories, so each story is shown once with the others as "also:" links.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus, urlsplit, urlunsplit

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
    query = "&".join(
        sorted(s for s in parts.query.split("&") if s and not _is_tracking(s))
    )
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), query, ""))
