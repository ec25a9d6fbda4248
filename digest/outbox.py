"""The outbox: a folder per date with the editions, messages, manifest and preview index.

Every file is written atomically (temp file in the same folder, then rename),
so a crash never leaves a half-written file; the manifest is written last.
"""

from __future__ import annotations

import html
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_UMASK = os.umask(0)
os.umask(_UMASK)


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write `data` to `path` so readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; outbox files are for sharing
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def day_folder(outbox: Path, date: str) -> Path:
    return outbox / date


def edition_paths(folder: Path, key: str) -> tuple[Path, Path]:
    return folder / "editions" / f"{key}.html", folder / "editions" / f"{key}.txt"


def message_path(folder: Path, email: str) -> Path:
    return folder / "messages" / f"{email.lower()}.eml"


def write_manifest(folder: Path, manifest: Mapping[str, Any]) -> Path:
    path = folder / "manifest.json"
    write_atomic(path, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return path


def read_manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def write_index(folder: Path, manifest: Mapping[str, Any]) -> Path:
    """A static index of the day's editions, for opening the outbox in a browser."""
    e = html.escape
    readers_of: dict[str, list[str]] = {}
    for r in manifest["recipients"]:
        readers_of.setdefault(r["edition"], []).append(r["email"])
    rows = []
    for ed in manifest["editions"]:
        readers = readers_of.get(ed["key"], [])
        links = (f'<a href="{e(ed["html"])}">HTML</a> · <a href="{e(ed["text"])}">text</a>'
                 if ed["html"] else "assembled on demand")
        rows.append(
            f"<tr><td>{e(ed['key'])}</td><td>{e(ed['subject'])}</td><td>{len(ed['articles'])}</td>"
            f"<td>{ed['html_bytes'] / 1024:.1f} KB</td><td>{links}</td>"
            f"<td>{e(', '.join(readers)) or '&mdash;'}</td></tr>")
    feeds = "".join(
        f"<tr><td>{e(f['id'])}</td><td>{e(f['status'])}</td><td>{e(f['error'])}</td>"
        f"<td>{f['new_articles']}</td></tr>" for f in manifest["feeds"])
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{e(manifest['newsletter'])}: {e(manifest['date'])}</title>
<style>body{{font:15px/1.5 system-ui,sans-serif;margin:2em;color:#1f2328}}table{{border-collapse:collapse}}
td,th{{border-bottom:1px solid #d0d7de;padding:4px 10px;text-align:left;vertical-align:top}}</style></head>
<body><h1>{e(manifest['newsletter'])}: {e(manifest['date'])}</h1>
<p>{len(manifest['articles'])} stories, {len(manifest['editions'])} editions,
{len(manifest['recipients'])} recipients. Built {e(manifest['built_at'])}.</p>
<h2>Editions</h2><table><tr><th>edition</th><th>subject</th><th>stories</th><th>size</th><th>files</th><th>readers</th></tr>
{''.join(rows)}</table>
<h2>Feeds</h2><table><tr><th>feed</th><th>status</th><th>error</th><th>new</th></tr>{feeds}</table>
</body></html>
"""
    path = folder / "index.html"
    write_atomic(path, page)
    return path
