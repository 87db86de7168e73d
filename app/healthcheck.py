"""Container health check (the Dockerfile's HEALTHCHECK): `python -m app.healthcheck` exits 0 when the API's
readiness probe answers 200 (HEALTHCHECK_URL, default http://127.0.0.1:8000/health/ready), 1 otherwise.
Standard library only: it runs every 30 s and must not load the app."""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8000/health/ready"
TIMEOUT_SECONDS = 4


def main() -> int:
    url = os.environ.get("HEALTHCHECK_URL", DEFAULT_URL)
    if not url.startswith(("http://", "https://")):
        return 1
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 scheme checked above
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError):
        return 1


if __name__ == "__main__":
    sys.exit(main())
