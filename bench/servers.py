"""Loopback servers for the benchmark: a feed server with conditional GET, and an SMTP sink."""

from __future__ import annotations

import hashlib
import multiprocessing
import socket
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class FeedServer:
    """Serves files from memory on 127.0.0.1:0, answering 304 to a matching ETag or date.

    With `hosts` > 1 the same files are served from 127.0.0.1, 127.0.0.2, ...
    (one server per address), and `url(i, name)` spreads feed i over them, so
    a per-host limit sees what it sees in the wild, where feeds come from many
    publishers, instead of one host holding every feed.
    """

    def __init__(self, files: list[Path] | tuple[Path, ...], hosts: int = 1):
        if not 1 <= hosts <= 254:
            raise ValueError("hosts must be between 1 and 254 (127.0.0.1 to 127.0.0.254)")
        stamp = formatdate(time.time() - 60, usegmt=True)
        self.bodies = {
            f"/{p.name}": (data, f'"{hashlib.sha1(data).hexdigest()}"', stamp)
            for p in files
            for data in [p.read_bytes()]
        }
        self.counts = {"200": 0, "304": 0, "404": 0}
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real server would

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                found = server.bodies.get(self.path)
                if found is None:
                    server._count("404")
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data, etag, modified = found
                inm = self.headers.get("If-None-Match")
                ims = self.headers.get("If-Modified-Since")
                # RFC 9110: If-None-Match wins; If-Modified-Since only when it is absent.
                fresh = (
                    (etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*")
                    if inm
                    else (ims == modified if ims else False)
                )
                if fresh:
                    server._count("304")
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Last-Modified", modified)
                    self.end_headers()
                    return
                server._count("200")
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", modified)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.httpds = []
        for i in range(hosts):
            httpd = ThreadingHTTPServer((f"127.0.0.{i + 1}", 0), Handler)
            httpd.daemon_threads = True
            httpd.request_queue_size = 128
            self.httpds.append(httpd)
        self.bases = [f"http://{h.server_address[0]}:{h.server_address[1]}" for h in self.httpds]
        self.port = self.httpds[0].server_address[1]
        self.base = self.bases[0]
        self._threads = [
            threading.Thread(target=h.serve_forever, daemon=True) for h in self.httpds
        ]

    def url(self, index: int, name: str) -> str:
        """The URL of file `name`, feed number `index`: consecutive feeds on different hosts."""
        return f"{self.bases[index % len(self.bases)]}/{name}"

    def _count(self, key: str) -> None:
        with self._lock:
            self.counts[key] += 1

    def reset(self) -> None:
        with self._lock:
            self.counts = dict.fromkeys(self.counts, 0)

    def __enter__(self) -> FeedServer:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for h in self.httpds:
            h.shutdown()
            h.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sink_main(port: int, count, size, ready, stop) -> None:  # runs in its own process
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's naming
            with count.get_lock():
                count.value += 1
            with size.get_lock():
                size.value += len(envelope.content or b"")
            return "250 OK"

    controller = Controller(
        Handler(), hostname="127.0.0.1", port=port, data_size_limit=64 * 1024 * 1024
    )
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


class SmtpSink:
    """An aiosmtpd server on 127.0.0.1 in a process of its own, counting what it accepts.

    A process of its own so that it does not share a GIL with whoever measures.
    """

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.port = free_port()
        self._count = ctx.Value("q", 0)
        self._size = ctx.Value("q", 0)
        self._ready = ctx.Event()
        self._stop = ctx.Event()
        self._proc = ctx.Process(
            target=_sink_main,
            daemon=True,
            args=(self.port, self._count, self._size, self._ready, self._stop),
        )

    @property
    def messages(self) -> int:
        return self._count.value

    @property
    def bytes(self) -> int:
        return self._size.value

    def reset(self) -> None:
        with self._count.get_lock():
            self._count.value = 0
        with self._size.get_lock():
            self._size.value = 0

    def __enter__(self) -> SmtpSink:
        self._proc.start()
        if not self._ready.wait(30):
            self._proc.kill()
            raise RuntimeError("the SMTP sink did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()
