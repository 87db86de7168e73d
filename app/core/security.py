"""JWT encode/decode, password hashing, and encryption of stored secrets."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

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


# Verified user tokens, until their expiry: a client sends the same token on every request, and verifying it again
# (two base64 decodes, JSON, HMAC) costs ~0.1 ms of CPU each time. Only the signature and claims check is
# remembered: the membership and role are read from the database on every request (auth.resolve_tenant), and only
# tokens that passed the full check get in (so a flood of forged ones cannot fill it).
_VERIFIED_MAX = 4096
_verified: dict[tuple[str, str, str], tuple[TokenClaims, float]] = {}  # (key, algorithm, token) -> (claims, exp)
_verified_lock = threading.Lock()


def _now() -> float:
    return time.time()


def _remember_verified(cache_key: tuple[str, str, str], claims: TokenClaims, expires_at: float) -> None:
    with _verified_lock:
        while len(_verified) >= _VERIFIED_MAX:
            del _verified[next(iter(_verified))]  # the oldest entry
        _verified[cache_key] = (claims, expires_at)


def _known_claims(cache_key: tuple[str, str, str]) -> TokenClaims | None:
    """The claims of a token verified before, while it has not expired; raises TokenError once it has."""
    known = _verified.get(cache_key)
    if known is None:
        return None
    claims, expires_at = known
    if _now() >= expires_at:  # as PyJWT decides: valid while now < exp (no leeway); evicted with the oldest
        raise TokenError("Token has expired")
    return claims


def decode_access_token(token: str) -> TokenClaims:
    """Verify signature, the one allowed algorithm, expiry and required claims (remembered until the token's
    expiry)."""
    settings = get_settings()
    cache_key = (settings.jwt_key, settings.JWT_ALGORITHM, token)
    known = _known_claims(cache_key)
    if known is not None:
        return known
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
    claims = TokenClaims(user_id=user_id, org_id=org_id)
    _remember_verified(cache_key, claims, float(payload["exp"]))
    return claims


# --- Org API keys -------------------------------------------------------------------------------------------
# pnl_live_<org id>_<public id>_<secret>: the org and public id find the row in one indexed lookup (with the org
# bound first, as row-level security needs); the secret is 32 random bytes in base62 (43 characters, 256 bits).
# Only the SHA-256 of the whole key is stored: a fast hash is right for a random 256-bit secret (nothing to
# brute-force), and it runs on every request; no server-side pepper, so rotating JWT_SECRET leaves keys working.

API_KEY_PREFIX = "pnl_live_"
_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_SECRET_LENGTH = 43  # 62**43 > 2**256
API_KEY_RE = re.compile(r"^pnl_live_([1-9][0-9]{0,9})_([0-9a-f]{16})_([0-9A-Za-z]{43})$")


@dataclass(frozen=True)
class NewApiKey:
    key: str  # shown once, never stored
    public_id: str
    prefix: str  # the key without its secret: shown in lists, safe to log
    digest: str


@dataclass(frozen=True)
class ApiKeyParts:
    org_id: int
    public_id: str


def _base62(raw: bytes, width: int) -> str:
    number, out = int.from_bytes(raw, "big"), []
    while number:
        number, digit = divmod(number, 62)
        out.append(_BASE62[digit])
    return "".join(reversed(out)).rjust(width, "0")


def api_key_digest(key: str) -> str:
    """The stored form of a key: SHA-256 of the whole key (org and public id included), hex."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_api_key(org_id: int) -> NewApiKey:
    """A new random key for an organization, with what is stored about it."""
    public_id = secrets.token_hex(8)
    prefix = f"{API_KEY_PREFIX}{org_id}_{public_id}"
    key = f"{prefix}_{_base62(secrets.token_bytes(32), _SECRET_LENGTH)}"
    return NewApiKey(key=key, public_id=public_id, prefix=prefix, digest=api_key_digest(key))


def parse_api_key(key: str) -> ApiKeyParts | None:
    """The org and public id of a well-formed key (None otherwise); says nothing about whether it is valid."""
    match = API_KEY_RE.match(key)
    if match is None or int(match.group(1)) > 2**31 - 1:
        return None
    return ApiKeyParts(org_id=int(match.group(1)), public_id=match.group(2))


def api_key_matches(key: str, digest: str) -> bool:
    """Constant-time comparison of a presented key with a stored digest."""
    return hmac.compare_digest(api_key_digest(key).encode(), digest.encode())


def looks_like_api_key(credential: str) -> bool:
    return credential.startswith(API_KEY_PREFIX)


# --- Embed tokens -------------------------------------------------------------------------------------------
# A JWT of its own kind: audience "painel:embed" and type "embed", signed with a key derived from JWT_SECRET and the
# org's embed salt, so it can never pass as a user token (other key, unexpected audience) nor a user token as one
# (other key, no audience); a new salt (POST /embed/tokens/revoke-all) invalidates every embed token of the org.

EMBED_AUDIENCE = "painel:embed"
EMBED_TYPE = "embed"
EMBED_ISSUER = "painel"
EMBED_REQUIRED_CLAIMS = ["iss", "aud", "typ", "org", "dash", "flt", "by", "iat", "exp"]


@dataclass(frozen=True)
class EmbedClaims:
    org_id: int
    dashboard_ids: tuple[int, ...]
    filters: dict[str, Any]  # locked filters, JSON values (validated by the embed service)
    creator: str  # "user:<id>" or "api_key:<id>": whose access the token borrows
    expires_at: datetime
    issued_at: datetime | None = None  # set when decoded (whole seconds)


def _embed_key(salt: str | None) -> bytes:
    settings = get_settings()
    return hmac.new(settings.jwt_key.encode(), b"painel-embed-token-v1:" + (salt or "").encode(), "sha256").digest()


def sign_embed_token(claims: EmbedClaims, salt: str | None) -> str:
    """Sign an embed token (the org's current salt)."""
    payload = {
        "iss": EMBED_ISSUER,
        "aud": EMBED_AUDIENCE,
        "typ": EMBED_TYPE,
        "org": claims.org_id,
        "dash": list(claims.dashboard_ids),
        "flt": claims.filters,
        "by": claims.creator,
        "iat": datetime.now(UTC),
        "exp": claims.expires_at,
    }
    return jwt.encode(payload, _embed_key(salt), algorithm=get_settings().JWT_ALGORITHM)


def _unverified(token: str) -> dict[str, Any]:
    try:
        return jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError as exc:
        raise TokenError("Invalid token") from exc


def is_embed_token(token: str) -> bool:
    """Whether the token claims to be an embed token (to pick its verifier; the verifier decides)."""
    settings = get_settings()
    if (settings.jwt_key, settings.JWT_ALGORITHM, token) in _verified:  # a verified user token: not an embed one
        return False
    try:
        return _unverified(token).get("aud") == EMBED_AUDIENCE
    except TokenError:
        return False


def _org_claim(org: Any) -> int:
    if not isinstance(org, int) or isinstance(org, bool) or not 0 < org <= 2**31 - 1:
        raise TokenError("Invalid embed token claims")
    return org


def embed_token_org(token: str) -> int:
    """The org an embed token names, before verification (to read the org's salt; verified right after)."""
    return _org_claim(_unverified(token).get("org"))


def decode_embed_token(token: str, salt: str | None) -> EmbedClaims:
    """Verify an embed token: signature (the org's key), algorithm, audience, type, expiry and claims."""
    settings = get_settings()
    try:
        payload = jwt.decode(
            token,
            _embed_key(salt),
            algorithms=[settings.JWT_ALGORITHM],
            audience=EMBED_AUDIENCE,
            issuer=EMBED_ISSUER,
            options={"require": EMBED_REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("Embed token has expired") from exc
    except jwt.InvalidTokenError as exc:
        raise TokenError("Invalid embed token") from exc
    dashboards, filters, creator = payload["dash"], payload["flt"], payload["by"]
    if (
        payload["typ"] != EMBED_TYPE
        or not isinstance(dashboards, list)
        or not dashboards
        or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in dashboards)
        or not isinstance(filters, dict)
        or not isinstance(creator, str)
    ):
        raise TokenError("Invalid embed token claims")
    return EmbedClaims(
        org_id=_org_claim(payload["org"]),
        dashboard_ids=tuple(dashboards),
        filters=filters,
        creator=creator,
        expires_at=datetime.fromtimestamp(payload["exp"], UTC),
        issued_at=datetime.fromtimestamp(payload["iat"], UTC),
    )


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
