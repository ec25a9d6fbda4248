"""Headless Chromium for the email tests and the README screenshots (no network but loopback)."""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path


def chromium() -> str | None:
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and (path := shutil.which(name)):
            return path
    return None


def _run(args: list[str], timeout: int = 90) -> str:
    profile = tempfile.mkdtemp(prefix="digest-chromium-")
    try:
        cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--no-first-run", "--hide-scrollbars", f"--user-data-dir={profile}",
               # Feed images point at the internet: resolve nothing but loopback.
               "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              check=True).stdout
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve `folder` on 127.0.0.1 (file:// iframes are cross-origin to their parent)."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as srv:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{srv.server_address[1]}/"
        finally:
            srv.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


_HARNESS = """<!doctype html><html><head><meta charset="utf-8"></head><body style="margin:0">
<iframe id="f" src="{src}" width="{width}" height="4000" style="border:0;display:block"></iframe>
<pre id="result">pending</pre>
<script>
document.getElementById('f').addEventListener('load', () => {{
  const f = document.getElementById('f'), d = f.contentDocument, w = f.contentWindow;
  const heads = [...d.querySelectorAll('h3.headline, a.more-item, h1, h2')];
  const hidden = heads.filter(h => {{
    const r = h.getBoundingClientRect(), cs = w.getComputedStyle(h);
    return r.width <= 0 || r.height <= 0 || r.left < -1 || r.right > w.innerWidth + 1
      || cs.visibility === 'hidden' || cs.display === 'none' || cs.opacity === '0';
  }}).map(h => h.textContent.trim());
  document.getElementById('result').textContent = JSON.stringify({{
    width: w.innerWidth, scrollWidth: d.documentElement.scrollWidth,
    headlines: heads.length, hidden: hidden}});
}});
</script></body></html>
"""


def measure(folder: Path, page: str, width: int) -> dict:
    """Load `page` (in `folder`) in an iframe `width` px wide; report overflow and hidden headlines."""
    harness = folder / f"harness-{width}.html"
    harness.write_text(_HARNESS.format(src=page, width=width), encoding="utf-8")
    with serve(folder) as base:
        dom = _run(["--window-size=1280,1000", "--virtual-time-budget=5000", "--dump-dom",
                    base + harness.name])
    start = dom.index('<pre id="result">') + len('<pre id="result">')
    return json.loads(dom[start:dom.index("</pre>", start)])


def screenshot(folder: Path, page: str, out: Path, width: int, height: int) -> Path:
    """A PNG of `page` in a window `width` x `height`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with serve(folder) as base:
        _run([f"--window-size={width},{height}", "--virtual-time-budget=5000",
              f"--screenshot={out}", base + page])
    return out


def readme_screenshots(docs: Path) -> list[Path]:
    """docs/email-desktop.png and docs/email-phone.png: Ana's email from the bundled sample."""
    import datetime as dt

    from digest import app
    from digest import config as config_mod

    repo = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        shutil.copy(repo / "config.example.toml", base / "digest.toml")
        shutil.copytree(repo / "digest" / "samples", base / "digest" / "samples")
        cfg = config_mod.load(base / "digest.toml")
        day = app.build(cfg, date=dt.date(2025, 7, 4),
                        now=dt.datetime(2025, 7, 4, 5, 0, tzinfo=dt.UTC)).day
        from digest import message
        sent = day.message(day.reader("ana@example.org"))
        assert sent is not None
        html = message.parse(sent.raw).get_body(("html",))
        assert html is not None
        (base / "ana.html").write_text(html.get_content(), encoding="utf-8")
        return [screenshot(base, "ana.html", docs / "email-desktop.png", 800, 1500),
                screenshot(base, "ana.html", docs / "email-phone.png", 375, 1400)]


if __name__ == "__main__":  # python -m tests.browser: refresh the README screenshots
    for path in readme_screenshots(Path(__file__).resolve().parent.parent / "docs"):
        print(path)
