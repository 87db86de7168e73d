"""A real browser on another origin (headless Chromium via Playwright): a static page served from 127.0.0.1 on its
own port signs in with dev-login, calls a filtered indicator and reads ETag and X-Request-ID, which works when
CORS_ORIGINS names the page's origin and fails when it does not; /docs and /redoc render with every request to
another host blocked (no CDN).

Skips when the playwright package or a Chromium binary is missing, and fails instead under CI=true. Chromium is
Debian's (`apt-get install -y chromium`; CHROMIUM_PATH overrides): Playwright's own browser download is not used.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import httpx
import pytest

from tests import live_server
from tests.ingest_helpers import Row, make_csv

ROWS = [Row(date(2025, m, 5), Decimal(m * 10) + Decimal("0.5"), uf, "A") for m in range(1, 13) for uf in ("SP", "RJ")]
SIGN_IN = {"email": "dev@example.com", "org_slug": "demo"}

# The page's whole program: sign in, call a filtered indicator, read the headers CORS exposes, revalidate.
PAGE = """<!doctype html><meta charset="utf-8"><title>frontend</title><script>
async function run(api) {
  const out = {};
  try {
    const login = await fetch(api + "/auth/dev-login", {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(%(sign_in)s)});
    const token = (await login.json()).access_token;
    const url = api + "/indicators/kpis?from=2025-01-01&to=2025-12-31&uf=SP";
    const auth = {"Authorization": "Bearer " + token};
    const r = await fetch(url, {headers: {...auth, "X-Request-ID": "from-the-browser-1"}});
    out.status = r.status;
    out.etag = r.headers.get("ETag");
    out.requestId = r.headers.get("X-Request-ID");
    out.body = await r.json();
    const again = await fetch(url, {headers: {...auth, "If-None-Match": out.etag}, cache: "no-store"});
    out.revalidated = again.status;
    // A chart's series, at a grain, with the same filter.
    const series = await fetch(api + "/indicators/serie-temporal?from=2025-01-01&to=2025-12-31&uf=SP&grain=quarter",
      {headers: auth});
    out.series = (await series.json()).items;
    // An export: a file name the page can read (CORS exposes Content-Disposition) and a Brazilian CSV.
    const file = await fetch(api + "/indicators/valor-mes-a-mes?from=2025-01-01&to=2025-12-31&uf=SP&format=csv",
      {headers: auth});
    out.exportStatus = file.status;
    out.disposition = file.headers.get("Content-Disposition");
    out.csv = new TextDecoder("utf-8", {ignoreBOM: true}).decode(await file.arrayBuffer());
  } catch (error) {
    out.error = String(error);
  }
  return out;
}
</script>"""


@pytest.fixture(scope="module")
def frontend() -> Iterator[str]:
    """A static page on its own origin (127.0.0.1, another port): the 'frontend dev server'."""
    body = (PAGE % {"sign_in": json.dumps(SIGN_IN)}).encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def api_servers(browser, frontend) -> Iterator[dict[str, str]]:
    """Two API processes on the suite's database (stateless: each test's rows are its own, cleaned after it): one
    allows the page's origin, one allows only another."""
    with (
        live_server.running(1, env={"CORS_ORIGINS": frontend}) as allowing,
        live_server.running(1, env={"CORS_ORIGINS": "http://127.0.0.1:1"}) as other,
    ):
        yield {"allowing": allowing[0].base_url, "other": other[0].base_url}


def _load_rows(base_url: str) -> float:
    """The demo org and its rows, through the API; returns the total the SP filter must give."""
    with httpx.Client(base_url=base_url, timeout=30) as api:
        token = api.post("/auth/dev-login", json=SIGN_IN).json()["access_token"]
        files = {"file": ("vendas.csv", make_csv(ROWS))}
        r = api.post("/ingest/csv", headers={"Authorization": f"Bearer {token}"}, files=files)
        assert r.status_code == 201, r.text
    total = sum((row.value for row in ROWS if row.uf == "SP"), Decimal(0))
    return float(total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def test_a_page_on_an_allowed_origin_signs_in_and_reads_headers(browser, frontend, api_servers):
    expected = _load_rows(api_servers["allowing"])
    page = browser.new_page()
    try:
        page.goto(frontend)
        out = page.evaluate("api => run(api)", api_servers["allowing"])
    finally:
        page.close()
    assert "error" not in out, out
    assert out["status"] == 200 and out["body"]["current"]["total_value"] == expected
    assert out["etag"] and out["etag"].startswith('"')
    assert out["requestId"] == "from-the-browser-1"
    assert out["revalidated"] == 304
    # The quarter series adds up per quarter to the SP rows the test loaded.
    quarters = {}
    for row in ROWS:
        if row.uf == "SP":
            q = f"2025-Q{(row.day.month - 1) // 3 + 1}"
            quarters[q] = quarters.get(q, Decimal(0)) + row.value
    assert {i["period"]: i["value"] for i in out["series"]} == {q: float(v) for q, v in quarters.items()}
    # The export: its file name, the BOM, `;` and decimal commas, and the same monthly values.
    assert out["exportStatus"] == 200 and "filename=" in out["disposition"] and ".csv" in out["disposition"]
    lines = out["csv"].splitlines()
    assert lines[0].startswith("\ufeff") and lines[0].lstrip("\ufeff").split(";")[:2] == ["month", "value"]
    monthly = {f"{m:02d}/2025": f"{m * 10},50" for m in range(1, 13)}
    assert {line.split(";")[0]: line.split(";")[1] for line in lines[1:]} == monthly


def test_a_page_on_another_origin_is_refused_by_the_browser(browser, frontend, api_servers):
    _load_rows(api_servers["other"])
    page = browser.new_page()
    try:
        page.goto(frontend)
        out = page.evaluate("api => run(api)", api_servers["other"])
    finally:
        page.close()
    assert "status" not in out and "Failed to fetch" in out["error"], out


@pytest.mark.parametrize(("path", "rendered"), [("/docs", ".swagger-ui .info .title"), ("/redoc", "h1")])
def test_docs_render_with_no_network(browser, api_servers, path, rendered):
    base = api_servers["allowing"]
    local = urlsplit(base).netloc
    elsewhere: list[str] = []

    def only_this_server(route) -> None:
        if urlsplit(route.request.url).netloc == local:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.route("**/*", only_this_server)
        page.goto(base + path)
        page.wait_for_selector(rendered, timeout=30_000)
        assert "Painel" in page.inner_text(rendered)
        if path == "/docs":  # Authorize offers the password flow, a pasted Bearer value and X-API-Key
            page.click("button.authorize")
            dialog = page.inner_text(".dialog-ux")
            assert all(name in dialog for name in ("OAuth2PasswordBearer", "BearerToken", "ApiKey")), dialog
    finally:
        page.close()
    assert elsewhere == [] and errors == []
