"""The `digest` command: a thin click layer over digest.app."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from . import __version__, app, message
from . import config as config_mod
from .errors import DigestError, UsageError
from .models import Config

log = logging.getLogger("digest")


# ---------------------------------------------------------------- shared options
# --config, -v and -q work before or after the command: `digest --config F build`
# and `digest build --config F` both work.


def _remember(key: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """Keep the option on the root context, adding up counts given at both levels."""
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
        obj = ctx.find_root().ensure_object(dict)
        if isinstance(value, int):
            obj[key] = obj.get(key, 0) + value
        elif value:
            obj[key] = value
        return value
    return callback


def common(f: Callable) -> Callable:
    f = click.option("--config", "config_path", type=click.Path(dir_okay=False), expose_value=False,
                     callback=_remember("config"), is_eager=True,
                     help="Config file [default: $DIGEST_CONFIG or ./digest.toml].")(f)
    f = click.option("-v", "--verbose", count=True, expose_value=False, callback=_remember("verbose"),
                     is_eager=True, help="More detail (-vv for every item).")(f)
    f = click.option("-q", "--quiet", count=True, expose_value=False, callback=_remember("quiet"),
                     is_eager=True, help="Only errors.")(f)
    return f


def _setup_logging(ctx: click.Context) -> int:
    obj = ctx.find_root().ensure_object(dict)
    level = obj.get("verbose", 0) - obj.get("quiet", 0)
    logging.basicConfig(
        level={-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(max(-1, min(level, 2)),
                                                                           logging.DEBUG),
        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr, force=True)
    return level


def _config(ctx: click.Context) -> Config:
    return config_mod.load(ctx.find_root().ensure_object(dict).get("config"))


def _say(ctx: click.Context, text: str) -> None:
    """The closing summary: stderr, so stdout stays clean for messages; silent with -q."""
    if ctx.find_root().ensure_object(dict).get("quiet", 0) == 0:
        click.echo(text, err=True)


def handled(f: Callable) -> Callable:
    """Turn DigestError into `Error: ...` on stderr and its exit code; traceback only with -v."""
    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        _setup_logging(ctx)
        try:
            return f(*args, **kwargs)
        except DigestError as e:
            if ctx.find_root().ensure_object(dict).get("verbose"):
                log.exception("failed")
            for line in str(e).splitlines() or [type(e).__name__]:
                click.echo(f"Error: {line}", err=True)
            ctx.exit(e.exit_code)
    return wrapper


def _progress(ctx: click.Context, total: int, label: str):
    """A progress bar on stderr when it is a terminal; otherwise nothing."""
    if not sys.stderr.isatty() or total < 2:
        return None
    return click.progressbar(length=total, label=label, file=sys.stderr)


def _date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected a date like 2025-07-03, got {value!r}") from None


date_option = click.option("--date", "date_", metavar="YYYY-MM-DD",
                           help="Edition date [default: today in the config's timezone].")


# ---------------------------------------------------------------- commands


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="digest")
@common
def main() -> None:
    """Build a daily newsletter digest from RSS/Atom feeds.

    \b
    Example:
      digest init && digest build && digest preview
    """


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@common
@handled
def init(directory: Path) -> None:
    """Write a commented starter digest.toml into DIRECTORY.

    \b
    Example:
      digest init mynews && cd mynews && digest build
    """
    target = directory / config_mod.DEFAULT_NAME
    if target.exists():
        raise UsageError(f"{target} exists already; not overwriting it")
    directory.mkdir(parents=True, exist_ok=True)
    samples = Path(__file__).resolve().parent / "samples"
    target.write_text(config_mod.starter(samples), encoding="utf-8")
    click.echo(f"Wrote {target}. Edit it, then run `digest build`.", err=True)


@main.command()
@date_option
@click.option("--rebuild", is_flag=True, help="Build the date's edition again from the current articles.")
@click.option("--offline", is_flag=True, help="Skip fetching; build from what the store holds.")
@click.option("--stdout", "to_stdout", is_flag=True, help="Print the messages to stdout (for sendmail -t).")
@click.option("--to", "to", metavar="EMAIL", help="With --stdout: only this reader's message.")
@click.option("--format", "fmt", type=click.Choice(["eml", "mbox"]), default=None,
              help="With --stdout: one message (eml) or an mbox stream [default: eml with --to, else mbox].")
@click.option("--eml", is_flag=True, help="Also write messages/<address>.eml for each reader.")
@common
@handled
@click.pass_context
def build(ctx: click.Context, date_: str | None, rebuild: bool, offline: bool, to_stdout: bool,
          to: str | None, fmt: str | None, eml: bool) -> None:
    """Collect, select, summarise and render the day's edition into the outbox.

    \b
    Examples:
      digest build
      digest build --offline --date 2025-07-03 --rebuild
      digest build --stdout --to ana@example.org | sendmail -t
    """
    if to and not to_stdout:
        raise UsageError("--to needs --stdout")
    config = _config(ctx)
    bar = _progress(ctx, len(config.feeds), "Collecting") if not offline else None
    with bar or contextlib.nullcontext():
        result = app.build(config, date=_date(date_), rebuild=rebuild, offline=offline, eml=eml,
                           progress=(lambda _r: bar.update(1)) if bar else None)
    day = result.day
    if to_stdout:
        readers = [day.reader(to)] if to else list(config.subscribers)
        if to and day.message(readers[0]) is None:
            raise UsageError(f"nothing new for {to} on {day.date}: no message")
        if (fmt or ("eml" if to else "mbox")) == "eml":
            if len(readers) != 1:
                raise UsageError("--format eml prints one message: name the reader with --to")
            msg = day.message(readers[0])
            if msg is not None:
                sys.stdout.buffer.write(msg.raw)
        else:
            # One message at a time: ten thousand readers' mail never sits in memory at once.
            msgs = (m for r in readers if (m := day.message(r)) is not None)
            for chunk in message.as_mbox(msgs, config.sender, day.built_at):
                sys.stdout.buffer.write(chunk)
        sys.stdout.flush()
    _say(ctx, _summary(result))
    if result.collected.all_failed:
        ctx.exit(1)


@main.command()
@common
@handled
@click.pass_context
def collect(ctx: click.Context) -> None:
    """Fetch every feed into the store, without building.

    \b
    Example:
      digest collect -v
    """
    config = _config(ctx)
    bar = _progress(ctx, len(config.feeds), "Collecting")
    with bar or contextlib.nullcontext():
        result = app.collect(config, progress=(lambda _r: bar.update(1)) if bar else None)
    _say(ctx, _feeds_summary(result) + f", {result.new_articles} new articles")
    if result.all_failed:
        ctx.exit(1)


@main.command()
@date_option
@click.option("--port", type=click.IntRange(0, 65535), default=8420, show_default=True,
              help="Port on 127.0.0.1 (0 picks a free one).")
@click.option("--no-open", is_flag=True, help="Don't open a browser.")
@common
@handled
@click.pass_context
def preview(ctx: click.Context, date_: str | None, port: int, no_open: bool) -> None:
    """Show the built edition in a browser, at desktop and phone width (127.0.0.1 only).

    Reads the store and changes nothing; Ctrl-C stops it.

    \b
    Examples:
      digest preview
      digest preview --date 2025-07-03 --port 8080 --no-open
    """
    import webbrowser

    from . import preview as preview_mod

    config = _config(ctx)
    source = app.preview_source(config, _date(date_))
    try:
        preview_mod.serve(source, port, open_browser=None if no_open else webbrowser.open,
                          ready=lambda url: _say(ctx, f"Previewing {source.newsletter} "
                                                      f"{source.date} at {url} (Ctrl-C to stop)"))
    except OSError as e:
        raise UsageError(f"cannot listen on 127.0.0.1:{port}: {e.strerror or e}; "
                         "try another --port") from e


@main.command()
@date_option
@click.option("--dry-run", is_flag=True, help="List what would be sent; send and record nothing.")
@click.option("--to", "to", metavar="EMAIL", help="Send only this subscriber's message.")
@common
@handled
@click.pass_context
def send(ctx: click.Context, date_: str | None, dry_run: bool, to: str | None) -> None:
    """Send the built edition to its readers over SMTP ([smtp] in the config).

    Each message is recorded the moment the relay accepts it, so running
    send again (after a crash, or from cron) sends only what is missing.
    Exits 1 while any reader is undelivered.

    \b
    Examples:
      digest send --dry-run
      digest send --date 2025-07-03
      digest send --to ana@example.org
    """
    config = _config(ctx)
    with contextlib.ExitStack() as stack:
        bars: list[Any] = []

        def tick(_d: Any, total: int) -> None:
            if not bars:
                bars.append(_progress(ctx, total, "Sending"))
                if bars[0] is not None:
                    stack.enter_context(bars[0])
            if bars[0] is not None:
                bars[0].update(1)

        result = app.send(config, date=_date(date_), to=to, dry_run=dry_run, progress=tick)
    if dry_run:
        for d in result.deliveries:
            what = "would send" if d.status == "pending" else "already sent"
            click.echo(f"{what}\t{d.email}\t{d.edition}")
        _say(ctx, f"dry run, edition {result.date}: {result.count('pending')} to send, "
                  f"{result.count('already-sent')} already sent; nothing sent or recorded")
        return
    for d in result.undelivered:
        click.echo(f"Error: {d.email}: {d.status}: {d.error}", err=True)
    _say(ctx, f"edition {result.date}: {result.count('sent')} sent, "
              f"{result.count('already-sent')} already sent, {result.count('failed')} failed, "
              f"{result.count('deferred')} deferred"
              + (" (run `digest send` again for the deferred)" if result.count("deferred") else ""))
    if result.undelivered:
        ctx.exit(1)


def _feeds_summary(c: app.CollectResult) -> str:
    if not c.feeds:
        return "offline"
    ok = len(c.feeds) - len(c.failed)
    text = f"{ok} feeds ok, {len(c.failed)} failed"
    if c.failed:
        text += " (" + "; ".join(
            f"{f.feed_id}: {f.error}" + (f" [failing {f.failures} runs in a row]"
                                         if f.failures >= app.FAILING_RUNS else "")
            for f in c.failed) + ")"
    moved = [f for f in c.feeds if f.status in ("moved", "gone")]
    if moved:
        text += " [" + "; ".join(f"{f.feed_id} {f.status}" + (f" to {f.new_url}" if f.new_url else "")
                                 for f in moved) + "]"
    return text


def _summary(r: app.BuildResult) -> str:
    plan = r.day.plan
    if not plan.editions:
        return (f"{_feeds_summary(r.collected)}, {r.collected.new_articles} new articles; "
                f"nothing new for {r.day.date}: no edition")
    sizes = sorted(((n, k) for k, n in r.sizes.items()), reverse=True)
    shown = ", ".join(f"{k} {n / 1024:.0f} KB" for n, k in sizes[:5])
    if len(sizes) > 5:
        shown += f", {len(sizes) - 5} more up to {sizes[5][0] / 1024:.0f} KB"
    return (f"{_feeds_summary(r.collected)}, {r.collected.new_articles} new articles; "
            f"edition {r.day.date}{' (as first built)' if r.frozen else ''}: "
            f"{len(plan.editions)} editions ({shown}), "
            f"{len(plan.recipients)} recipients -> {r.folder}")


# ---------------------------------------------------------------- feeds


@main.group()
@common
def feeds() -> None:
    """Feed health, and OPML import and export.

    \b
    Examples:
      digest feeds check
      digest feeds import subscriptions.opml --write
      digest feeds export > feeds.opml
    """


@feeds.command("check")
@common
@handled
@click.pass_context
def feeds_check(ctx: click.Context) -> None:
    """Print each feed's health as the last collect left it: status, last ok, failures, error.

    \b
    Example:
      digest feeds check
    """
    health = app.feed_health(_config(ctx))
    rows = [("feed", "status", "last ok", "failures", "error", "url")]
    for h in health:
        error = h.error + (f" (moved to {h.new_url})" if h.new_url else "")
        rows.append((h.feed_id, h.status or "never checked", h.ok_at.replace("T", " ")[:16] or "never",
                     str(h.failures), _clip(error, 60) or "-", h.url))
    click.echo(_table(rows))
    failing = [h.feed_id for h in health if h.failures >= app.FAILING_RUNS]
    if failing:
        click.echo(f"{len(failing)} failing {app.FAILING_RUNS}+ runs in a row: {', '.join(failing)}",
                   err=True)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


@feeds.command("import")
@click.argument("opml_file", metavar="FILE.opml", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--write", is_flag=True, help="Append the blocks to the config file instead of printing them.")
@common
@handled
@click.pass_context
def feeds_import(ctx: click.Context, opml_file: Path, write: bool) -> None:
    """Turn an OPML file into [[feeds]] and [[topics]] blocks (its folders become topics).

    Prints TOML to paste into the config; --write appends it to the config
    file, leaving the existing text as it is. Feeds already configured are skipped.

    \b
    Examples:
      digest feeds import subscriptions.opml >> digest.toml
      digest feeds import subscriptions.opml --write
    """
    path = config_mod.find(ctx.find_root().ensure_object(dict).get("config"))
    config = _config(ctx) if write or path.exists() else None
    text, imported = app.import_opml(opml_file, config, write=write)
    if write:
        assert config is not None
        _say(ctx, f"Added {len(imported.feeds)} feeds and {len(imported.topics)} topics to {config.path}"
             + (f"; skipped {len(imported.skipped)}" if imported.skipped else ""))
    else:
        click.echo(text, nl=False)


@feeds.command("export")
@common
@handled
@click.pass_context
def feeds_export(ctx: click.Context) -> None:
    """Print the configured feeds as OPML, a folder per topic.

    \b
    Example:
      digest feeds export > feeds.opml
    """
    click.echo(app.export_opml(_config(ctx)), nl=False)
