"""RenderedEdition + reader -> an RFC 5322 message (eml, mbox, or bytes for SMTP)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import html
import re
import textwrap
import zoneinfo
from collections.abc import Iterable
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr, parsedate_to_datetime
from urllib.parse import quote

from .models import Config, RenderedEdition, Subscriber
from .render import PLACEHOLDERS


class _Policy(policy.EmailPolicy):
    """RFC 5322 folding at 78 columns, except for headers that carry URLs.

    Folding a List-Unsubscribe URL at 78 would turn it into RFC 2047 encoded
    words, which mail clients do not decode there: those fold only past the
    hard limit of 998 (at the comma between URLs). Bodies go out as
    quoted-printable, which keeps every body line at 76 whatever the HTML.
    """

    def fold(self, name: str, value: str) -> str:
        if name.lower() in _URL_HEADERS and self.max_line_length != 998:
            return self.clone(max_line_length=998).fold(name, value)
        return self._fold_ascii_subject(name, value) or super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() in _URL_HEADERS and self.max_line_length != 998:
            return self.clone(max_line_length=998).fold_binary(name, value)
        if folded := self._fold_ascii_subject(name, value):
            return folded.encode("ascii")
        return super().fold_binary(name, value)

    def _fold_ascii_subject(self, name: str, value: str) -> str | None:
        """An ASCII subject folded at spaces, or None to let the email package do it.

        The email package folds "Defence Daily, Friday 4 July 2025: ..." (a comma and a
        colon) by breaking right after "Subject:", which readers then show with a
        leading space.
        """
        if name.lower() != "subject" or not value.isascii() or "\n" in value or "\r" in value:
            return None
        width = self.max_line_length or 78
        if any(len(w) > width - 10 for w in value.split()):
            return None
        lines = textwrap.wrap(value, width, initial_indent=f"{name}: ",
                              subsequent_indent=" ", break_long_words=False, break_on_hyphens=False)
        return self.linesep.join(lines) + self.linesep


_URL_HEADERS = {"list-unsubscribe", "list-unsubscribe-post", "list-id", "message-id"}

# SMTP policy: CRLF line ends, 78-column folding (URL headers excepted).
POLICY = _Policy(linesep="\r\n")
MAX_LINE = 998


def unsubscribe_token(secret: bytes, email: str) -> str:
    """An unguessable token proving a link was made for `email`."""
    return hmac.new(secret, email.lower().encode(), hashlib.sha256).hexdigest()[:32]


def unsubscribe_url(config: Config, secret: bytes, email: str, template: str | None = None) -> str:
    """The reader's unsubscribe link: `{email}` and `{token}` filled in (URL-quoted)."""
    template = config.unsubscribe if template is None else template
    return (template.replace("{email}", quote(email, safe="@"))
            .replace("{token}", unsubscribe_token(secret, email)))


def list_unsubscribe(config: Config, secret: bytes, email: str) -> str:
    """The List-Unsubscribe value (RFC 2369): the link, then the mailto when configured."""
    urls = [unsubscribe_url(config, secret, email)]
    if config.unsubscribe_mailto:
        mailto = unsubscribe_url(config, secret, email, config.unsubscribe_mailto)
        if mailto not in urls:
            urls.append(mailto)
    return ", ".join(f"<{u}>" for u in urls)


def reader_values(config: Config, secret: bytes, reader: Subscriber | None) -> dict[str, str]:
    """What fills the placeholders for `reader`; None gives the web version's neutral values."""
    if reader is None:
        return {"greeting": "Good morning.", "email": "your address", "unsubscribe": config.site_url}
    return {"greeting": f"Good morning, {reader.name}." if reader.name else "Good morning.",
            "email": reader.email, "unsubscribe": unsubscribe_url(config, secret, reader.email)}


def personalise(edition: RenderedEdition, values: dict[str, str]) -> tuple[str, str]:
    """The edition's HTML and text with the placeholders filled in (escaped for the HTML)."""
    html_part, text_part = edition.html, edition.text
    for key, marker in PLACEHOLDERS.items():
        html_part = html_part.replace(marker, html.escape(values[key], quote=True))
        text_part = text_part.replace(marker, values[key])
    return html_part, text_part


def message_id(config: Config, date: dt.date, edition_key: str, email: str) -> str:
    """Stable for (newsletter, date, edition, recipient), so a rebuild or resend is recognisable."""
    domain = parseaddr(config.sender)[1].rpartition("@")[2] or "digest.invalid"
    h = hashlib.sha256(f"{config.name}\0{date}\0{edition_key}\0{email.lower()}".encode()).hexdigest()
    return f"<digest.{date:%Y%m%d}.{h[:24]}@{domain}>"


def list_id(config: Config) -> str:
    domain = parseaddr(config.sender)[1].rpartition("@")[2] or "digest.invalid"
    slug = re.sub(r"[^a-z0-9]+", "-", config.name.lower()).strip("-") or "digest"
    return f"{_one_line(config.name)} <{slug}.{domain}>"


def build(edition: RenderedEdition, config: Config, secret: bytes, reader: Subscriber,
          date: dt.date, built_at: dt.datetime) -> EmailMessage:
    """One reader's message: multipart/alternative, text then HTML, UTF-8."""
    html_part, text_part = personalise(edition, reader_values(config, secret, reader))
    msg = EmailMessage(policy=POLICY)
    msg["From"] = config.sender
    msg["To"] = Address(_one_line(reader.name), addr_spec=reader.email) if reader.name else reader.email
    if config.reply_to:
        msg["Reply-To"] = config.reply_to
    msg["Subject"] = _one_line(edition.subject)
    msg["Date"] = format_datetime(built_at.astimezone(zoneinfo.ZoneInfo(config.timezone)))
    msg["Message-ID"] = message_id(config, date, edition.key, reader.email)
    msg["List-Id"] = list_id(config)
    msg["List-Unsubscribe"] = list_unsubscribe(config, secret, reader.email)
    if unsubscribe_url(config, secret, reader.email).startswith("https:"):
        # RFC 8058 one-click: the https URL must accept a POST without further steps.
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["X-Digest-Edition"] = f"{date.isoformat()} {edition.key}"
    msg.set_content(text_part, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html_part, subtype="html", charset="utf-8", cte="quoted-printable")
    # A boundary derived from the Message-ID keeps a rebuilt message byte-identical.
    msg.set_boundary("=_" + hashlib.sha256(msg["Message-ID"].encode()).hexdigest()[:32])
    return msg


def long_lines(raw: bytes) -> list[int]:
    """Numbers (1-based) of the lines of a raw message longer than 998 octets."""
    return [n for n, line in enumerate(raw.split(b"\r\n") if b"\r\n" in raw else raw.split(b"\n"),
                                      start=1) if len(line) > MAX_LINE]


def as_bytes(msg: EmailMessage) -> bytes:
    return msg.as_bytes(policy=POLICY)


def as_mbox(messages: Iterable[EmailMessage]) -> bytes:
    """An mboxrd stream of `messages`: a From_ line each, body lines starting ">*From " quoted."""
    out = []
    for msg in messages:
        sender = parseaddr(msg["From"])[1] or "MAILER-DAEMON"
        stamp = parsedate_to_datetime(msg["Date"]).astimezone(dt.UTC).strftime("%a %b %d %H:%M:%S %Y")
        body = msg.as_bytes(policy=POLICY.clone(linesep="\n"))
        body = re.sub(rb"(?m)^(>*From )", rb">\1", body)
        out.append(f"From {sender} {stamp}\n".encode() + body.rstrip(b"\n") + b"\n\n")
    return b"".join(out)


def _one_line(text: str) -> str:
    """Header text from feed or config: control characters and line breaks become spaces."""
    return " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", text).split())
