"""Google Sheets through gspread: per-org credentials, a configurable API base URL, clear errors."""

from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path
from typing import Any

import gspread
from gspread.exceptions import APIError, SpreadsheetNotFound
from gspread.http_client import HTTPClient
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.core.errors import Forbidden, NotFound, ServiceUnavailable, Unprocessable
from app.core.security import decrypt_secret, encrypt_secret
from app.models import GoogleCredential
from app.schemas.datasources import GoogleCredentialRead, GoogleCredentialUpdate
from app.services.tenancy import Tenant, scoped_select

logger = logging.getLogger("painel.sheets")

SCOPES = ["https://www.googleapis.com/auth/spreadsheets.readonly"]
GOOGLE_SHEETS_BASE = "https://sheets.googleapis.com/v4/spreadsheets"
RETRY_STATUSES = {408, 429, 500, 502, 503, 504}


class PainelHTTPClient(HTTPClient):
    """gspread's HTTP client pointed at SHEETS_API_BASE_URL, with timeouts and bounded retries with backoff."""

    def __init__(self, auth, session=None) -> None:
        super().__init__(auth, session)
        self.timeout = (10, 60)

    def request(self, method: str, endpoint: str, *args: Any, **kwargs: Any):
        settings = get_settings()
        if endpoint.startswith(GOOGLE_SHEETS_BASE):
            endpoint = settings.SHEETS_API_BASE_URL.rstrip("/") + endpoint[len(GOOGLE_SHEETS_BASE) :]
        attempt = 0
        while True:
            try:
                return super().request(method, endpoint, *args, **kwargs)
            except APIError as exc:
                if exc.code not in RETRY_STATUSES or attempt >= settings.SHEETS_MAX_RETRIES:
                    raise
                time.sleep(settings.SHEETS_RETRY_BASE_SECONDS * 2**attempt)
                attempt += 1


def _credential_kind(info: dict[str, Any]) -> str:
    kind = info.get("type")
    if kind == "service_account" and info.get("private_key") and info.get("client_email"):
        return "service_account"
    if kind == "authorized_user" or ("refresh_token" in info and "client_id" in info) or "token" in info:
        return "authorized_user"
    raise Unprocessable(
        "credentials must be a service-account JSON (type: service_account, client_email, "
        "private_key) or an authorized-user token JSON (refresh_token, client_id, client_secret)",
        code="invalid_credentials",
    )


def update_google_credentials(session: Session, tenant: Tenant, body: GoogleCredentialUpdate) -> GoogleCredentialRead:
    """Store (or replace) the org's Google credential, encrypted; the secret is never returned."""
    info = body.credentials
    kind = _credential_kind(info)
    _build_credentials(kind, info)  # refuse what google-auth cannot load
    record = session.scalars(scoped_select(tenant, GoogleCredential)).one_or_none()
    if record is None:
        record = GoogleCredential(organization_id=tenant.org_id, kind=kind, secret_encrypted="")
        session.add(record)
    record.kind = kind
    record.client_email = info.get("client_email") if kind == "service_account" else None
    record.secret_encrypted = encrypt_secret(json.dumps(info))
    session.flush()
    return GoogleCredentialRead.model_validate(record)


def _build_credentials(kind: str, info: dict[str, Any]):
    # Token requests only ever go to the configured Google endpoint, whatever the uploaded JSON says.
    info = {**info, "token_uri": get_settings().GOOGLE_TOKEN_URI}
    try:
        if kind == "service_account":
            from google.oauth2.service_account import Credentials as ServiceAccountCredentials

            return ServiceAccountCredentials.from_service_account_info(info, scopes=SCOPES)
        from google.oauth2.credentials import Credentials as UserCredentials

        return UserCredentials(
            token=info.get("token"),
            refresh_token=info.get("refresh_token"),
            client_id=info.get("client_id"),
            client_secret=info.get("client_secret"),
            token_uri=info["token_uri"],
            scopes=SCOPES,
        )
    except (ValueError, KeyError) as exc:
        raise Unprocessable(
            f"The Google credential could not be loaded: {str(exc)[:200]}", code="invalid_credentials"
        ) from None


def _client(session: Session, tenant: Tenant) -> tuple[gspread.Client, str | None]:
    record = session.scalars(scoped_select(tenant, GoogleCredential)).one_or_none()
    if record is not None:
        info = json.loads(decrypt_secret(record.secret_encrypted))
        creds = _build_credentials(record.kind, info)
        return gspread.authorize(creds, http_client=PainelHTTPClient), record.client_email
    settings = get_settings()
    folder = Path(settings.GOOGLE_DEV_CREDENTIALS_DIR)
    token, client_secrets = folder / "token.json", folder / "credentials.json"
    if not settings.is_production and token.exists() and client_secrets.exists():
        # The development flow: a token.json already authorised with credentials.json (never a browser flow here).
        client = gspread.oauth(
            credentials_filename=str(client_secrets), authorized_user_filename=str(token), http_client=PainelHTTPClient
        )
        return client, None
    raise Unprocessable(
        "This organization has no Google credentials: upload a service account or an "
        "authorized-user token with PUT /datasources/google-credentials.",
        code="google_credentials_missing",
    )


def _first_row(range_name: str) -> int:
    match = re.search(r"![A-Za-z]*(\d+)", range_name) or re.match(r"^[A-Za-z]+(\d+)", range_name)
    return int(match.group(1)) if match else 1


def read_range(session: Session, tenant: Tenant, spreadsheet_id: str, range_name: str) -> tuple[list[list[Any]], int]:
    """The range's values (unformatted) and the sheet row number of its first row."""
    client, client_email = _client(session, tenant)
    try:
        spreadsheet = client.open_by_key(spreadsheet_id)
        response = spreadsheet.values_get(
            range_name, params={"valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "SERIAL_NUMBER"}
        )
    except SpreadsheetNotFound:
        raise NotFound(f"Spreadsheet {spreadsheet_id} not found", code="sheet_not_found") from None
    except PermissionError:  # gspread's translation of a 403 on open
        raise _forbidden(spreadsheet_id, client_email) from None
    except APIError as exc:
        raise _api_error(exc, spreadsheet_id, range_name, client_email) from None
    except Exception as exc:  # network errors from requests/google-auth
        logger.warning("Sheets request failed: %s", type(exc).__name__)
        raise ServiceUnavailable(
            "Google Sheets could not be reached; try again later", code="sheets_unavailable"
        ) from None
    return response.get("values", []), _first_row(response.get("range", range_name))


def _forbidden(spreadsheet_id: str, client_email: str | None) -> Forbidden:
    share = f" Share the spreadsheet with {client_email} (Viewer is enough)." if client_email else ""
    return Forbidden(
        f"No permission to read spreadsheet {spreadsheet_id}.{share}",
        code="sheet_forbidden",
        extra={"share_with": client_email} if client_email else None,
    )


def _api_error(exc: APIError, spreadsheet_id: str, range_name: str, client_email: str | None):
    code = exc.code
    if code == 404:
        return NotFound(f"Spreadsheet {spreadsheet_id} not found", code="sheet_not_found")
    if code == 403:
        return _forbidden(spreadsheet_id, client_email)
    if code == 400:
        return Unprocessable(f"Google Sheets refused the range '{range_name}'", code="invalid_range")
    if code in RETRY_STATUSES:
        return ServiceUnavailable(
            "Google Sheets is rate limiting or unavailable; retried with backoff, try again later",
            code="sheets_unavailable",
            headers={"Retry-After": "60"},
        )
    return ServiceUnavailable(f"Google Sheets answered {code}", code="sheets_unavailable")
