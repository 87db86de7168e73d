"""Auth contract: dev-login, password flow, switch-org, me, and every token rejection."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from app.core import security
from app.core.config import get_settings

YEAR = {"from": "2025-01-01", "to": "2025-12-31"}


def dev_login(client, email="dev@example.com", org="demo"):
    return client.post("/auth/dev-login", json={"email": email, "org_slug": org})


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_dev_login_creates_org_and_owner_then_me(client):
    r = dev_login(client)
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert set(claims) == {"sub", "org", "iat", "exp"}
    me = client.get("/auth/me", headers=bearer(body["access_token"])).json()
    assert me["user"]["email"] == "dev@example.com"
    assert me["organization"]["slug"] == "demo"
    assert me["role"] == "Owner"
    assert [(m["organization"]["slug"], m["role"]) for m in me["memberships"]] == [("demo", "Owner")]


def test_dev_login_never_enters_another_org(client):
    assert dev_login(client, "alice@example.com", "acme").status_code == 200
    r = dev_login(client, "mallory@example.com", "acme")
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "not_a_member"
    # Existing member logs in again and stays Owner of the same org.
    again = dev_login(client, "ALICE@example.com", "acme")
    assert again.status_code == 200
    assert client.get("/auth/me", headers=bearer(again.json()["access_token"])).json()["role"] == "Owner"


def test_dev_login_disabled_is_404(client, monkeypatch):
    monkeypatch.setattr(get_settings(), "DEV_LOGIN_ENABLED", False)
    r = dev_login(client)
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "org_slug": "demo"}, "email"),
        ({"org_slug": "demo"}, "email"),
        ({"email": "a@example.com"}, "org_slug"),
        ({"email": "a@example.com", "org_slug": "Bad Slug!"}, "org_slug"),
    ],
)
def test_dev_login_bad_input_is_problem_json(client, body, field):
    r = client.post("/auth/dev-login", json=body)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["code"] == "validation_error" and problem["status"] == 422
    assert field in problem["detail"]


def test_malformed_json_is_problem_json(client):
    r = client.post("/auth/dev-login", content=b'{"email": "a@b.c", ', headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert "Malformed JSON" in r.json()["detail"]


def test_password_flow_and_swagger_token_endpoint(client):
    token = dev_login(client).json()["access_token"]
    assert (
        client.post("/auth/password", json={"password": "Caju-verde-2025!"}, headers=bearer(token)).status_code == 204
    )
    # Changing it again needs the current password.
    r = client.post("/auth/password", json={"password": "Outra-senha-forte-77"}, headers=bearer(token))
    assert r.status_code == 400 and r.json()["code"] == "invalid_current_password"
    ok = client.post("/auth/token", data={"username": "dev@example.com", "password": "Caju-verde-2025!"})
    assert ok.status_code == 200
    assert client.get("/auth/me", headers=bearer(ok.json()["access_token"])).json()["organization"]["slug"] == "demo"
    bad = client.post("/auth/token", data={"username": "dev@example.com", "password": "wrong-pass"})
    assert bad.status_code == 401 and bad.json()["code"] == "invalid_credentials"
    unknown_org = client.post(
        "/auth/token", data={"username": "dev@example.com", "password": "Caju-verde-2025!", "org_slug": "other"}
    )
    assert unknown_org.status_code == 403


def test_short_password_rejected(client):
    token = dev_login(client).json()["access_token"]
    r = client.post("/auth/password", json={"password": "short"}, headers=bearer(token))
    assert r.status_code == 422 and "password" in r.json()["detail"]


def test_switch_org_only_to_member_orgs(client, org_a, org_b):
    # The owner of org-a is added to org-b as a Viewer.
    added = client.post(
        "/members", json={"email": "owner@org-a.example.com", "role": "Viewer"}, headers=org_b.headers()
    )
    assert added.status_code == 201
    r = client.post("/auth/switch-org", json={"org_slug": "org-b"}, headers=org_a.headers())
    assert r.status_code == 200
    me = client.get("/auth/me", headers=bearer(r.json()["access_token"])).json()
    assert me["organization"]["slug"] == "org-b" and me["role"] == "Viewer"
    assert {m["organization"]["slug"]: m["role"] for m in me["memberships"]} == {"org-a": "Owner", "org-b": "Viewer"}
    denied = client.post("/auth/switch-org", json={"org_slug": "org-b"}, headers=org_a.headers("Editor"))
    assert denied.status_code == 403


def _forge(payload: dict, secret: str | None = None, alg: str = "HS256") -> str:
    return jwt.encode(payload, secret or get_settings().JWT_SECRET, algorithm=alg)


def _alg_none(payload: dict) -> str:
    def enc(d):
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    return f"{enc({'alg': 'none', 'typ': 'JWT'})}.{enc(payload)}."


@pytest.mark.parametrize(
    "case",
    [
        "bad_signature",
        "alg_none",
        "other_alg",
        "expired",
        "no_sub",
        "no_org",
        "no_exp",
        "garbage",
        "not_member",
        "no_header",
    ],
)
def test_token_rejections_are_401(client, org_a, org_b, case):
    now = datetime.now(UTC)
    good = {"sub": str(org_a.users["Owner"]), "org": org_a.id, "iat": now, "exp": now + timedelta(minutes=5)}
    tokens = {
        "bad_signature": lambda: _forge(good, secret="another-secret-" + "y" * 40),
        "alg_none": lambda: _alg_none({**good, "iat": int(now.timestamp()), "exp": int(now.timestamp()) + 300}),
        "other_alg": lambda: _forge(good, alg="HS512"),
        "expired": lambda: _forge({**good, "exp": now - timedelta(seconds=1)}),
        "no_sub": lambda: _forge({k: v for k, v in good.items() if k != "sub"}),
        "no_org": lambda: _forge({k: v for k, v in good.items() if k != "org"}),
        "no_exp": lambda: _forge({k: v for k, v in good.items() if k != "exp"}),
        "garbage": lambda: "not.a.jwt",
        "not_member": lambda: _forge({**good, "org": org_b.id}),
        "no_header": lambda: None,
    }
    token = tokens[case]()
    r = client.get("/auth/me", headers=bearer(token) if token else {})
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json()["code"] in {"invalid_token", "not_authenticated"}


def test_expired_token_message_is_clear(client, org_a):
    now = datetime.now(UTC)
    token = _forge(
        {
            "sub": str(org_a.users["Owner"]),
            "org": org_a.id,
            "iat": now - timedelta(hours=2),
            "exp": now - timedelta(hours=1),
        }
    )
    assert client.get("/auth/me", headers=bearer(token)).json()["detail"] == "Token has expired"


def test_removed_member_old_token_is_401(client, org_a):
    editor_headers = org_a.headers("Editor")
    assert client.get("/members", headers=editor_headers).status_code == 200
    assert client.delete(f"/members/{org_a.users['Editor']}", headers=org_a.headers()).status_code == 204
    r = client.get("/members", headers=editor_headers)
    assert r.status_code == 401 and r.json()["code"] == "invalid_token"


def test_role_change_takes_effect_at_once(client, org_a):
    headers = org_a.headers("Editor")
    assert client.patch("/organizations/current", json={"name": "X"}, headers=headers).status_code == 403
    client.patch(f"/members/{org_a.users['Editor']}", json={"role": "Owner"}, headers=org_a.headers())
    r = client.patch("/organizations/current", json={"name": "Renamed"}, headers=headers)
    assert r.status_code == 200 and r.json()["name"] == "Renamed"


def _verifications(monkeypatch) -> list[str]:
    """Every token whose signature PyJWT checks from now on (the unverified peeks at a token's kind are left out)."""
    checked: list[str] = []
    real_decode = jwt.decode

    def counting_decode(token, key=None, *args, **kwargs):
        if key is not None:
            checked.append(token)
        return real_decode(token, key, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting_decode)
    return checked


def test_a_verified_token_is_remembered_until_it_expires(client, org_a, monkeypatch):
    now = datetime.now(UTC)
    expires = now + timedelta(minutes=5)
    token = _forge({"sub": str(org_a.users["Viewer"]), "org": org_a.id, "iat": now, "exp": expires})
    checked = _verifications(monkeypatch)
    for _ in range(3):
        me = client.get("/auth/me", headers=bearer(token))
        assert me.status_code == 200 and me.json()["role"] == "Viewer"
    assert checked == [token]  # verified once, then remembered
    # At its expiry (PyJWT's rule: valid while now < exp) the remembered token is refused like any expired one.
    monkeypatch.setattr(security, "_now", expires.timestamp)
    r = client.get("/auth/me", headers=bearer(token))
    assert r.status_code == 401 and r.json()["detail"] == "Token has expired"
    assert client.get("/indicators/kpis", headers=bearer(token), params=YEAR).status_code == 401


def test_a_remembered_token_still_needs_the_membership_on_every_request(client, org_a):
    headers = org_a.headers("Viewer")
    first = client.get("/indicators/kpis", headers=headers, params=YEAR)
    assert first.status_code == 200
    assert client.get("/indicators/kpis", headers=headers, params=YEAR).content == first.content  # a cache hit
    client.patch(f"/members/{org_a.users['Viewer']}", json={"role": "Editor"}, headers=org_a.headers())
    assert client.get("/auth/me", headers=headers).json()["role"] == "Editor"  # the role is read again
    assert client.delete(f"/members/{org_a.users['Viewer']}", headers=org_a.headers()).status_code == 204
    for path in ("/indicators/kpis", "/auth/me"):
        r = client.get(path, headers=headers, params=YEAR)
        assert r.status_code == 401 and r.json()["code"] == "invalid_token", path


def test_a_remembered_token_is_refused_under_another_signing_key(client, org_a, monkeypatch):
    headers = org_a.headers("Viewer")
    assert client.get("/auth/me", headers=headers).status_code == 200
    monkeypatch.setattr(get_settings(), "JWT_SECRET", "a-rotated-secret-" + "z" * 40)
    r = client.get("/auth/me", headers=headers)
    assert r.status_code == 401 and r.json()["detail"] == "Invalid token"


@pytest.mark.parametrize(
    ("authorization", "expected"),
    [
        ("Bearer {token}", (200, None)),
        ("bearer {token}", (200, None)),  # the scheme in any case
        ("BEARER   {token}  ", (200, None)),  # spaces around the value
        ("Basic {token}", (401, "not_authenticated")),  # another scheme is no credential
        ("Bearer ", (401, "not_authenticated")),
        ("Bearer", (401, "not_authenticated")),
        ("{token}", (401, "not_authenticated")),  # no scheme
    ],
)
def test_the_authorization_header_is_read_as_the_bearer_schemes_read_it(client, org_a, authorization, expected):
    token = org_a.headers("Viewer")["Authorization"].removeprefix("Bearer ")
    r = client.get("/auth/me", headers={"Authorization": authorization.format(token=token)})
    assert (r.status_code, r.json().get("code")) == expected


def test_password_sign_in_is_rate_limited_per_email(client):
    token = dev_login(client).json()["access_token"]
    client.post("/auth/password", json={"password": "Certa-senha-do-dev-42"}, headers=bearer(token))
    codes = [
        client.post("/auth/token", data={"username": "dev@example.com", "password": "wrong"}).status_code
        for _ in range(11)
    ]
    assert codes == [401] * 10 + [429]
    assert (
        client.post(
            "/auth/token", data={"username": "DEV@example.com", "password": "Certa-senha-do-dev-42"}
        ).status_code
        == 429
    )
    assert client.post("/auth/token", data={"username": "other@example.com", "password": "x"}).status_code == 401
