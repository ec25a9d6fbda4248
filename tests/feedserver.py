"""A real threaded HTTP server on loopback whose paths misbehave on purpose.

Used by the collector tests and by bench/time_collect.py. Each path is a
small function of the request; the server counts hits, bytes sent and the
most requests it had in flight at once.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

Route = Callable[["Handler"], None]


# Unrelated subjects, so that no two test stories look like the same story to dedup.
_SUBJECTS = ("harbour cranes", "a comet survey", "river floods", "chess finals", "bread prices",
             "glacier melt", "a jazz festival", "railway signals", "orchard frost", "satellite radar",
             "museum thefts", "wind turbines", "school meals", "coral bleaching", "copper mines",
             "a marathon record", "bee colonies", "ferry strikes", "desert solar", "violin makers")


def rss(title: str, items: int, *, prefix: str = "", now: dt.datetime | None = None) -> bytes:
    """A small valid RSS 2.0 feed whose items are an hour apart, newest first.

    Item i is titled "<title> story <i>: <subject>", each with its own subject and lead.
    """
    now = now or dt.datetime.now(dt.UTC)
    slug = prefix or title.lower().replace(" ", "-")
    seed = sum(map(ord, title))

    def subject(i: int) -> str:
        return _SUBJECTS[(seed * 7 + i * 3) % len(_SUBJECTS)]

    body = "".join(
        f"<item><title>{title} story {i}: {subject(i)}</title>"
        f"<link>https://news.example.org/{slug}/{i}</link>"
        f"<guid>{slug}-{i}</guid><pubDate>{email.utils.format_datetime(now - dt.timedelta(hours=i))}"
        f"</pubDate><description>&lt;p&gt;{subject(i).capitalize()} in {title} number {seed + i}: "
        f"{' '.join(reversed(subject(i + 5).split()))} {i * 37} times.&lt;/p&gt;</description></item>"
        for i in range(1, items + 1))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
            f"<link>https://news.example.org/{slug}/</link>{body}</channel></rss>").encode()


def gzip_member(zeros: int) -> bytes:
    """One gzip member holding `zeros` zero bytes (about 1000:1)."""
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1024 * 1024)
    out = [c.compress(block) for _ in range(zeros // len(block))]
    return b"".join(out) + c.flush()


class Handler(BaseHTTPRequestHandler):
    server: FeedServer

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        srv = self.server
        with srv.lock:
            srv.hits[path] += 1
            srv.user_agents.append(self.headers.get("User-Agent", ""))
            srv.in_flight += 1
            srv.max_in_flight = max(srv.max_in_flight, srv.in_flight)
        try:
            route = srv.routes.get(path)
            if route is None:
                self.reply(404, b"not here", "text/plain")
            else:
                route(self)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up, as it should on a bomb
        finally:
            with srv.lock:
                srv.in_flight -= 1

    def reply(self, code: int, body: bytes = b"", ctype: str = "application/rss+xml",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.write(body)

    def write(self, data: bytes) -> None:
        self.wfile.write(data)
        with self.server.lock:
            self.server.sent[self.path.split("?")[0]] += len(data)


class FeedServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str = "127.0.0.1"):
        super().__init__((host, 0), Handler)
        self.routes: dict[str, Route] = {}
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()
        self.user_agents: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}{path}"

    def start(self) -> FeedServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    # ------------------------------------------------------------ route makers

    def static(self, path: str, body: bytes, ctype: str = "application/rss+xml", *,
               etag: str = "", last_modified: str = "", delay: float = 0.0) -> None:
        """A feed with optional validators; a matching conditional request gets 304."""
        def route(h: Handler) -> None:
            if delay:
                time.sleep(delay)
            headers = {}
            if etag:
                headers["ETag"] = etag
            if last_modified:
                headers["Last-Modified"] = last_modified
            if (etag and h.headers.get("If-None-Match") == etag) or (
                    last_modified and not etag and h.headers.get("If-Modified-Since") == last_modified):
                h.send_response(304)
                for k, v in headers.items():
                    h.send_header(k, v)
                h.end_headers()
                return
            h.reply(200, body, ctype, headers)
        self.routes[path] = route

    def status(self, path: str, code: int, headers: dict[str, str] | None = None) -> None:
        self.routes[path] = lambda h: h.reply(code, b"<html><body>no</body></html>", "text/html", headers)

    def redirect(self, path: str, code: int, to: str) -> None:
        self.routes[path] = lambda h: h.reply(code, b"", "text/plain", {"Location": to})

    def stall(self, path: str, seconds: float, body: bytes = b"") -> None:
        """Wait before answering at all (tests the read timeout)."""
        def route(h: Handler) -> None:
            time.sleep(seconds)
            h.reply(200, body or rss("Late", 1))
        self.routes[path] = route

    def trickle(self, path: str, seconds: float) -> None:
        """Answer at once, then send a byte every 0.1 s for `seconds` (tests the total deadline)."""
        def route(h: Handler) -> None:
            h.send_response(200)
            h.send_header("Content-Type", "application/rss+xml")
            h.end_headers()
            h.write(b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>')
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                h.write(b" ")
                h.wfile.flush()
                time.sleep(0.1)
        self.routes[path] = route

    def huge(self, path: str, size: int) -> None:
        """A body of `size` bytes, streamed."""
        def route(h: Handler) -> None:
            h.send_response(200)
            h.send_header("Content-Type", "application/rss+xml")
            h.send_header("Content-Length", str(size))
            h.end_headers()
            head = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title><description>'
            h.write(head)
            chunk = b"x" * 65536
            left = size - len(head)
            while left > 0:
                h.write(chunk[:left])
                left -= len(chunk)
        self.routes[path] = route

    def bomb(self, path: str, member: bytes, repeat: int) -> None:
        """A gzip body of `repeat` copies of `member` (valid multi-member gzip), no length."""
        def route(h: Handler) -> None:
            h.send_response(200)
            h.send_header("Content-Type", "application/rss+xml")
            h.send_header("Content-Encoding", "gzip")
            h.send_header("Connection", "close")
            h.end_headers()
            for _ in range(repeat):
                h.write(member)
        self.routes[path] = route

    def files(self, prefix: str, folder: Path) -> dict[str, str]:
        """Serve every file in `folder` under `prefix`; return name -> URL."""
        out = {}
        for p in sorted(folder.iterdir()):
            ctype = "application/feed+json" if p.suffix == ".json" else "application/xml"
            self.static(f"{prefix}{p.name}", p.read_bytes(), ctype, etag=f'"{p.stat().st_size}"')
            out[p.name] = self.url(f"{prefix}{p.name}")
        return out


def json_feed(title: str, items: int) -> bytes:
    now = dt.datetime.now(dt.UTC)
    return json.dumps({
        "version": "https://jsonfeed.org/version/1.1", "title": title,
        "home_page_url": "https://json.example.org/",
        "items": [{"id": f"j{i}", "url": f"/posts/{i}", "title": f"{title} post {i}: {_SUBJECTS[-i]}",
                   "content_html": f"<p>{_SUBJECTS[-i - 5].capitalize()}, post {i} of {title}.</p>",
                   "date_published": (now - dt.timedelta(hours=i)).isoformat()}
                  for i in range(1, items + 1)],
    }).encode()
