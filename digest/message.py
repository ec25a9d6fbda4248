"""RenderedEdition + reader -> an RFC 5322 message (eml, mbox, or bytes for SMTP)."""

from __future__ import annotations

import datetime as dt
import email
import functools
import hashlib
import hmac
import html
import re
import textwrap
import zoneinfo
from collections.abc import Iterable, Iterator
from email import policy, quoprimime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from urllib.parse import quote

from .models import PLACEHOLDERS, Config, Message, RenderedEdition, Subscriber


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
    h = hashlib.sha256(f"{config.name}\0{date}\0{edition_key}\0{email.lower()}".encode()).hexdigest()
    return f"<digest.{date:%Y%m%d}.{h[:24]}@{_domain(config.sender)}>"


@functools.lru_cache(maxsize=16)
def _domain(sender: str) -> str:
    return parseaddr(sender)[1].rpartition("@")[2] or "digest.invalid"


@functools.lru_cache(maxsize=16)
def _list_id(name: str, sender: str) -> str:
    domain = _domain(sender)
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "digest"
    return f"{_one_line(name)} <{slug}.{domain}>"


def build(edition: RenderedEdition, config: Config, secret: bytes, reader: Subscriber,
          date: dt.date, built_at: dt.datetime) -> Message:
    """One reader's message: multipart/alternative, text then HTML, UTF-8, quoted-printable.

    The bodies are the edition's pieces, each quoted-printable encoded once
    (then reused for every reader) with the reader's values encoded in
    between; a soft line break ends each piece, so the joined encoding
    decodes to the joined text.
    """
    values = reader_values(config, secret, reader)
    mid = message_id(config, date, edition.key, reader.email)
    # A boundary derived from the Message-ID keeps a rebuilt message byte-identical;
    # "=_" cannot start a line of quoted-printable, so it never occurs in a body.
    boundary = ("=_" + hashlib.sha256(mid.encode()).hexdigest()[:32]).encode()
    to = str(Address(_one_line(reader.name), addr_spec=reader.email)) if reader.name else reader.email
    shared = _edition_headers(config.sender, config.reply_to, edition.subject, config.timezone,
                              built_at, _list_id(config.name, config.sender), date, edition.key)
    headers = [shared["From"], _header("To", to), shared["Reply-To"], shared["Subject"],
               shared["Date"], _header("Message-ID", mid), shared["List-Id"],
               _header("List-Unsubscribe", list_unsubscribe(config, secret, reader.email))]
    if unsubscribe_url(config, secret, reader.email).startswith("https:"):
        # RFC 8058 one-click: the https URL must accept a POST without further steps.
        headers.append(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
    headers.append(shared["X-Digest-Edition"])
    raw = b"".join([
        *headers,
        b'MIME-Version: 1.0\r\nContent-Type: multipart/alternative;\r\n boundary="', boundary, b'"\r\n\r\n',
        b"--", boundary, b"\r\n", _PART_HEADERS % b"plain", _encode(edition.text_parts, values, False),
        b"\r\n--", boundary, b"\r\n", _PART_HEADERS % b"html", _encode(edition.html_parts, values, True),
        b"\r\n--", boundary, b"--\r\n",
    ])
    return Message(reader.email, mid, raw)


_PART_HEADERS = (b'Content-Type: text/%s; charset="utf-8"\r\n'
                 b"Content-Transfer-Encoding: quoted-printable\r\n\r\n")
_PLACEHOLDER = re.compile("(" + "|".join(re.escape(m) for m in PLACEHOLDERS.values()) + ")")
_KEY_OF = {m: k for k, m in PLACEHOLDERS.items()}


@functools.lru_cache(maxsize=65536)
def _edition_headers(sender: str, reply_to: str, subject: str, zone: str, built_at: dt.datetime,
                     list_id_: str, date: dt.date, key: str) -> dict[str, bytes]:
    """The headers every reader of an edition shares, folded and encoded once."""
    headers = [("From", sender), ("Reply-To", reply_to), ("Subject", _one_line(subject)),
               ("Date", format_datetime(built_at.astimezone(zoneinfo.ZoneInfo(zone)))),
               ("List-Id", list_id_), ("X-Digest-Edition", f"{date.isoformat()} {key}")]
    return {name: _header(name, value) if value else b"" for name, value in headers}


def _header(name: str, value: str) -> bytes:
    """One header as the email package writes it: parsed, encoded (RFC 2047) and folded.

    A short printable-ASCII value needs none of that and is written as it is
    (parsing it costs more than the rest of a message).
    """
    if len(name) + len(value) < 76 and _PLAIN_HEADER.fullmatch(value):
        return f"{name}: {value}\r\n".encode("ascii")
    return POLICY.fold_binary(name, POLICY.header_factory(name, value))


_PLAIN_HEADER = re.compile(r"[ -~]*")


@functools.lru_cache(maxsize=65536)
def _split(piece: str) -> tuple[str, ...]:
    """A piece cut around its reader placeholders: static text and placeholders alternate."""
    return tuple(_PLACEHOLDER.split(piece))


@functools.lru_cache(maxsize=65536)
def _qp(text: str) -> bytes:
    """`text` as UTF-8 quoted-printable, ending at a line end (a soft break if need be)."""
    encoded = quoprimime.body_encode(text.encode("utf-8").decode("latin-1"), 76, "\r\n")
    return encoded.encode("ascii") + (b"" if not encoded or encoded.endswith("\r\n") else b"=\r\n")


def _encode(pieces: Iterable[str], values: dict[str, str], escape: bool) -> bytes:
    out = []
    for piece in pieces:
        for i, chunk in enumerate(_split(piece)):
            if i % 2 == 0:
                out.append(_qp(chunk) if chunk else b"")
            else:
                value = values[_KEY_OF[chunk]]
                out.append(_qp(html.escape(value, quote=True) if escape else value))
    return b"".join(out).removesuffix(b"=\r\n")


def parse(raw: bytes) -> EmailMessage:
    """A message's bytes as an EmailMessage (for reading parts and headers)."""
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def long_lines(raw: bytes) -> list[int]:
    """Numbers (1-based) of the lines of a raw message longer than 998 octets."""
    return [n for n, line in enumerate(raw.split(b"\r\n") if b"\r\n" in raw else raw.split(b"\n"),
                                      start=1) if len(line) > MAX_LINE]


def as_mbox(messages: Iterable[Message], sender: str, when: dt.datetime) -> Iterator[bytes]:
    """An mboxrd stream of `messages`, one message at a time: a From_ line each (the
    envelope `sender` and `when`), LF line ends, body lines starting ">*From " quoted."""
    stamp = when.astimezone(dt.UTC).strftime("%a %b %d %H:%M:%S %Y")
    from_line = f"From {parseaddr(sender)[1] or 'MAILER-DAEMON'} {stamp}\n".encode()
    for msg in messages:
        body = _quote_from(msg.raw.replace(b"\r\n", b"\n"))
        yield from_line + body.rstrip(b"\n") + b"\n\n"


def _quote_from(body: bytes) -> bytes:
    """mboxrd quoting: a '>' before every line that is '>'* then 'From '.

    Searching for "From " and looking back is much faster than a multiline
    regex over 100 KB, since the words are rare in a quoted-printable body.
    """
    out, start = [], 0
    i = body.find(b"From ")
    while i != -1:
        j = i
        while j > 0 and body[j - 1] == 0x3E:  # '>'
            j -= 1
        if j == 0 or body[j - 1] == 0x0A:  # at a line start
            out += [body[start:j], b">"]
            start = j
        i = body.find(b"From ", i + 5)
    out.append(body[start:])
    return b"".join(out)


def _one_line(text: str) -> str:
    """Header text from feed or config: control characters and line breaks become spaces."""
    return " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", text).split())
