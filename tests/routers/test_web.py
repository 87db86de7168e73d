"""The web app's router: what it serves, with which types, caching and security headers; and static checks on the
front-end sources (no inline script, no HTML built from strings, vendored files with their licenses)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "app" / "web"


def _csp(response) -> dict[str, str]:
    directives = (d.strip().split(" ", 1) for d in response.headers["content-security-policy"].split(";"))
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


def test_index_is_the_app_never_cached_with_a_strict_csp(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    assert '<script type="module" src="/web/js/main.js">' in r.text
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    csp = _csp(r)
    assert csp["default-src"] == "'none'"
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'" and csp["connect-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'" and csp["base-uri"] == "'none'"
    assert "unsafe" not in r.headers["content-security-policy"]


def test_embed_page_may_be_framed_but_stays_strict(client):
    r = client.get("/embed", params={"token": "t", "dashboard": "1"})
    assert r.status_code == 200 and r.text == client.get("/").text
    assert "x-frame-options" not in r.headers
    csp = _csp(r)
    assert csp["frame-ancestors"] == "*" and csp["script-src"] == "'self'"
    assert r.headers["cache-control"] == "no-store" and r.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize(
    ("path", "content_type", "cache"),
    [
        ("/web/js/main.js", "text/javascript; charset=utf-8", "no-cache"),
        ("/web/css/app.css", "text/css; charset=utf-8", "no-cache"),
        ("/web/img/icon.svg", "image/svg+xml", "no-cache"),
        ("/web/vendor/echarts-6.1.0/echarts.esm.min.js", "text/javascript; charset=utf-8", "immutable"),
        ("/web/vendor/echarts-6.1.0/LICENSE", "text/plain; charset=utf-8", "immutable"),
        ("/web/vendor/svg-maps-brazil-2.0.0/LICENSE.md", "text/plain; charset=utf-8", "immutable"),
    ],
)
def test_assets_have_their_type_and_caching(client, path, content_type, cache):
    r = client.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == content_type
    assert cache in r.headers["cache-control"]
    assert r.headers["x-content-type-options"] == "nosniff" and "content-security-policy" in r.headers
    etag = r.headers["etag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag and not again.content
    assert cache in again.headers["cache-control"]


@pytest.mark.parametrize(
    "path",
    [
        "/web/",
        "/web/js",
        "/web/../main.py",
        "/web/..%2F..%2Fmain.py",
        "/web/%2e%2e/%2e%2e/routers/web.py",
        "/web/js/..%2F..%2Frouters%2Fweb.py",
        "/web/.env",
        "/web/js/.hidden.js",
        "/web/js//main.js",
        "/web/js\\main.js",
        "/web/missing.js",
        "/web/vendor/README.exe",
    ],
)
def test_nothing_outside_the_web_folder_or_of_unknown_type(client, path):
    r = client.get(path)
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


def test_api_routes_are_untouched(client):
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/docs").status_code == 200
    assert client.get("/dashboards").status_code == 401
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths and "/embed" not in paths and not any(p.startswith("/web") for p in paths)


# --- static checks on the front-end sources -------------------------------------------------------------------


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict] = []
        self.styles = 0
        self.inline_handlers: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            self.scripts.append(attributes)
        if tag == "style" or "style" in attributes:
            self.styles += 1
        self.inline_handlers += [name for name in attributes if name.startswith("on")]


def test_page_has_no_inline_script_or_style():
    parser = _Scripts()
    parser.feed((WEB / "index.html").read_text(encoding="utf-8"))
    assert parser.scripts and all(s.get("src", "").startswith("/web/") for s in parser.scripts)
    assert parser.styles == 0 and parser.inline_handlers == []


OUR_JS = sorted((WEB / "js").rglob("*.js"))


def test_front_end_never_builds_html_from_strings():
    """Text from the API goes in as text nodes: no innerHTML, outerHTML, insertAdjacentHTML or document.write."""
    offenders = [
        f"{path.relative_to(WEB)}:{n}"
        for path in OUR_JS
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function", line)
    ]
    assert OUR_JS and not offenders, offenders


def test_front_end_keeps_the_token_out_of_urls_and_cookies():
    sources = "\n".join(path.read_text(encoding="utf-8") for path in OUR_JS)
    assert "document.cookie" not in sources and "localStorage" not in sources
    assert 'credentials: "omit"' in sources  # fetch never sends cookies the API does not use


def test_every_module_import_resolves():
    """Each relative import of our modules points at a file that exists (no build step would catch it)."""
    missing = []
    for path in OUR_JS:
        text = path.read_text(encoding="utf-8")
        for target in re.findall(r"""(?:from|import)\s*\(?\s*["'](\.{1,2}/[^"']+)["']""", text):
            if not (path.parent / target).resolve().is_file():
                missing.append(f"{path.relative_to(WEB)} -> {target}")
        for target in re.findall(r"""new URL\(["'](\.{1,2}/[^"']+)["']""", text):
            if not (path.parent / target).resolve().is_file():
                missing.append(f"{path.relative_to(WEB)} -> {target}")
    assert not missing, missing


def test_vendored_files_carry_their_licenses():
    vendor = WEB / "vendor"
    echarts = next(vendor.glob("echarts-*"))
    brazil = next(vendor.glob("svg-maps-brazil-*"))
    for name in ("LICENSE", "NOTICE", "LICENSE-d3", "LICENSE-zrender", "LICENSE-tslib"):
        assert (echarts / name).is_file(), name
    assert "Apache License" in (echarts / "LICENSE").read_text(encoding="utf-8")
    assert "Attribution 4.0 International" in (brazil / "LICENSE.md").read_text(encoding="utf-8")
    # lib.js is the one module importing vendored files, and names the folders that exist.
    lib = (WEB / "js" / "lib.js").read_text(encoding="utf-8")
    assert echarts.name in lib and brazil.name in lib


def test_large_vendored_files_are_sent_gzipped_to_clients_that_accept_it(client):
    path = "/web/vendor/echarts-6.1.0/echarts.esm.min.js"
    raw = (WEB / "vendor" / "echarts-6.1.0" / "echarts.esm.min.js").read_bytes()
    zipped = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip" and zipped.headers["vary"] == "Accept-Encoding"
    assert int(zipped.headers["content-length"]) < len(raw) / 2
    assert zipped.content == raw  # decoded by the client
    assert zipped.headers["content-type"] == "text/javascript; charset=utf-8"
    for refused in ("identity", "gzip;q=0", "br"):
        plain = client.get(path, headers={"Accept-Encoding": refused})
        assert "content-encoding" not in plain.headers and plain.content == raw, refused
        assert plain.headers["etag"] != zipped.headers["etag"]
    assert client.get(path + ".gz").status_code == 404
