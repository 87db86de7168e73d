"""End-to-end harness: the real app (uvicorn in a subprocess, against the suite's database) with the demo org
seeded, driven by headless Chromium through Playwright. Screenshots go to test-output/e2e/ (git-ignored).

Skips when the playwright package or a Chromium binary is missing, and fails instead under CI=true.
Chromium is Debian's (`apt-get install -y chromium`; CHROMIUM_PATH overrides): Playwright's own browser
download is not used.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.seed import seed_demo
from tests import live_server

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output" / "e2e"
# Messages the browser logs for an HTTP error answer; the tests check those answers through the page instead.
EXPECTED_CONSOLE = ("Failed to load resource: the server responded with a status of",)


@pytest.fixture(scope="session")
def screenshots(browser) -> Path:
    """The screenshot folder, emptied of the last run's failure shots."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for old in OUTPUT.glob("FAILED-*.png"):
        old.unlink()
    return OUTPUT


@pytest.fixture(scope="session")
def server(screenshots) -> Iterator[live_server.LiveServer]:
    """One API process for the e2e tests (the browser first: no server is started when the tests skip)."""
    srv = live_server.start()
    yield srv
    live_server.stop(srv)


class Api:
    """The public API as a test client sees it: httpx with a Bearer token, against the live server."""

    def __init__(self, base_url: str, token: str) -> None:
        self.token = token
        self.client = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def get(self, path: str, **params):
        r = self.client.get(path, params=params)
        assert r.status_code == 200, (path, r.status_code, r.text)
        return r.json()

    def send(self, method: str, path: str, **kwargs):
        r = self.client.request(method, path, **kwargs)
        assert r.status_code < 300, (method, path, r.status_code, r.text)
        return r.json() if r.content else None


def dev_login(base_url: str, email: str, org_slug: str) -> str:
    r = httpx.post(f"{base_url}/auth/dev-login", json={"email": email, "org_slug": org_slug}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


@dataclass
class Demo:
    base_url: str
    api: Api
    dashboard_id: int


@pytest.fixture
def demo(server) -> Iterator[Demo]:
    """The demo org as `make run` seeds it (every test starts on a clean database)."""
    seed_demo()
    api = Api(server.base_url, dev_login(server.base_url, "dev@example.com", "demo"))
    dashboard_id = api.get("/dashboards")["items"][0]["id"]
    yield Demo(server.base_url, api, dashboard_id)
    api.client.close()


def open_page(context) -> tuple[Any, list[str]]:
    """A new page of the context, and the list its script errors, warnings and CSP violations go to (a test
    fixture asserts it is empty at the end)."""
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}\n{exc.stack}"))
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console.{msg.type}: {msg.text}")
            if msg.type in ("error", "warning") and not msg.text.startswith(EXPECTED_CONSOLE)
            else None
        ),
    )
    page.set_default_timeout(30_000)  # generous: the suite may share 2 cores with other work
    return page, problems


@pytest.fixture
def page(browser, request):
    """A fresh browser context (no cache, no storage) in pt-BR; any script error or CSP violation fails the test."""
    context = browser.new_context(
        viewport={"width": 1366, "height": 900}, locale="pt-BR", timezone_id="America/Sao_Paulo"
    )
    page, problems = open_page(context)
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        page.screenshot(path=str(OUTPUT / f"FAILED-{request.node.name}.png"), full_page=True)
    context.close()
    assert not problems, problems


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report


def shot(page, name: str) -> Path:
    """Save a full-page screenshot under test-output/e2e/."""
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, base_url: str, *, email: str = "dev@example.com", org: str = "demo") -> None:
    """Sign in through the form (dev-login) and wait for the app to leave the sign-in page."""
    page.goto(base_url + "/")
    form = page.get_by_test_id("signin-form")
    form.wait_for()
    page.get_by_test_id("signin-email").fill(email)
    page.get_by_test_id("signin-org").fill(org)
    page.get_by_test_id("signin-submit").click()
    page.wait_for_function("() => !location.hash.startsWith('#/sign-in')")
