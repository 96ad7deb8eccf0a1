"""The oracle's own threads: independent blocks of work spread over the cores, with the same result bits.

NumPy's ufuncs release the GIL, so a pool of Python threads running them on disjoint blocks uses every core.
Each block is computed by exactly the operations, in exactly the order, of the serial loop, so a result never
depends on the thread count. ``REFROPE_NUM_THREADS`` sets the number of threads (default: the CPUs this process
may run on); ``REFROPE_NUM_THREADS=1`` runs everything in the calling thread. Attention holds BLAS to one thread
for the whole call (:func:`one_blas_thread`, through ``threadpoolctl``, the ``threads`` extra; without it BLAS
keeps its own thread count): OpenBLAS rounds some products differently
with more threads, so its results would otherwise depend on ``OPENBLAS_NUM_THREADS``; and the pool already occupies
the cores, where BLAS threads spinning beside it slow both down.
Spec: docs/spec/performance.md [PERF-THREADS-1].
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

__all__ = ["workers", "parallel_map", "one_blas_thread", "ENV"]

ENV = "REFROPE_NUM_THREADS"
_state = threading.local()  # .inside: this thread is one of our workers (nested calls run serially)
_controller = []  # the threadpoolctl controller, created on first use (it lists the loaded BLAS libraries)


def workers() -> int:
    """The number of threads to use: ``REFROPE_NUM_THREADS`` if set, else the CPUs this process may use.

    >>> workers() >= 1
    True
    """
    text = os.environ.get(ENV, "").strip()
    if text:
        if not text.isdigit() or int(text) < 1:
            raise ValueError(f"{ENV} must be a positive integer, got {text!r}")
        return int(text)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def one_blas_thread():
    """BLAS held to one thread for the duration (restored after), when ``threadpoolctl`` is installed; else nothing
    changes. Process-wide: another thread's BLAS calls meanwhile run on one thread too (same results, slower)."""
    if not _controller:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _controller.append(None)
        else:
            _controller.append(ThreadpoolController())
    if _controller[0] is None:
        yield
        return
    with _controller[0].limit(limits=1, user_api="blas"):
        yield


def _in_worker(fn: Callable):
    def run(item):
        _state.inside = True
        try:
            return fn(item)
        finally:
            _state.inside = False
    return run


def parallel_map(fn: Callable, items: Iterable) -> list:
    """``[fn(item) for item in items]``, the items spread over :func:`workers` threads (started in the order of
    the list: put the largest first). Serial with one worker, one item, or when called from inside a worker.

    >>> parallel_map(lambda i: i * i, range(5))
    [0, 1, 4, 9, 16]
    """
    items = list(items)
    count = min(workers(), len(items))
    if count <= 1 or getattr(_state, "inside", False):
        return [fn(item) for item in items]
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(_in_worker(fn), items))
