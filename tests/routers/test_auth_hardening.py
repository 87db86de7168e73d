"""Sign-in that reveals nothing (one Argon2 verification per attempt), rehash on sign-in, password strength."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from app.core import security
from app.core.db import session_scope
from app.models import User

STRONG = "Caju-verde-2025!"


def dev_login(client, email="dev@example.com", org="demo"):
    return client.post("/auth/dev-login", json={"email": email, "org_slug": org})


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def counted_verifications(monkeypatch):
    """Counts every Argon2 verification the server runs."""
    calls: list[str] = []
    original = PasswordHasher.verify

    def counting(self, hashed, password):
        calls.append(hashed)
        return original(self, hashed, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    return calls


def test_every_sign_in_attempt_costs_one_verification(client, counted_verifications):
    token = dev_login(client).json()["access_token"]
    assert client.post("/auth/password", json={"password": STRONG}, headers=bearer(token)).status_code == 204
    dev_login(client, "nopassword@example.com", "other-org")  # a user who never set a password
    counted_verifications.clear()
    attempts = {
        "unknown email": {"username": "nobody@example.com", "password": STRONG},
        "wrong password": {"username": "dev@example.com", "password": "Errada-senha-2025"},
        "no password set": {"username": "nopassword@example.com", "password": STRONG},
        "right password": {"username": "dev@example.com", "password": STRONG},
    }
    statuses = {}
    for name, form in attempts.items():
        before = len(counted_verifications)
        statuses[name] = client.post("/auth/token", data=form).status_code
        assert len(counted_verifications) == before + 1, f"{name}: {len(counted_verifications) - before} verifications"
    assert statuses == {"unknown email": 401, "wrong password": 401, "no password set": 401, "right password": 200}


def test_unknown_email_and_wrong_password_answer_the_same(client):
    token = dev_login(client).json()["access_token"]
    client.post("/auth/password", json={"password": STRONG}, headers=bearer(token))
    unknown = client.post("/auth/token", data={"username": "nobody@example.com", "password": STRONG}).json()
    wrong = client.post("/auth/token", data={"username": "dev@example.com", "password": "Errada-senha-2025"}).json()
    for body in (unknown, wrong):
        body.pop("request_id")
    assert unknown == wrong


def test_an_old_hash_is_upgraded_at_sign_in(client):
    dev_login(client)
    weak_params = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    with session_scope() as session:
        user = session.scalars(select(User).where(User.email == "dev@example.com")).one()
        user.hashed_password = weak_params.hash(STRONG)
        old_hash = user.hashed_password
    assert security.needs_rehash(old_hash)
    assert client.post("/auth/token", data={"username": "dev@example.com", "password": STRONG}).status_code == 200
    with session_scope() as session:
        new_hash = session.scalars(select(User.hashed_password).where(User.email == "dev@example.com")).one()
    assert new_hash != old_hash and not security.needs_rehash(new_hash)
    assert PasswordHasher().verify(new_hash, STRONG)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("aaaaaaaaaa", "Repeats"),
        ("aaaaaaaaaaaaaaaaaaaa", "Repeats"),
        ("password123", "common password"),
        ("1234567890", "common password"),
        ("abcabcabcabc", "Repeats"),
        ("qwertyuiop", "common password"),
        ("dev@example.com", "too weak"),
    ],
)
def test_weak_passwords_are_refused(client, password, reason):
    token = dev_login(client).json()["access_token"]
    r = client.post("/auth/password", json={"password": password}, headers=bearer(token))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "weak_password" and reason in r.json()["detail"]
    with session_scope() as session:
        assert session.scalars(select(User.hashed_password).where(User.email == "dev@example.com")).one() is None


def test_passwords_under_ten_characters_are_refused(client):
    token = dev_login(client).json()["access_token"]
    r = client.post("/auth/password", json={"password": "Xq7#pL2!z"}, headers=bearer(token))  # 9 characters
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "password"


@pytest.mark.parametrize("password", ["Caju-verde-2025!", "correct horse battery staple", "vendas-2025-norte"])
def test_strong_passwords_are_accepted(client, password):
    token = dev_login(client).json()["access_token"]
    assert client.post("/auth/password", json={"password": password}, headers=bearer(token)).status_code == 204
    assert client.post("/auth/token", data={"username": "dev@example.com", "password": password}).status_code == 200
