"""Profile indicator requests in process (pyinstrument): where the Python time of a request goes.

    .venv/bin/python bench/profile_indicator.py [--requests 500] [--root .] [--database-url ...]

Runs GET /indicators/valor-mes-a-mes (2025) for the `bench-medium` org of bench/indicators.py's database through
Starlette's TestClient, after a warm-up, and prints pyinstrument's call tree (time per frame, top of the tree) and
the mean time per request. --root points at another checkout (e.g. the code before a change) to compare. With
RESULT_CACHE_MAX_MB=0 in the environment, every request computes its answer (no result cache).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from pathlib import Path

from cryptography.fernet import Fernet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=str(Path(__file__).resolve().parents[1]))
    parser.add_argument("--database-url", default="postgresql+psycopg2://postgres@127.0.0.1:5432/painel_bench_rollups")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--path", default="/indicators/valor-mes-a-mes?from=2025-01-01&to=2025-12-31")
    args = parser.parse_args()
    os.environ.update(
        {
            "DATABASE_URL": args.database_url,
            "APP_ENV": "development",
            "SCHEDULER_ENABLED": "false",
            "SEED_DEMO": "false",
            "JWT_SECRET": secrets.token_urlsafe(36),
            "SECRETS_KEY": Fernet.generate_key().decode(),
        }
    )
    sys.path.insert(0, args.root)
    from fastapi.testclient import TestClient
    from pyinstrument import Profiler
    from sqlalchemy import create_engine, text

    from app.core.security import create_access_token
    from app.main import create_app

    engine = create_engine(args.database_url)
    with engine.connect() as conn:
        org, user = conn.execute(
            text(
                "SELECT o.id, m.user_id FROM organizations o JOIN memberships m ON m.organization_id = o.id "
                "WHERE o.slug = 'bench-medium'"
            )
        ).one()
    engine.dispose()
    headers = {"Authorization": f"Bearer {create_access_token(user, org)}"}
    with TestClient(create_app()) as client:
        for _ in range(50):
            assert client.get(args.path, headers=headers).status_code == 200
        profiler = Profiler(interval=0.0002)
        started = time.perf_counter()
        profiler.start()
        for _ in range(args.requests):
            client.get(args.path, headers=headers)
        profiler.stop()
        elapsed = time.perf_counter() - started
    print(f"{args.requests} requests, {elapsed / args.requests * 1000:.2f} ms each (profiled, in process)")
    print(profiler.output_text(unicode=False, color=False, show_all=False, short_mode=True))


if __name__ == "__main__":
    main()
