"""The serving process's garbage collector is settled at startup: what startup made is frozen out of full passes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import gc
from fastapi.testclient import TestClient
from app.main import create_app
before = gc.get_freeze_count()
with TestClient(create_app()) as client:
    assert client.get("/health").status_code == 200
    print(before, gc.get_freeze_count(), gc.get_threshold()[0])
"""


def _probe(settle: str) -> list[int]:
    env = {**os.environ, "GC_SETTLE": settle}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return [int(n) for n in done.stdout.split()]


def test_startup_freezes_what_it_made_and_collects_generation_0_less_often():
    before, frozen, gen0 = _probe("true")
    # Every module, class and the app itself: far more than a bare interpreter's objects.
    assert before == 0 and frozen > 50_000 and gen0 == 10_000


def test_the_setting_turns_it_off():
    assert _probe("false") == [0, 0, 700]
