"""JWT encode/decode, password hashing, and encryption of stored secrets."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from zxcvbn import zxcvbn

from app.core.config import get_settings

_hasher = PasswordHasher()
REQUIRED_CLAIMS = ["sub", "org", "iat", "exp"]


class TokenError(Exception):
    """The token is not acceptable; the message is safe to show."""


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    org_id: int


def create_access_token(user_id: int, org_id: int) -> str:
    """A signed token for one user acting in one organization."""
    settings = get_settings()
    now = datetime.now(UTC)
    payload = {
        "sub": str(user_id),
        "org": org_id,
        "iat": now,
        "exp": now + timedelta(minutes=settings.ACCESS_TOKEN_EXPIRE_MINUTES),
    }
    return jwt.encode(payload, settings.jwt_key, algorithm=settings.JWT_ALGORITHM)


def decode_access_token(token: str) -> TokenClaims:
    """Verify signature, the one allowed algorithm, expiry and required claims."""
    settings = get_settings()
    try:
        payload = jwt.decode(
            token, settings.jwt_key, algorithms=[settings.JWT_ALGORITHM], options={"require": REQUIRED_CLAIMS}
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("Token has expired") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise TokenError(f"Token is missing the '{exc.claim}' claim") from exc
    except jwt.InvalidTokenError as exc:
        raise TokenError("Invalid token") from exc
    try:
        user_id, org_id = int(payload["sub"]), int(payload["org"])
    except (TypeError, ValueError) as exc:
        raise TokenError("Invalid token claims") from exc
    if user_id <= 0 or org_id <= 0 or isinstance(payload["org"], bool):
        raise TokenError("Invalid token claims")
    return TokenClaims(user_id=user_id, org_id=org_id)


MIN_PASSWORD_LENGTH = 10
MIN_PASSWORD_SCORE = 3  # zxcvbn: 3 = "safely unguessable", moderate protection against an offline attack


class WeakPassword(ValueError):
    """The password is too short, common or predictable; the message says why (safe to show)."""


def hash_password(password: str) -> str:
    """Argon2id hash of a password."""
    return _hasher.hash(password)


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_password(password: str, hashed: str | None) -> bool:
    """True when the password matches; never raises. Without a stored hash (unknown user, no password set) a
    decoy hash is verified instead, so every sign-in attempt costs one Argon2 verification and takes as long."""
    try:
        return _hasher.verify(hashed or _decoy_hash(), password) and bool(hashed)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(hashed: str) -> bool:
    """Whether a hash was made with older Argon2 parameters than the current ones."""
    return _hasher.check_needs_rehash(hashed)


def check_password_strength(password: str, user_inputs: list[str]) -> None:
    """Refuse short, common, repetitive or predictable passwords (zxcvbn's common-password lists and patterns);
    `user_inputs` (the email, its name part) count as easy to guess."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    # zxcvbn refuses inputs over 72 characters (its cost grows with length); they decide any realistic case.
    result = zxcvbn(password[:72], user_inputs=user_inputs)
    if result["score"] < MIN_PASSWORD_SCORE:
        feedback = result["feedback"]
        hints = [feedback.get("warning") or "This password is easy to guess.", *feedback.get("suggestions", [])]
        raise WeakPassword(" ".join(hint for hint in hints if hint))


@lru_cache(maxsize=4)
def _fernets(keys: tuple[str, ...]) -> tuple[MultiFernet, Fernet]:
    """(all keys, the first key alone) for one key list: MultiFernet encrypts with the first, decrypts with any."""
    fernets = [Fernet(key.encode()) for key in keys]
    return MultiFernet(fernets), fernets[0]


def _keyring() -> tuple[MultiFernet, Fernet]:
    return _fernets(tuple(get_settings().secrets_keys))


def encrypt_secret(plain: str) -> str:
    """Encrypt a secret for storage at rest (with the first of SECRETS_KEYS)."""
    return _keyring()[0].encrypt(plain.encode()).decode()


def decrypt_secret(token: str) -> str:
    """Decrypt a stored secret with any of SECRETS_KEYS; a wrong key is an error, never a silent empty value."""
    try:
        return _keyring()[0].decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("Stored secret cannot be decrypted with any of the configured SECRETS_KEYS") from exc


class SecretKeyMismatch(ValueError):
    """A stored secret that none of SECRETS_KEYS decrypts (the message names no secret)."""


def reencrypt_secret(token: str) -> str | None:
    """The secret re-encrypted with the first key, or None when it already is (nothing to rotate); raises
    SecretKeyMismatch when no configured key decrypts it."""
    every_key, first_key = _keyring()
    try:
        first_key.decrypt(token.encode())
        return None
    except InvalidToken:
        pass
    try:
        return every_key.rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretKeyMismatch("no key of SECRETS_KEYS decrypts this secret") from exc
