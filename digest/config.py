"""TOML config -> a checked, frozen `Config`.

Every problem is collected before raising, each named by file and key, so a
user fixes the file in one go. Nothing here touches the network or writes.
"""

from __future__ import annotations

import csv
import os
import re
import string
import tomllib
import zoneinfo
from collections.abc import Callable, Mapping
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError
from .models import Config, FeedSpec, SmtpSpec, Subscriber, Theme, TopicSpec

DEFAULT_NAME = "digest.toml"

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[^@\s<>()\[\],;:\"]+@{_LABEL}(?:\.{_LABEL})+$")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def find(path: str | os.PathLike[str] | None) -> Path:
    """The config file to use: `--config`, else $DIGEST_CONFIG, else ./digest.toml."""
    if path:
        return Path(path)
    if os.environ.get("DIGEST_CONFIG"):
        return Path(os.environ["DIGEST_CONFIG"])
    return Path(DEFAULT_NAME)


def load(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and check the config file; raise ConfigError listing every problem."""
    file = find(path)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{file}: no such file (run `digest init` to write one)"]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError([f"{file}: cannot read: {e}"]) from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([f"{file}: not valid TOML: {e}"]) from e
    return parse(raw, file)


def parse(raw: Mapping[str, Any], file: Path) -> Config:
    """Check a decoded TOML document and build the Config."""
    c = _Checker(file.name, file.resolve().parent)
    c.keys(raw, "", {"digest", "feeds", "topics", "subscribers", "smtp"})
    d = c.table(raw, "digest", required=True)
    c.keys(d, "digest", set(_DIGEST_KEYS) | {"theme"})
    values = {key: c.value(d, "digest", key, *spec) for key, spec in _DIGEST_KEYS.items()}

    theme_raw = c.table(raw, "digest.theme")  # a dotted path from the document root
    c.keys(theme_raw, "digest.theme", {"accent", "logo_url", "logo_width", "logo_height",
                                       "font_stack", "show_images"})
    # Theme is a slots dataclass: its class attributes are descriptors, so take defaults from an instance.
    default_theme = Theme()
    theme = Theme(
        accent=c.value(theme_raw, "digest.theme", "accent", str, default_theme.accent, _colour),
        logo_url=c.value(theme_raw, "digest.theme", "logo_url", str, "", _https_or_empty),
        logo_width=c.value(theme_raw, "digest.theme", "logo_width", int, default_theme.logo_width,
                           _pixels),
        logo_height=c.value(theme_raw, "digest.theme", "logo_height", int,
                            default_theme.logo_height, _pixels),
        font_stack=c.value(theme_raw, "digest.theme", "font_stack", str, default_theme.font_stack,
                           _font_stack),
        show_images=c.value(theme_raw, "digest.theme", "show_images", bool, True),
    )

    topics = _topics(c, raw)
    topic_ids = [t.id for t in topics]
    feeds = _feeds(c, raw, topic_ids)
    feed_ids = {f.id for f in feeds}
    for i, t in enumerate(topics):
        for f in t.feeds:
            if f not in feed_ids:
                c.problem(f"topics[{i}].feeds", f"names unknown feed {f!r}")

    subscribers = list(_subscribers(c, raw, topic_ids))
    if values["subscribers_file"]:
        subscribers += _subscribers_csv(c, c.base / values["subscribers_file"], topic_ids)
    seen: set[str] = set()
    for s in subscribers:
        if s.email.lower() in seen:
            c.problem("subscribers", f"{s.email} is listed twice")
        seen.add(s.email.lower())

    smtp_raw = c.table(raw, "smtp")
    c.keys(smtp_raw, "smtp", {"url", "username", "password_env", "rate"})
    smtp = SmtpSpec(
        url=c.value(smtp_raw, "smtp", "url", str, SmtpSpec().url, _smtp_url),
        username=c.value(smtp_raw, "smtp", "username", str, ""),
        password_env=c.value(smtp_raw, "smtp", "password_env", str, ""),
        rate=float(c.value(smtp_raw, "smtp", "rate", (int, float), 10, _not_negative)),
    )

    if c.problems:
        raise ConfigError(c.problems)
    templates = values["templates"]
    return Config(
        path=file.resolve(),
        name=values["name"],
        sender=values["from"],
        reply_to=values["reply_to"],
        unsubscribe_mailto=values["unsubscribe_mailto"],
        subject=values["subject"],
        address=values["address"],
        site_url=values["site_url"],
        unsubscribe=values["unsubscribe"],
        timezone=values["timezone"],
        window_hours=float(values["window_hours"]),
        lead_words=values["lead_words"],
        max_per_topic=values["max_per_topic"],
        max_edition_files=values["max_edition_files"],
        max_feed_bytes=values["max_feed_bytes"],
        outbox=c.base / values["outbox"],
        state=c.base / values["state"],
        templates=(c.base / templates) if templates else None,
        theme=theme,
        feeds=tuple(feeds),
        topics=tuple(topics),
        subscribers=tuple(subscribers),
        smtp=smtp,
    )


# ---------------------------------------------------------------- value checks
# Each returns an error text ("expected ...") or None.


def _email(v: str) -> str | None:
    return None if _EMAIL.match(v) else f"expected an email address, got {v!r}"


def _mailbox(v: str) -> str | None:
    name, addr = parseaddr(v)
    if not addr or _EMAIL.match(addr) is None or ("<" in v and not v.rstrip().endswith(">")):
        return f"expected an address like 'Name <news@example.org>', got {v!r}"
    return None


def _http_url(v: str) -> str | None:
    parts = urlsplit(v)
    if parts.scheme in ("http", "https") and parts.netloc:
        return None
    return f"expected an http(s) URL, got {v!r}"


def _unsubscribe(v: str) -> str | None:
    if len(v) > 800:  # it goes into List-Unsubscribe, whose line may not pass 998 octets
        return f"expected a URL of at most 800 characters, got {len(v)}"
    parts = urlsplit(v)
    if parts.scheme == "https" and parts.netloc:
        return None
    if parts.scheme == "mailto" and _EMAIL.match(parts.path):
        return None
    return f"expected an https: or mailto: URL, got {v!r}"


def _https_or_empty(v: str) -> str | None:
    if not v or (urlsplit(v).scheme == "https" and urlsplit(v).netloc):
        return None
    return f"expected an https URL, got {v!r}"


def _smtp_url(v: str) -> str | None:
    parts = urlsplit(v)
    if parts.scheme in ("smtp", "smtps") and parts.hostname:
        try:
            parts.port  # noqa: B018 - raises on a malformed port
        except ValueError:
            return f"expected a port number in {v!r}"
        return None
    return f"expected smtp://HOST[:PORT] or smtps://HOST[:PORT], got {v!r}"


def _timezone(v: str) -> str | None:
    try:
        zoneinfo.ZoneInfo(v)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return f"expected an IANA time zone such as 'Europe/Paris', got {v!r}"
    return None


def _colour(v: str) -> str | None:
    return None if _COLOUR.match(v) else f"expected a colour like '#0b4f8a', got {v!r}"


def _font_stack(v: str) -> str | None:
    # The stack goes into CSS: refuse anything that could close the declaration.
    return None if re.fullmatch(r"[\w\s,'\"-]+", v) else f"expected a CSS font list, got {v!r}"


def _pixels(v: int) -> str | None:
    return None if 0 < v <= 600 else f"expected a width or height in pixels (1 to 600), got {v!r}"


SUBJECT_FIELDS = ("name", "date", "headline", "count")


def _subject(v: str) -> str | None:
    """A subject template: plain text with {name} {date} {headline} {count} fields."""
    try:
        fields = [f for _, f, spec, conv in string.Formatter().parse(v) if f is not None]
    except ValueError as e:
        return f"expected text with {{name}}, {{date}}, {{headline}} or {{count}}: {e}"
    unknown = [f for f in fields if f not in SUBJECT_FIELDS]
    if unknown:
        return (f"unknown field {{{unknown[0]}}} (expected {{name}}, {{date}}, {{headline}} "
                f"or {{count}})")
    return None if v.strip() else "expected a non-empty string"


def _mailto(v: str) -> str | None:
    if not v:
        return None
    parts = urlsplit(v)
    if parts.scheme == "mailto" and _EMAIL.match(parts.path):
        return None
    return f"expected a mailto: URL like 'mailto:unsubscribe@example.org?subject=unsubscribe', got {v!r}"


def _positive(v: float) -> str | None:
    return None if v > 0 else f"expected a number above 0, got {v!r}"


def _not_negative(v: float) -> str | None:
    return None if v >= 0 else f"expected 0 or more, got {v!r}"


def _nonempty(v: str) -> str | None:
    return None if v.strip() else "expected a non-empty string"


def _ident(v: str) -> str | None:
    return None if _ID.match(v) else f"expected lowercase letters, digits, '-' or '_', got {v!r}"


_Check = Callable[[Any], "str | None"]
# key: (type, default (None = required), extra check)
_DIGEST_KEYS: dict[str, tuple[Any, Any, _Check | None]] = {
    "name": (str, None, _nonempty),
    "from": (str, None, _mailbox),
    "reply_to": (str, "", lambda v: _email(v) if v else None),
    "site_url": (str, None, _http_url),
    "unsubscribe": (str, None, _unsubscribe),
    "unsubscribe_mailto": (str, "", _mailto),
    "subject": (str, "{name}, {date}: {headline}", _subject),
    "address": (str, "", None),
    "timezone": (str, "UTC", _timezone),
    "window_hours": ((int, float), 24, _not_negative),
    "lead_words": (int, 60, _positive),
    "max_per_topic": (int, 8, _positive),
    "max_edition_files": (int, 100, _positive),
    "max_feed_bytes": (int, 10 * 1024 * 1024, _positive),
    "outbox": (str, "outbox", _nonempty),
    "state": (str, "digest.sqlite", _nonempty),
    "templates": (str, "", None),
    "subscribers_file": (str, "", None),
}

_TYPE_NAMES = {str: "a string", int: "an integer", bool: "true or false", list: "a list",
               dict: "a table", (int, float): "a number"}


class _Checker:
    """Collects problems as `file: key: message` lines."""

    def __init__(self, filename: str, base: Path):
        self.filename = filename
        self.base = base
        self.problems: list[str] = []

    def problem(self, key: str, message: str) -> None:
        self.problems.append(f"{self.filename}: {key}: {message}" if key else f"{self.filename}: {message}")

    def keys(self, table: Mapping[str, Any], where: str, allowed: set[str]) -> None:
        for k in table:
            if k not in allowed:
                near = ", ".join(sorted(allowed))
                self.problem(f"{where}.{k}" if where else k, f"unknown key (expected one of: {near})")

    def table(self, raw: Mapping[str, Any], key: str, *, required: bool = False) -> Mapping[str, Any]:
        node: Any = raw
        for part in key.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        if node is None:
            if required:
                self.problem(key, "missing table")
            return {}
        if not isinstance(node, Mapping):
            self.problem(key, f"expected a table, got {node!r}")
            return {}
        return node

    def value(self, table: Mapping[str, Any], where: str, key: str, typ: Any, default: Any,
              check: _Check | None = None) -> Any:
        name = f"{where}.{key}"
        if key not in table:
            if default is None:
                self.problem(name, "missing (required)")
                return "" if typ is str else 0
            return default
        v = table[key]
        # bool is an int subclass; a `true` where a number belongs is a mistake.
        if not isinstance(v, typ) or (typ is not bool and isinstance(v, bool)):
            self.problem(name, f"expected {_TYPE_NAMES.get(typ, typ)}, got {v!r}")
            return default if default is not None else ("" if typ is str else 0)
        if check and (msg := check(v)):
            self.problem(name, msg)
        return v

    def strings(self, table: Mapping[str, Any], where: str, key: str) -> tuple[str, ...]:
        v = table.get(key, [])
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            self.problem(f"{where}.{key}", f"expected a list of strings, got {v!r}")
            return ()
        return tuple(v)

    def array(self, raw: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
        v = raw.get(key, [])
        if not isinstance(v, list) or not all(isinstance(x, Mapping) for x in v):
            self.problem(key, f"expected an array of tables ([[{key}]]), got {v!r}")
            return []
        return v


def _topics(c: _Checker, raw: Mapping[str, Any]) -> list[TopicSpec]:
    topics: list[TopicSpec] = []
    seen: set[str] = set()
    entries = c.array(raw, "topics")
    if not entries:
        c.problem("topics", "at least one [[topics]] entry is needed")
    for i, t in enumerate(entries):
        where = f"topics[{i}]"
        c.keys(t, where, {"id", "title", "feeds", "keywords", "exclude"})
        tid = c.value(t, where, "id", str, None, _ident)
        if tid in seen:
            c.problem(f"{where}.id", f"topic id {tid!r} is used twice")
        seen.add(tid)
        topics.append(TopicSpec(
            id=tid,
            title=c.value(t, where, "title", str, tid.replace("-", " ").title(), _nonempty),
            feeds=c.strings(t, where, "feeds"),
            keywords=c.strings(t, where, "keywords"),
            exclude=c.strings(t, where, "exclude"),
        ))
    return topics


def feed_slug(url: str) -> str:
    """A readable default feed id from its URL or file name."""
    parts = urlsplit(url)
    stem = (parts.netloc + parts.path) if parts.netloc else Path(parts.path).stem
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    slug = re.sub(r"-(xml|rss|atom|feed|json)$", "", slug)
    return slug or "feed"


def _feeds(c: _Checker, raw: Mapping[str, Any], topic_ids: list[str]) -> list[FeedSpec]:
    feeds: list[FeedSpec] = []
    seen: set[str] = set()
    entries = c.array(raw, "feeds")
    if not entries:
        c.problem("feeds", "at least one [[feeds]] entry is needed")
    for i, f in enumerate(entries):
        where = f"feeds[{i}]"
        c.keys(f, where, {"id", "url", "topics", "title"})
        url = f.get("url")
        if not isinstance(url, str) or not url.strip():
            c.problem(f"{where}.url", f"expected an http(s) URL or a file path, got {url!r}")
            continue
        scheme = urlsplit(url).scheme
        if scheme in ("http", "https"):
            if msg := _http_url(url):
                c.problem(f"{where}.url", msg)
        elif len(scheme) > 1 and scheme != "file":
            c.problem(f"{where}.url", f"expected an http(s) URL or a file path, got {url!r}")
        else:
            path = Path(url.removeprefix("file://")).expanduser()
            url = str(path if path.is_absolute() else (c.base / path).resolve())
        fid = c.value(f, where, "id", str, feed_slug(url), _ident)
        if fid in seen:
            c.problem(f"{where}.id", f"feed id {fid!r} is used twice")
        seen.add(fid)
        topics = c.strings(f, where, "topics")
        for t in topics:
            if t not in topic_ids:
                c.problem(f"{where}.topics", f"names unknown topic {t!r}")
        feeds.append(FeedSpec(id=fid, url=url, topics=topics, title=c.value(f, where, "title", str, "")))
    return feeds


def _subscriber(c: _Checker, where: str, email: Any, name: Any, topics: Any,
                topic_ids: list[str]) -> Subscriber | None:
    if not isinstance(email, str) or _email(email):
        c.problem(f"{where}.email", f"expected an email address, got {email!r}")
        return None
    if not isinstance(name, str):
        c.problem(f"{where}.name", f"expected a string, got {name!r}")
        name = ""
    if topics is None:
        topics = list(topic_ids)
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        c.problem(f"{where}.topics", f"expected a list of topic ids, got {topics!r}")
        return None
    for t in topics:
        if t not in topic_ids:
            c.problem(f"{where}.topics", f"names unknown topic {t!r} (known: {', '.join(topic_ids)})")
    if not topics:
        c.problem(f"{where}.topics", "expected at least one topic (leave the key out for all)")
    # Sections follow config order, so one selection is one edition whatever order a reader lists.
    chosen = tuple(t for t in topic_ids if t in topics)
    return Subscriber(email=email, name=name, topics=chosen)


def _subscribers(c: _Checker, raw: Mapping[str, Any], topic_ids: list[str]):
    for i, s in enumerate(c.array(raw, "subscribers")):
        where = f"subscribers[{i}]"
        c.keys(s, where, {"email", "name", "topics"})
        sub = _subscriber(c, where, s.get("email"), s.get("name", ""), s.get("topics"), topic_ids)
        if sub:
            yield sub


def _subscribers_csv(c: _Checker, path: Path, topic_ids: list[str]) -> list[Subscriber]:
    """Read `email,name,topics` rows; topics separated by ';' or spaces, empty = all."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as e:
        c.problem("digest.subscribers_file", f"cannot read {path}: {e.strerror or e}")
        return []
    out = []
    rows = csv.reader(text.splitlines())
    for n, row in enumerate(rows, start=1):
        if not row or row[0].startswith("#") or (n == 1 and row[0].strip().lower() == "email"):
            continue
        email = row[0].strip()
        name = row[1].strip() if len(row) > 1 else ""
        topics = re.split(r"[;\s]+", row[2].strip()) if len(row) > 2 and row[2].strip() else None
        sub = _subscriber(c, f"{path.name} line {n}", email, name, topics, topic_ids)
        if sub:
            out.append(sub)
    return out


def starter(samples: Path) -> str:
    """A commented starter config that builds offline from the bundled sample feeds."""
    return f'''# digest configuration: see README.md ("Configuration") for every key.

[digest]
name = "My Daily"
from = "My Daily <news@example.org>"
site_url = "https://example.org"
unsubscribe = "https://example.org/unsubscribe?e={{email}}&t={{token}}"
timezone = "UTC"
window_hours = 0        # the sample feeds are old: no age limit; use 24 for real feeds
lead_words = 60

[[feeds]]              # http(s) URLs or file paths; these are bundled samples
url = "{samples / 'spacewar.xml'}"

[[feeds]]
url = "{samples / 'orbital-wire.atom'}"

[[topics]]
id = "missile-defense"
title = "Missile Defense"
keywords = ["Missile Defense", "missile-defense", "interceptor"]

[[topics]]
id = "military-space"
title = "Military Space"
keywords = ["Military Space", "military-space", "Space Force", "launch"]

[[subscribers]]
email = "you@example.org"
name = "You"
'''
