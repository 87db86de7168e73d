"""Tenant data source connections: which URLs may be opened (check_url) and opening them safely.

The URL is the attack surface (Metabase CVE-2023-38646 came through a connection string), so check_url
allows only server dialects, known sync drivers and short per-dialect parameter lists, resolves the host,
refuses private addresses and the app's own database, and pins the checked IP for the connection.
"""

from app.services.connections.checks import CheckedUrl, check_url
from app.services.connections.drivers import PIP_PACKAGES
from app.services.connections.engines import open_engine, run_failure, test_connection
from app.services.connections.urls import join_secret, mask_url, same_destination, split_secret

test_connection.__test__ = False  # type: ignore[attr-defined]  # pytest reads it: a service, not a test

__all__ = [
    "PIP_PACKAGES",
    "CheckedUrl",
    "check_url",
    "join_secret",
    "mask_url",
    "open_engine",
    "run_failure",
    "same_destination",
    "split_secret",
    "test_connection",
]
