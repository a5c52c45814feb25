"""The cyclic garbage collector kept out of work that makes millions of objects and no cycles.

Reference counting frees what a page, a report or the loaded index leaves; the cyclic collector
only walks those objects again and again while they are alive (benchmarks/README.md, "Local
work"). Both are context managers and, through contextlib, decorators too.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """The collector off for the block (as it was after): for a step whose objects hold no
    reference cycles, such as reading pages, building a report or loading the index. What
    cyclic garbage the block leaves waits for the collector's first pass after it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def frozen() -> Iterator[None]:
    """What is alive at the start (the classifier's reference data above all, hundreds of MB
    that outlive a run) kept out of the collector's full passes for the block, then given back
    to them, so that all of it can be collected again."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
