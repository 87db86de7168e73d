"""The garbage collector of a serving process, settled once the app has started.

Python's full (generation 2) collections walk every tracked object. After startup a worker holds ~220,000 of them
(modules, classes, pandas, SQLAlchemy and pydantic internals), so each full pass took 110-160 ms, several times in
10 s under load: every request in flight waited, and that was the p99 (docs/PERFORMANCE.md). `gc.freeze()` moves
what is alive at startup into the permanent generation, which no collection walks; objects made later (caches,
requests) are collected as before. Generation 0 is also collected less often: its default threshold of 700
allocations ran ~170 collections a second on a busy worker.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 10_000


def settle() -> None:
    """Collect what startup left behind, freeze the rest, and raise generation 0's threshold. Once per process,
    after the app is imported (the lifespan's start)."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
