"""Members: who may grant what, the last-Owner rule, and tenant isolation."""

from __future__ import annotations


def emails_roles(resp):
    return {m["email"]: m["role"] for m in resp.json()["items"]}


def test_list_members_shows_only_own_org(client, org_a, org_b):
    r = client.get("/members", headers=org_a.headers("Viewer"))
    assert emails_roles(r) == {
        "owner@org-a.example.com": "Owner",
        "admin@org-a.example.com": "Admin",
        "editor@org-a.example.com": "Editor",
        "viewer@org-a.example.com": "Viewer",
    }


def test_admin_adds_editor_but_not_admin(client, org_a):
    r = client.post("/members", json={"email": "New@Example.com", "role": "Editor"}, headers=org_a.headers("Admin"))
    assert r.status_code == 201 and r.json()["email"] == "new@example.com" and r.json()["role"] == "Editor"
    denied = client.post("/members", json={"email": "x@example.com", "role": "Admin"}, headers=org_a.headers("Admin"))
    assert denied.status_code == 403 and denied.json()["code"] == "owner_required"
    assert "x@example.com" not in emails_roles(client.get("/members", headers=org_a.headers()))
    dup = client.post("/members", json={"email": "new@example.com", "role": "Viewer"}, headers=org_a.headers())
    assert dup.status_code == 409 and dup.json()["code"] == "already_member"


def test_unknown_role_and_bad_email_are_422(client, org_a):
    r = client.post("/members", json={"email": "a@example.com", "role": "Emperor"}, headers=org_a.headers())
    assert r.status_code == 422 and "role" in r.json()["detail"]
    r = client.post("/members", json={"email": "nope", "role": "Viewer"}, headers=org_a.headers())
    assert r.status_code == 422 and "email" in r.json()["detail"]


def test_last_owner_cannot_leave_or_be_demoted(client, org_a):
    owner = org_a.users["Owner"]
    r = client.patch(f"/members/{owner}", json={"role": "Admin"}, headers=org_a.headers())
    assert r.status_code == 409 and r.json()["code"] == "last_owner"
    r = client.delete(f"/members/{owner}", headers=org_a.headers())
    assert r.status_code == 409
    # With a second Owner the first may step down.
    assert (
        client.patch(f"/members/{org_a.users['Admin']}", json={"role": "Owner"}, headers=org_a.headers()).status_code
        == 200
    )
    assert (
        client.patch(f"/members/{owner}", json={"role": "Viewer"}, headers=org_a.headers()).json()["role"] == "Viewer"
    )


def test_admin_cannot_touch_owner(client, org_a):
    r = client.delete(f"/members/{org_a.users['Owner']}", headers=org_a.headers("Admin"))
    assert r.status_code == 403
    r = client.patch(f"/members/{org_a.users['Editor']}", json={"role": "Viewer"}, headers=org_a.headers("Admin"))
    assert r.status_code == 200 and r.json()["role"] == "Viewer"


def test_other_orgs_member_is_404(client, org_a, org_b):
    for method, kwargs in (("patch", {"json": {"role": "Viewer"}}), ("delete", {})):
        r = getattr(client, method)(f"/members/{org_b.users['Editor']}", headers=org_a.headers(), **kwargs)
        assert r.status_code == 404
        assert "org-b" not in r.text
    assert client.get("/members", headers=org_b.headers()).json()["items"][1]["role"] in {
        "Owner",
        "Admin",
        "Editor",
        "Viewer",
    }
    assert emails_roles(client.get("/members", headers=org_b.headers()))["editor@org-b.example.com"] == "Editor"


def test_organization_current(client, org_a, org_b):
    r = client.get("/organizations/current", headers=org_a.headers("Viewer"))
    assert r.json() == {
        "id": org_a.id,
        "slug": "org-a",
        "name": "Org-A",
        "timezone": "America/Sao_Paulo",
        "fiscal_year_start_month": 1,
    }
    r = client.patch("/organizations/current", json={"name": "  Acme Ltda  "}, headers=org_a.headers())
    assert r.json()["name"] == "Acme Ltda" and r.json()["timezone"] == "America/Sao_Paulo"
    r = client.patch(
        "/organizations/current",
        json={"timezone": "America/Manaus", "fiscal_year_start_month": 4},
        headers=org_a.headers(),
    )
    assert (r.json()["name"], r.json()["timezone"], r.json()["fiscal_year_start_month"]) == (
        "Acme Ltda",
        "America/Manaus",
        4,
    )
    assert client.get("/organizations/current", headers=org_b.headers()).json()["name"] == "Org-B"
    for bad in ({"name": ""}, {"timezone": "Mars/Olympus"}, {"fiscal_year_start_month": 13}, {"name": None}):
        r = client.patch("/organizations/current", json=bad, headers=org_a.headers())
        assert r.status_code == 422, (bad, r.text)
    assert client.get("/organizations/current", headers=org_a.headers()).json()["timezone"] == "America/Manaus"
