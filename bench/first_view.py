"""First view of the web app: a new user opens http://127.0.0.1:<port>/, signs in with the prefilled dev-login and
waits for the demo dashboard's line chart, map of Brazil and KPI cards to be drawn (issue #11 asks for under 3 s).

Side by side in the same run, with the same browser: the baseline is loading the server's `/health` JSON in a new
page (the floor of one round trip plus a browser page). Each try uses a fresh browser context (no cache, no
storage), like a new user. The server runs `make run`'s way: SQLite by default (`--database-url` for another),
migrated and seeded with the demo org.

    .venv/bin/python bench/first_view.py [--tries 7] [--database-url URL]

Needs Debian's chromium (apt-get install -y chromium) and the playwright package (requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import ROOT, ensure_database, start_server, stop_server

MARKER = "painel bench data set (bench/first_view.py)"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def prepare(database_url: str) -> None:
    """Migrate and seed the demo org, as `make run` does."""
    if database_url.startswith("postgresql"):
        ensure_database(database_url, MARKER)
    env = {**os.environ, "DATABASE_URL": database_url}
    subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=env, check=True)
    subprocess.run([sys.executable, "-m", "app.seed"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def first_view(browser, base_url: str) -> float:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="pt-BR")
    try:
        page = context.new_page()
        started = time.monotonic()
        page.goto(base_url + "/")
        page.get_by_test_id("signin-submit").click()
        page.locator("[data-testid=map][data-rendered=true]").wait_for(timeout=60_000)
        page.locator("[data-testid=widget][data-indicator=valor-mes-a-mes] .chart[data-rendered=true]").wait_for()
        page.locator("[data-testid=kpi-value][data-kpi=total_value]").wait_for()
        return time.monotonic() - started
    finally:
        context.close()


def health_page(browser, base_url: str) -> float:
    context = browser.new_context()
    try:
        page = context.new_page()
        started = time.monotonic()
        page.goto(base_url + "/health")
        return time.monotonic() - started
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tries", type=int, default=7)
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not executable:
        sys.exit("no chromium on PATH: apt-get install -y chromium")
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        prepare(url)
        server = start_server(url, env={"APP_ENV": "development"})
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
                health_page(browser, server.base_url)  # warm the server's first request
                views, floors = [], []
                for _ in range(max(1, args.tries)):
                    floors.append(health_page(browser, server.base_url))
                    views.append(first_view(browser, server.base_url))
                browser.close()
        finally:
            stop_server(server)
    print(f"tries: {len(views)}")
    print(f"/health in a new page:          median {statistics.median(floors) * 1000:7.0f} ms")
    print(
        f"sign-in to the drawn dashboard: median {statistics.median(views) * 1000:7.0f} ms, "
        f"max {max(views) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
