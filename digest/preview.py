"""A loopback-only HTTP server showing a day's editions as readers will see them.

Pages: an index of the date's editions and recipients; per edition or reader,
the email at desktop (600 px) and phone (375 px) width side by side, a
dark-mode toggle, the text part, the headers and the size against Gmail's
102 KB clip. The server only reads: what it shows comes from a `Source`
(app.py builds one from the store, opened without the lock).
"""

from __future__ import annotations

import contextlib
import html
import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol
from urllib.parse import parse_qs, quote, unquote, urlsplit

log = logging.getLogger(__name__)

HOST = "127.0.0.1"  # never anything else: the preview shows subscribers' addresses


@dataclass(frozen=True, slots=True)
class EditionInfo:
    """One edition as the index lists it."""

    key: str
    topics: tuple[str, ...]
    subject: str
    stories: int
    html_bytes: int
    readers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Part:
    """What a preview page shows of one email: its HTML, text and (for a reader) headers."""

    title: str
    html: str
    text: str
    headers: tuple[tuple[str, str], ...]
    html_bytes: int


class Source(Protocol):
    """What the preview reads; app.PreviewSource implements it over a built day."""

    newsletter: str
    date: str
    budget: int

    def editions(self) -> Sequence[EditionInfo]: ...
    def edition(self, key: str) -> Part | None: ...
    def reader(self, email: str) -> Part | None: ...


class PreviewServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer bound to 127.0.0.1 serving one Source."""

    daemon_threads = True

    def __init__(self, source: Source, port: int = 0):
        self.source = source
        super().__init__((HOST, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self) -> threading.Thread:
        """Serve in a background thread (for tests); stop with shutdown()."""
        t = threading.Thread(target=self.serve_forever, name="digest-preview", daemon=True)
        t.start()
        return t


def serve(source: Source, port: int = 0, *, open_browser: Callable[[str], object] | None = None,
          ready: Callable[[str], None] | None = None) -> None:
    """Serve until interrupted; call `ready(url)` once listening, and `open_browser(url)` if given."""
    with PreviewServer(source, port) as server:
        if ready:
            ready(server.url)
        if open_browser:
            open_browser(server.url)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()


# ---------------------------------------------------------------- pages

_DARK = re.compile(r"@media\s*\(\s*prefers-color-scheme\s*:\s*dark\s*\)", re.IGNORECASE)

_CSS = """
body{font:15px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
header{padding:12px 24px;background:#fff;border-bottom:1px solid #d0d7de}
main{padding:16px 24px}
h1{font-size:20px;margin:0}
h2{font-size:16px;margin:24px 0 8px}
a{color:#0969da}
table{border-collapse:collapse;background:#fff}
td,th{border-bottom:1px solid #d0d7de;padding:4px 10px;text-align:left;vertical-align:top}
.frames{display:flex;gap:24px;align-items:flex-start;flex-wrap:wrap}
.frame{display:flex;flex-direction:column;gap:4px}
.frame span{font-size:13px;color:#57606a}
iframe{border:1px solid #d0d7de;background:#fff;height:900px}
pre{background:#fff;border:1px solid #d0d7de;padding:12px;overflow:auto;max-width:100%;font-size:13px}
.bar{display:inline-block;width:160px;height:10px;background:#eaeef2;vertical-align:middle}
.bar i{display:block;height:10px;background:#1a7f37}
.bar i.over{background:#cf222e}
.dark body{background:#0d1117;color:#e6edf3}
"""

_SCRIPT = """
function fit(f){try{f.style.height=(f.contentDocument.documentElement.scrollHeight+20)+'px'}catch(e){}}
function dark(on){for(const f of document.querySelectorAll('iframe')){
  const u=new URL(f.src);u.searchParams.set('dark',on?'1':'0');f.src=u.toString()}}
"""


def _size(n: int, budget: int) -> str:
    pct = n / budget * 100
    cls = ' class="over"' if n > budget else ""
    return (f'{n / 1024:.1f} KB of {budget / 1024:.0f} KB ({pct:.0f}%) '
            f'<span class="bar"><i{cls} style="width:{min(pct, 100):.0f}%"></i></span>')


def _page(title: str, body: str) -> str:
    e = html.escape
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{e(title)}</title><style>{_CSS}</style><script>{_SCRIPT}</script></head>"
            f"<body>{body}</body></html>\n")


def index_page(source: Source) -> str:
    e = html.escape
    rows, readers = [], []
    for ed in source.editions():
        rows.append(
            f'<tr><td><a href="/edition/{quote(ed.key)}">{e(ed.key)}</a></td><td>{e(ed.subject)}</td>'
            f"<td>{ed.stories}</td><td>{_size(ed.html_bytes, source.budget)}</td>"
            f"<td>{len(ed.readers)}</td></tr>")
        for r in ed.readers:
            readers.append(f'<tr><td><a href="/reader/{quote(r)}">{e(r)}</a></td>'
                           f'<td><a href="/edition/{quote(ed.key)}">{e(ed.key)}</a></td></tr>')
    body = (f"<header><h1>{e(source.newsletter)}: {e(source.date)}</h1></header><main>"
            f"<h2>Editions</h2><table><tr><th>edition</th><th>subject</th><th>stories</th>"
            f"<th>HTML size (Gmail clips past {source.budget // 1024} KB)</th><th>readers</th></tr>"
            f"{''.join(rows)}</table>"
            f"<h2>Recipients</h2><table><tr><th>reader</th><th>edition</th></tr>"
            f"{''.join(readers) or '<tr><td colspan=2>none</td></tr>'}</table></main>")
    return _page(f"{source.newsletter}: {source.date}", body)


def email_page(source: Source, part: Part, raw_path: str) -> str:
    e = html.escape
    headers = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in part.headers)
    frames = "".join(
        f'<div class="frame"><span>{label} ({w} px)</span>'
        f'<iframe title="{label}" src="{raw_path}?dark=0" width="{w}" onload="fit(this)"></iframe></div>'
        for label, w in (("Desktop", 600), ("Phone", 375)))
    body = (f'<header><h1>{e(part.title)}</h1><p><a href="/">All editions</a> · '
            f'<label><input type="checkbox" id="dark" onchange="dark(this.checked)"> dark mode</label> · '
            f"HTML {_size(part.html_bytes, source.budget)}</p></header><main>"
            f'<div class="frames">{frames}</div>'
            + (f"<h2>Headers</h2><table>{headers}</table>" if headers else "")
            + f"<h2>Text part</h2><pre>{e(part.text)}</pre></main>")
    return _page(part.title, body)


def force_dark(page: str) -> str:
    """The email with its dark-mode rules always on, as a client in dark mode shows it."""
    page = _DARK.sub("@media all", page)
    return page.replace("<head>", '<head><style>html{background:#0d1117}</style>', 1)


class _Handler(BaseHTTPRequestHandler):
    server: PreviewServer
    server_version = "digest-preview"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib's name
        log.debug("preview: " + format, *args)

    def do_HEAD(self) -> None:  # noqa: N802 - stdlib's name
        self._answer(head=True)

    def do_GET(self) -> None:  # noqa: N802 - stdlib's name
        self._answer(head=False)

    def _answer(self, *, head: bool) -> None:
        try:
            status, ctype, body = self._route()
        except Exception:  # a preview bug must not kill the server
            log.exception("preview: %s failed", self.path)
            status, ctype, body = HTTPStatus.INTERNAL_SERVER_ERROR, "text/plain", "error (see log)\n"
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", f"{ctype}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def _route(self) -> tuple[HTTPStatus, str, str]:
        src = self.server.source
        url = urlsplit(self.path)
        path = unquote(url.path)
        dark = parse_qs(url.query).get("dark") == ["1"]
        if path in ("/", "/index.html"):
            return HTTPStatus.OK, "text/html", index_page(src)
        kind, _, name = path.strip("/").partition("/")
        raw = kind.startswith("raw-")
        kind = kind.removeprefix("raw-")
        part = (src.edition(name) if kind == "edition" else
                src.reader(name) if kind == "reader" else None)
        if part is None:
            return HTTPStatus.NOT_FOUND, "text/plain", f"not found: {path}\n"
        if raw:
            return HTTPStatus.OK, "text/html", force_dark(part.html) if dark else part.html
        return HTTPStatus.OK, "text/html", email_page(src, part, f"/raw-{kind}/{quote(name)}")
