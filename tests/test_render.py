"""The HTML email: inlining, email-client rules, escaping, size budget, template overrides."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import mjml
import premailer
import pytest

from digest import render
from digest.errors import ConfigError
from digest.render import HTML_BUDGET, STYLE_LIMIT, Renderer

from . import emails


@pytest.fixture
def cfg(sample: Path):
    return emails.config(sample)


@pytest.fixture
def rendered(cfg):
    return Renderer(cfg).render(emails.sample_edition())


class _Tags(HTMLParser):
    """Every start tag with its attributes, in document order."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def all(self, name: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == name]


def _styles(page: str) -> list[str]:
    return re.findall(r"<style[^>]*>(.*?)</style>", page, flags=re.DOTALL)


def _media_blocks(css: str) -> list[str]:
    return [b for b in render.split_css(css)[1] if b.startswith("@media")]


def _comments(page: str) -> list[str]:
    """Every HTML comment: Outlook's conditional blocks and the downlevel-revealed markers."""
    return re.findall(r"<!--.*?-->", page, flags=re.DOTALL)


# ---------------------------------------------------------------- inlining


def test_doctype_is_kept(rendered):
    assert rendered.html.startswith("<!doctype html>\n<html")


def test_every_media_query_and_important_is_kept(cfg, rendered):
    r = Renderer(cfg)
    raw = mjml.mjml2html(r.mjml_source(emails.sample_edition()), fonts={})
    mjml_media = [m for css in _styles(raw) for m in re.findall(r"@media[^{]*\{.*?\}\s*\}", css, re.DOTALL)]
    theme_media = _media_blocks(r.inline_css + "\n" + "\n".join(r.head_css))
    assert mjml_media and len(theme_media) == 2  # responsive columns; phone sizes + dark mode
    for block in mjml_media + theme_media:
        assert block in rendered.html
    assert rendered.html.count("!important") >= sum(b.count("!important") for b in mjml_media + theme_media)


def test_outlook_conditional_comments_are_kept(cfg, rendered):
    raw = mjml.mjml2html(Renderer(cfg).mjml_source(emails.sample_edition()), fonts={})
    kept = _comments(rendered.html)
    assert sum(c.startswith("<!--[if") for c in kept) > 10
    assert set(kept) <= set(_comments(raw))  # each comes from MJML's output, unchanged
    assert not [c for c in kept if c.startswith("<!--digest:")]  # the cutting marks are gone


def test_only_the_theme_css_is_inlined(rendered):
    body = rendered.html.split("<body", 1)[1]
    # MJML's reset (p { margin: 13px 0 }) stays in <head>, not copied onto every paragraph.
    assert "margin:13px 0" not in body.replace(" ", "")
    h1 = _Tags(rendered.html).all("h1")[0]
    assert "font-size:30px" in h1["style"].replace(" ", "")


def test_inliner_touches_no_network(monkeypatch):
    def refuse(self, url):
        raise AssertionError(f"premailer fetched {url}")

    monkeypatch.setattr(premailer.Premailer, "_load_external", refuse)
    page = ('<!doctype html><html><head><link rel="stylesheet" href="https://example.com/x.css">'
            '</head><body><p class="lead">x</p></body></html>')
    out = render.inline(page, "p.lead { color: #111111; }")
    assert 'style="color:#111"' in out  # cssutils shortens colours


def test_no_web_fonts_scripts_forms_or_remote_css(rendered):
    page = rendered.html.lower()
    for banned in ("<script", "<form", "<input", "<link", "@import", "@font-face",
                   "fonts.googleapis", "javascript:"):
        assert banned not in page, banned


@pytest.mark.parametrize("title", ["<script>alert(1)</script> & Co", 'Quote " and <b>bold</b>'],
                         ids=["script-and-ampersand", "quote-and-tag"])
def test_feed_text_is_escaped(cfg, title):
    ed = emails.edition({"superpowers": [emails.story(1, title=title, lead=title + " lead.")]})
    r = Renderer(cfg).render(ed)
    assert "<script" not in r.html and "<b>bold" not in r.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in r.html or "&lt;b&gt;bold" in r.html
    assert title in r.text  # the text part is plain text: nothing to escape


# ---------------------------------------------------------------- email-client rules


def test_html_has_lang_dir_and_color_scheme(rendered):
    tags = _Tags(rendered.html)
    html_attrs = tags.all("html")[0]
    assert html_attrs["lang"] == "en" and html_attrs["dir"] == "ltr"
    metas = {m.get("name"): m.get("content") for m in tags.all("meta")}
    assert metas["color-scheme"] == "light dark"
    assert "@media (prefers-color-scheme: dark)" in rendered.html


def test_layout_is_600px_tables_with_role_presentation(rendered):
    tables = _Tags(rendered.html).all("table")
    assert tables and all(t.get("role") == "presentation" for t in tables)
    assert "max-width:600px" in rendered.html
    assert 'width="600"' in rendered.html  # the Outlook ghost tables


def test_style_blocks_fit_gmail(rendered):
    styles = _styles(rendered.html)
    assert all(len(s.encode()) < STYLE_LIMIT for s in styles)
    assert sum(len(s.encode()) for s in styles) < STYLE_LIMIT


def test_headings_one_h1_then_in_order(rendered):
    levels = [int(t[1]) for t, _ in _Tags(rendered.html).tags if re.fullmatch(r"h[1-6]", t)]
    assert levels.count(1) == 1 and levels[0] == 1
    for before, after in zip(levels, levels[1:], strict=False):
        assert after <= before + 1, levels


def test_images_have_alt_width_and_height(sample: Path):
    cfg = emails.config(sample)
    text = sample.read_text().replace("show_images = true",
                                      'show_images = true\nlogo_url = "https://example.org/logo.png"')
    sample.write_text(text)
    from digest import config as config_mod
    cfg = config_mod.load(sample)
    r = Renderer(cfg).render(emails.sample_edition())
    imgs = _Tags(r.html).all("img")
    assert len(imgs) == 4  # the logo and three thumbnails
    for img in imgs:
        assert img.get("alt") and img.get("width") and img.get("height"), img


def test_preheader_leads_with_headlines_and_is_padded_not_disguised(rendered):
    div = re.search(r'<div class="preheader" style="([^"]*)">(.*?)</div>', rendered.html, re.DOTALL)
    assert div
    style, text = div.groups()
    assert text.startswith("Interceptor test number 1 meets its goals · Interceptor test number 4")
    assert text.count("\u034f\u200c") >= 60 or text.count("&#847;&zwnj;") >= 60
    assert "display:none" in style and "color" not in style and "font-size" not in style


def test_readable_at_320px(rendered):
    # Nothing fixed-width wider than a phone outside MJML's Outlook-only ghost tables.
    visible = re.sub(r"<!--\[if.*?<!\[endif\]-->", "", rendered.html, flags=re.DOTALL)
    widths = [int(w) for w in re.findall(r"(?<![-\w])width:\s*(\d+)px", visible)]
    assert max(widths, default=0) <= 300
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in rendered.html


# ---------------------------------------------------------------- subject, text part


def test_subject_defaults_to_name_date_and_top_headline(rendered):
    assert rendered.subject == ("Defence Daily, Friday 4 July 2025: "
                                "Interceptor test number 1 meets its goals")


def test_subject_template_from_config(sample: Path):
    cfg = emails.config(sample, 'subject = "{name} · {count} stories · {headline}"')
    r = Renderer(cfg).render(emails.sample_edition())
    assert r.subject == "Defence Daily · 12 stories · Interceptor test number 1 meets its goals"


@pytest.mark.parametrize(("value", "message"), [
    ('"{name} {nope}"', "digest.subject: unknown field {nope} (expected {name}, {date}, "
                        "{headline} or {count})"),
    ('"{name"', "digest.subject: expected text with {name}, {date}, {headline} or {count}: "
                "expected '}' before end of string"),
], ids=["unknown-field", "unclosed"])
def test_subject_template_errors(sample: Path, value, message):
    with pytest.raises(ConfigError) as e:
        emails.config(sample, f"subject = {value}")
    assert e.value.problems == [f"digest.toml: {message}"]


def test_text_part_wraps_at_76(cfg):
    ed = emails.edition({"superpowers": [emails.story(1, lead=emails.LONG_LEAD * 2),
                                         emails.story(2, title="A " * 60 + "headline")]},
                        more={"superpowers": [emails.story(3, title="Long " * 30)]})
    text = Renderer(cfg).render(ed).text
    for line in text.splitlines():
        assert len(line) <= 76 or line.strip().startswith(("Read more: https://", "https://")), line
    assert "SUPERPOWERS\n-----------" in text
    assert "  Read more: https://www.spacewar.example.com/reports/story_1.html" in text


# ---------------------------------------------------------------- size budget


def test_stress_day_fits_the_budget_rendering_once(sample: Path, monkeypatch):
    cfg = emails.config(sample)
    stories = [emails.story(n, title=f"Story {n}: " + "a long headline about missiles " * 3,
                            lead=emails.LONG_LEAD * 2, also=2, image=n % 5 == 0)
               for n in range(200)]
    ed = emails.edition({"superpowers": stories[:120], "missile-defense": stories[120:]})
    renderer = Renderer(cfg)
    calls = []
    real = renderer.pieces
    monkeypatch.setattr(renderer, "pieces", lambda *a: calls.append(a) or real(*a))
    r = renderer.render(ed)
    assert r.html_bytes <= HTML_BUDGET
    assert len(calls) == 1  # sizes of other layouts are sums of known pieces: no re-render
    assert "More headlines" in r.html and len(r.article_ids) == 200
    # As many full stories as fit: one more would not.
    kept = sum(1 for _ in re.finditer(r'class="headline"', r.html))
    assert 0 < kept < 200
    more = renderer._assemble(real(ed.date, ed.stories, [s.topic for s in ed.sections]), ed,
                              r.subject, kept + 1)
    assert more.html_bytes > HTML_BUDGET


def test_a_day_too_big_even_as_headlines_keeps_what_fits_and_links_the_rest(cfg):
    stories = [emails.story(n, title=f"{n} " + "x" * 400) for n in range(400)]
    r = Renderer(cfg).render(emails.edition({"superpowers": stories[:200],
                                             "missile-defense": stories[200:]}))
    assert r.html_bytes <= HTML_BUDGET
    kept = len(r.article_ids)
    assert 50 < kept < 400 and 'class="headline"' not in r.html
    assert f"{400 - kept} more stories today:" in r.html
    assert f"{400 - kept} more stories today: https://example.org/defence-daily" in r.text


# ---------------------------------------------------------------- templates and theme


def test_templates_folder_overrides_by_name_and_can_extend_builtin(sample: Path):
    folder = sample.parent / "mytemplates"
    folder.mkdir()
    (folder / "digest.mjml").write_text(
        '{% extends "builtin/digest.mjml" %}\n{% block footer %}'
        '<mj-section><mj-column><mj-text><p>Custom footer {{ unsubscribe_url }}</p>'
        "</mj-text></mj-column></mj-section>{% endblock %}\n")
    (folder / "digest.txt").write_text("Just the text: {{ newsletter }}\n")
    cfg = emails.config(sample, 'templates = "mytemplates"')
    r = Renderer(cfg).render(emails.sample_edition())
    assert "Custom footer %%DIGEST_UNSUBSCRIBE%%" in r.html
    assert "View in your browser" not in r.html and "Interceptor test number 1" in r.html
    assert r.text == "Just the text: Defence Daily\n"


def test_theme_settings_reach_the_html(sample: Path):
    text = sample.read_text().replace('accent = "#0b4f8a"', 'accent = "#a0142c"\nfont_stack = "Georgia, serif"')
    sample.write_text(text)
    from digest import config as config_mod
    r = Renderer(config_mod.load(sample)).render(emails.sample_edition())
    assert "#a0142c" in r.html and "Georgia, serif" in r.html
    assert render.lighten("#a0142c") in r.html  # the dark-mode accent
    assert "<member" not in r.html


@pytest.mark.parametrize(("line", "message"), [
    ('accent = "red"', "digest.theme.accent: expected a colour like '#0b4f8a', got 'red'"),
    ("logo_width = 900", "digest.theme.logo_width: expected a width or height in pixels (1 to 600), got 900"),
    ('font_stack = "x; } body { color: red"', "digest.theme.font_stack: expected a CSS font list, "
                                              "got 'x; } body { color: red'"),
    ("colour = 1", "digest.theme.colour: unknown key (expected one of: accent, font_stack, "
                   "logo_height, logo_url, logo_width, show_images)"),
], ids=["accent", "logo-width", "font-stack-injection", "unknown-key"])
def test_theme_errors(sample: Path, line, message):
    text = sample.read_text()
    if line.startswith("accent"):
        text = text.replace('accent = "#0b4f8a"', "")
    sample.write_text(text.replace("show_images = true", f"show_images = true\n{line}"))
    from digest import config as config_mod
    with pytest.raises(ConfigError) as e:
        config_mod.load(sample)
    assert e.value.problems == [f"digest.toml: {message}"]


@pytest.mark.parametrize(("line", "message"), [
    ('unsubscribe_mailto = "https://example.org/u"',
     "digest.unsubscribe_mailto: expected a mailto: URL like "
     "'mailto:unsubscribe@example.org?subject=unsubscribe', got 'https://example.org/u'"),
    ('address = 3', "digest.address: expected a string, got 3"),
], ids=["mailto-not-mailto", "address-type"])
def test_digest_key_errors(sample: Path, line, message):
    with pytest.raises(ConfigError) as e:
        emails.config(sample, line)
    assert e.value.problems == [f"digest.toml: {message}"]


def test_footer_shows_the_configured_address(rendered):
    assert "Defence Daily · Defence Daily, 1 Example Street, London" in rendered.html
