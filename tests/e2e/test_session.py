"""Signing in and out in the browser: where the token lives, expired sessions, several orgs, roles, passwords."""

from __future__ import annotations

import json

from tests.e2e.conftest import Api, dev_login, shot, sign_in
from tests.e2e.helpers import wait_dashboard

PASSWORD = "uma senha longa e difícil 2026"


def test_token_stays_in_the_tab_and_a_401_returns_to_sign_in(demo, page):
    sign_in(page, demo.base_url)
    wait_dashboard(page)
    token = page.evaluate("() => sessionStorage.getItem('painel.token')")
    assert token and token.count(".") == 2  # a JWT, in this tab's storage only
    assert token not in page.url
    assert page.evaluate("() => document.cookie") == "" and page.context.cookies() == []
    assert page.evaluate("() => localStorage.length") == 0

    # The token goes bad (expired, revoked): the next call's 401 brings the sign-in back, then the page.
    page.goto(f"{demo.base_url}/#/datasources")
    page.get_by_test_id("sources-table").wait_for()
    page.evaluate("() => sessionStorage.setItem('painel.token', 'not-a-token')")
    page.reload()
    page.get_by_test_id("signin-form").wait_for()
    assert "Sua sessão terminou" in page.get_by_test_id("signin-form").inner_text()
    assert page.evaluate("() => sessionStorage.getItem('painel.token')") is None
    page.get_by_test_id("signin-submit").click()
    page.get_by_test_id("sources-table").wait_for()
    assert page.url.endswith("#/datasources")

    # Signing out forgets the token.
    page.get_by_test_id("signout").click()
    page.get_by_test_id("signin-form").wait_for()
    assert page.evaluate("() => sessionStorage.getItem('painel.token')") is None


def test_org_switcher_and_an_org_without_data(demo, page):
    dev_login(demo.base_url, "dev@example.com", "filial")  # a second org for the same user
    sign_in(page, demo.base_url)
    wait_dashboard(page)
    switcher = page.get_by_test_id("org-switcher")
    assert switcher.input_value() == "demo"
    assert sorted(o.get_attribute("value") for o in switcher.locator("option").all()) == ["demo", "filial"]

    switcher.select_option("filial")
    page.get_by_test_id("create-sample").click()  # no dashboard here yet: start from the sample
    wait_dashboard(page)
    # No data in this org: every widget says so and points to the upload page.
    assert "Ainda não há dados nesta organização" in page.locator(".banner").inner_text()
    empties = page.get_by_test_id("empty-state").all()
    assert len(empties) == 5 and all(
        e.get_by_role("link", name="Enviar um arquivo CSV ou XLSX").count() for e in empties
    )
    shot(page, "empty-org")
    token = page.evaluate("() => sessionStorage.getItem('painel.token')")
    filial = Api(demo.base_url, token)
    assert filial.get("/auth/me")["organization"]["slug"] == "filial"
    assert [d["name"] for d in filial.get("/dashboards")["items"]] == ["Vendas"]
    assert [d["name"] for d in demo.api.get("/dashboards")["items"]] == ["Vendas (demo)"]

    page.get_by_test_id("empty-state").first.get_by_role("link").click()
    page.get_by_test_id("upload-dropzone").wait_for()
    page.get_by_test_id("org-switcher").select_option("demo")
    page.get_by_test_id("dashboard-item").first.wait_for()


def test_a_viewer_sees_no_editing(demo, page):
    demo.api.send("POST", "/members", json={"email": "leitor@example.com", "role": "Viewer"})
    sign_in(page, demo.base_url, email="leitor@example.com")
    wait_dashboard(page)
    assert "Leitor" in page.locator("#topbar").inner_text()
    assert page.get_by_test_id("edit-toggle").count() == 0 and page.get_by_test_id("dashboard-delete").count() == 0
    page.goto(f"{demo.base_url}/#/dashboards")
    page.get_by_test_id("dashboard-item").first.wait_for()
    assert page.get_by_test_id("dashboard-create").count() == 0
    page.goto(f"{demo.base_url}/#/upload")
    page.get_by_text("Enviar arquivos exige o papel Editor").wait_for()
    assert page.get_by_test_id("upload-input").count() == 0


def test_password_sign_in_where_dev_login_is_off(demo, page):
    demo.api.send("POST", "/auth/password", json={"password": PASSWORD})
    # This server has dev-login; answer as a production server does (404) to see the form fall back.
    page.route(
        "**/auth/dev-login",
        lambda route: route.fulfill(
            status=404,
            content_type="application/problem+json",
            body=json.dumps({"title": "Not found", "status": 404, "detail": "Not found", "code": "not_found"}),
        ),
    )
    page.goto(demo.base_url + "/")
    page.get_by_test_id("signin-submit").click()
    page.get_by_text("Este servidor não tem login de desenvolvimento").wait_for()
    password = page.get_by_test_id("signin-password")
    assert password.is_visible()

    password.fill("errada-errada-errada")
    page.get_by_test_id("signin-submit").click()
    page.get_by_text("E-mail ou senha incorretos.").wait_for()

    password.fill(PASSWORD)
    page.get_by_test_id("signin-submit").click()
    wait_dashboard(page)
    assert page.get_by_test_id("dashboard-title").inner_text() == "Vendas (demo)"
    # The choice is remembered for the tab: after signing out the password form is shown at once.
    page.get_by_test_id("signout").click()
    page.get_by_test_id("signin-form").wait_for()
    assert page.get_by_test_id("signin-password").is_visible()
