"""A local HTTP server speaking the Sheets API v4 JSON (spreadsheets.get, values.get) and Google's OAuth
token endpoint, so the real gspread + google-auth code path runs in tests without Google."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlparse

TOKEN = "test-access-token"


class SheetsState:
    def __init__(self) -> None:
        self.sheets: dict[str, dict[str, list[list]]] = {}  # spreadsheet id -> sheet title -> values
        self.forbidden: set[str] = set()
        self.rate_limited: dict[str, int] = {}  # id -> how many 429s before answering
        self.requests: list[str] = []
        self.token_requests = 0


def _handler(state: SheetsState):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output clean
            pass

        def _send(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, reason: str, message: str) -> None:
            self._send(status, {"error": {"code": status, "message": message, "status": reason}})

        def do_POST(self):  # the OAuth token endpoint (service-account JWT bearer grant)
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length).decode()
            if urlparse(self.path).path == "/token" and "assertion=" in body:
                state.token_requests += 1
                self._send(200, {"access_token": TOKEN, "expires_in": 3600, "token_type": "Bearer"})
            else:
                self._error(400, "INVALID_REQUEST", "bad token request")

        def do_GET(self):
            state.requests.append(self.path)
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self._error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
            parts = urlparse(self.path).path.split("/")
            # /v4/spreadsheets/{id}[/values/{range}]
            if len(parts) < 4 or parts[1:3] != ["v4", "spreadsheets"]:
                return self._error(404, "NOT_FOUND", "Not found")
            sheet_id = parts[3]
            if state.rate_limited.get(sheet_id, 0) > 0:
                state.rate_limited[sheet_id] -= 1
                return self._error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Read requests'")
            if sheet_id in state.forbidden:
                return self._error(403, "PERMISSION_DENIED", "The caller does not have permission")
            book = state.sheets.get(sheet_id)
            if book is None:
                return self._error(404, "NOT_FOUND", "Requested entity was not found.")
            if len(parts) == 4:
                return self._send(
                    200,
                    {
                        "spreadsheetId": sheet_id,
                        "properties": {"title": "Vendas", "locale": "pt_BR", "timeZone": "America/Sao_Paulo"},
                        "sheets": [
                            {
                                "properties": {
                                    "sheetId": i,
                                    "title": title,
                                    "index": i,
                                    "gridProperties": {"rowCount": 1000, "columnCount": 26},
                                }
                            }
                            for i, title in enumerate(book)
                        ],
                    },
                )
            range_name = unquote(parts[5])
            title = range_name.split("!")[0].strip("'")
            if title not in book:
                return self._error(400, "INVALID_ARGUMENT", f"Unable to parse range: {range_name}")
            values = book[title]
            return self._send(200, {"range": f"{title}!A1:Z{len(values)}", "majorDimension": "ROWS", "values": values})

    return Handler


class SheetsServer:
    def __init__(self) -> None:
        self.state = SheetsState()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v4/spreadsheets"

    @property
    def token_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def __enter__(self) -> SheetsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
