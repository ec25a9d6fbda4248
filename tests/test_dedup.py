"""Tests for digest.dedup: canonical links, near-duplicate stories, grouping."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.dedup import canonical_url

# ---------------------------------------------------------------- canonical_url

CANONICAL = [
    ("http-is-https", "http://example.com/a", "https://example.com/a"),
    ("www-dropped", "https://www.example.com/a", "https://example.com/a"),
    ("only-leading-www", "https://www2.example.com/a", "https://www2.example.com/a"),
    ("host-lowered-path-kept", "https://Example.COM/News/Story", "https://example.com/News/Story"),
    ("default-port-http", "http://example.com:80/a", "https://example.com/a"),
    ("default-port-https", "https://example.com:443/a", "https://example.com/a"),
    ("other-port-kept", "https://example.com:8443/a", "https://example.com:8443/a"),
    ("trailing-slash", "https://example.com/a/b/", "https://example.com/a/b"),
    ("root-slash", "https://example.com/", "https://example.com"),
    ("fragment", "https://example.com/a#comments", "https://example.com/a"),
    ("utm", "https://example.com/a?utm_source=rss&utm_medium=feed", "https://example.com/a"),
    ("utm-any-case", "https://example.com/a?UTM_Campaign=x", "https://example.com/a"),
    ("click-ids", "https://example.com/a?fbclid=1&gclid=2&msclkid=3&yclid=4", "https://example.com/a"),
    ("mailchimp", "https://example.com/a?mc_cid=1&mc_eid=2", "https://example.com/a"),
    ("hubspot", "https://example.com/a?_hsenc=1&_hsmi=2", "https://example.com/a"),
    ("instagram-cmpid", "https://example.com/a?igshid=1&cmpid=2", "https://example.com/a"),
    ("ref-src-twitter", "https://example.com/a?ref_src=twsrc%5Etfw", "https://example.com/a"),
    ("ref-rss", "https://example.com/a?ref=rss", "https://example.com/a"),
    ("ref-branch-kept", "https://github.com/o/r/blob/x?ref=main", "https://github.com/o/r/blob/x?ref=main"),
    ("params-sorted", "https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
    ("tracking-among-real", "https://example.com/a?id=7&utm_source=x&p=2", "https://example.com/a?id=7&p=2"),
    ("empty-segments", "https://example.com/a?&id=7&", "https://example.com/a?id=7"),
    ("value-encoding-kept", "https://example.com/a?q=a%20b", "https://example.com/a?q=a%20b"),
    ("scheme-relative", "//www.example.com/a/", "https://example.com/a"),
    ("trailing-dot-host", "https://example.com./a", "https://example.com/a"),
    ("ipv6", "http://[2001:DB8::1]:8080/x", "https://[2001:db8::1]:8080/x"),
    ("everything", "HTTP://WWW.Example.com:80/A/?utm_source=x&b=2&a=1&fbclid=9#top", "https://example.com/A?a=1&b=2"),
    ("ftp-kept", "ftp://FTP.example.org:21/pub/", "ftp://ftp.example.org/pub"),
    ("garbage-words", "  not a url  ", "not a url"),
    ("garbage-empty", "", ""),
    ("garbage-blank", " \t\n", ""),
    ("garbage-bad-ipv6", "http://[::1", "http://[::1"),
    ("garbage-bad-port", " http://example.com:abc/ ", "http://example.com:abc/"),
    ("garbage-no-host", "http:///path", "http:///path"),
    ("garbage-mailto", "mailto:news@example.com", "mailto:news@example.com"),
    ("garbage-relative", "/2024/05/story.html", "/2024/05/story.html"),
    ("garbage-no-scheme", "example.com/a", "example.com/a"),
]


@pytest.mark.parametrize(
    ("url", "expected"), [c[1:] for c in CANONICAL], ids=[c[0] for c in CANONICAL]
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("http://www.example.com/story/?utm_source=rss#x", "https://example.com/story"),
        ("https://example.com/s?b=2&a=1&fbclid=z", "https://EXAMPLE.com:443/s?a=1&b=2"),
    ],
    ids=["feed-vs-share-link", "reordered-with-click-id"],
)
def test_canonical_url_equal_links(a: str, b: str) -> None:
    assert canonical_url(a) == canonical_url(b)


@given(st.text())
def test_canonical_url_never_raises_and_is_a_fixed_point(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once


@given(
    st.sampled_from(["http", "https", "HTTP"]),
    st.sampled_from(["example.com", "www.Example.org", "news.example.co.uk"]),
    st.lists(st.text("abcXYZ-_.~%2F", min_size=1, max_size=6), max_size=4),
    st.lists(
        st.tuples(st.sampled_from(["id", "p", "utm_source", "fbclid", "ref"]), st.text("ab1", max_size=3)),
        max_size=4,
    ),
)
def test_canonical_url_of_web_links_is_a_fixed_point(
    scheme: str, host: str, path: list[str], query: list[tuple[str, str]]
) -> None:
    url = f"{scheme}://{host}/{'/'.join(path)}?{'&'.join(f'{k}={v}' for k, v in query)}#f"
    once = canonical_url(url)
    assert once.startswith("https://")
    assert "utm_" not in once and "fbclid" not in once and "#" not in once
    assert canonical_url(once) == once
