"""Sharing a dashboard: the "Compartilhar" dialog creates a real embed token (POST /embed/tokens) with the filters
shown locked into it; its link opens the embed page with the API's numbers for those filters, and an expired,
revoked or invalid token says so on the page."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

import httpx

from app.core.security import EmbedClaims, sign_embed_token
from app.models import Organization
from tests.conftest import all_orgs_session
from tests.e2e.conftest import shot, sign_in
from tests.e2e.helpers import kpi_values, table_values, wait_dashboard, widget

WIDGETS_READY = "(n) => document.querySelectorAll('[data-testid=widget][data-state=ready]').length === n"


def test_share_dialog_creates_an_embed_link_with_the_filters_locked(demo, page, browser):
    api = demo.api
    widget_count = len(api.get(f"/dashboards/{demo.dashboard_id}")["widgets"])
    sign_in(page, demo.base_url)
    marker = wait_dashboard(page)
    page.get_by_test_id("filter-uf").select_option("SP")
    page.get_by_test_id("filter-from").fill("01/01/2026")
    page.get_by_test_id("filter-to").fill("30/06/2026")
    page.get_by_test_id("filter-apply").click()
    wait_dashboard(page, marker)
    locked = {"from": "2026-01-01", "to": "2026-06-30", "uf": "SP"}

    page.get_by_test_id("dashboard-share").click()
    dialog = page.get_by_test_id("share-dialog")
    for name in ("range", "uf"):
        assert dialog.get_by_test_id(f"share-lock-{name}").is_checked(), name
    assert dialog.get_by_test_id("share-lock-category").count() == 0  # no category filter applied
    assert "São Paulo (SP)" in dialog.inner_text() and "01/01/2026 a 30/06/2026" in dialog.inner_text()
    dialog.get_by_test_id("share-expiry").select_option("900")
    asked = datetime.now(UTC)
    dialog.get_by_test_id("share-create").click()
    url_input = dialog.get_by_test_id("share-url")
    url_input.wait_for()
    url = url_input.input_value()
    assert url.startswith(f"{demo.base_url}/embed#token=") and url.endswith(f"&dashboard={demo.dashboard_id}")
    assert html.escape(url) in dialog.get_by_test_id("share-snippet").input_value()
    assert dialog.get_by_test_id("share-snippet").input_value().startswith("<iframe src=")
    expires_at = datetime.fromisoformat(dialog.get_by_test_id("share-expires").get_attribute("data-expires-at"))
    assert timedelta(seconds=890) < expires_at - asked < timedelta(seconds=930)
    assert "Link válido até" in dialog.get_by_test_id("share-expires").inner_text()
    shot(page, "share-dialog")

    # The token is a real embed token: read-only, this dashboard, SP and the range locked.
    token = url.split("#token=")[1].split("&")[0]
    embed_api = httpx.Client(base_url=demo.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert embed_api.get("/dashboards").status_code == 403
    wide = embed_api.get(f"/dashboards/{demo.dashboard_id}/data", params={"from": "2024-11-01", "to": "2026-10-31"})
    assert (wide.json()["from"], wide.json()["to"]) == (locked["from"], locked["to"])

    # A visitor (no Painel session) opens the link: the numbers are the API's with the locked filters.
    visitor = browser.new_context(viewport={"width": 1280, "height": 800}, locale="pt-BR")
    try:
        embed = visitor.new_page()
        embed.goto(url)
        embed.wait_for_function(WIDGETS_READY, arg=widget_count)
        assert embed.url == f"{demo.base_url}/embed"
        kpis = api.get("/indicators/kpis", **locked)
        assert kpi_values(embed) == {k: float(v) for k, v in kpis["current"].items()}
        mapa = api.get("/indicators/mapa-por-uf", **locked)
        shown = table_values(widget(embed, "mapa-por-uf"), "data-uf")
        assert shown == {i["uf"]: i["value"] for i in mapa["items"]}
        assert shown["SP"] > 0 and not any(v for uf, v in shown.items() if uf != "SP")
        monthly = api.get("/indicators/valor-mes-a-mes", **locked)
        assert table_values(widget(embed, "valor-mes-a-mes")) == {i["month"]: i["value"] for i in monthly["items"]}
        assert "01/01/2026 a 30/06/2026" in embed.get_by_test_id("dashboard-meta").inner_text()
        shot(embed, "embed-shared")

        # Revoked (an Admin's revoke-all): a reload says the link no longer works, not a blank page.
        api.send("POST", "/embed/tokens/revoke-all")
        embed.reload()
        error = embed.get_by_test_id("embed-error")
        error.wait_for()
        assert error.get_attribute("data-status") == "401"
        assert "expirou ou não é válido" in error.inner_text() and "Peça um novo link" in error.inner_text()
        assert embed.get_by_test_id("widget").count() == 0

        # Expired: a token whose time has passed says when it expired.
        expired = expired_token(api, demo.dashboard_id)
        embed.goto(f"{demo.base_url}/embed?token={expired}&dashboard={demo.dashboard_id}")
        error = embed.get_by_test_id("embed-error")
        error.wait_for()
        assert error.get_attribute("data-status") == "401"
        assert "Este link de incorporação expirou em" in error.inner_text()
        shot(embed, "embed-expired")

        # Not a token at all.
        embed.goto(f"{demo.base_url}/embed?token=nao-e-um-token&dashboard={demo.dashboard_id}")
        embed.get_by_test_id("embed-error").filter(has_text="não é válido").wait_for()
    finally:
        visitor.close()
        embed_api.close()


def expired_token(api, dashboard_id: int) -> str:
    """An embed token for the demo dashboard that expired a minute ago, signed as the server signs them (the API
    refuses lifetimes under 60 s, and a test should not wait for one to run out)."""
    me = api.get("/auth/me")
    with all_orgs_session() as session:
        salt = session.get(Organization, me["organization"]["id"]).embed_token_salt
    now = datetime.now(UTC)
    claims = EmbedClaims(
        org_id=me["organization"]["id"],
        dashboard_ids=(dashboard_id,),
        filters={},
        creator=f"user:{me['user']['id']}",
        expires_at=now - timedelta(minutes=1),
    )
    return sign_embed_token(claims, salt)
