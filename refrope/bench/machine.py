"""The machine a benchmark ran on, and waiting for it to be quiet.

The record names the CPU model (``lscpu``, else ``/proc/cpuinfo``), the cores this process may use, the load
average before and after, the BLAS library and its thread count (``threadpoolctl``), the oracle's own thread count
(``REFROPE_NUM_THREADS``, :mod:`refrope._parallel`) and the versions of what was compared.
Spec: docs/spec/performance.md [PERF-BENCH-1].
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time

__all__ = ["machine", "blas", "load", "wait_for_quiet"]


def _cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            return next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def blas() -> dict:
    """``{"name", "version", "threads"}`` of the BLAS NumPy uses (threads from ``threadpoolctl`` when installed)."""
    import numpy as np

    try:
        info = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    except (TypeError, AttributeError):  # NumPy < 1.26
        info = {}
    out = {"name": info.get("name", "?"), "version": info.get("version", "?"), "threads": None}
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return out
    threads = [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]
    out["threads"] = max(threads) if threads else None
    return out


def load() -> float:
    """The one-minute load average (0 where the system has none)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0


def wait_for_quiet(max_load: float, timeout: float, *, poll: float = 10.0, say=print) -> bool:
    """Wait until the one-minute load average is below ``max_load`` (at most ``timeout`` seconds); whether it is."""
    deadline = time.monotonic() + timeout
    while load() >= max_load:
        if time.monotonic() >= deadline:
            say(f"  load average {load():.2f} still >= {max_load} after {timeout:.0f} s: measuring anyway")
            return False
        say(f"  load average {load():.2f} >= {max_load}: waiting (at most {deadline - time.monotonic():.0f} s more)")
        time.sleep(poll)
    return True


def machine() -> dict:
    """What the figures depend on: CPU, cores, memory, load, BLAS and thread counts, versions.

    >>> sorted(machine())[:4]
    ['blas', 'cores', 'cpu', 'env']
    """
    import numpy as np

    from .. import __version__
    from .._parallel import workers

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    versions = {"python": platform.python_version(), "numpy": np.__version__, "refrope": __version__}
    for name in ("torch", "transformers"):
        module = sys.modules.get(name)
        if module is not None:
            versions[name] = getattr(module, "__version__", "?")
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = None
    return {"cpu": _cpu_model(), "cores": cores, "memory_bytes": memory, "load_average": round(load(), 2),
            "blas": blas(), "refrope_threads": workers(),
            "env": {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                                "REFROPE_NUM_THREADS") if k in os.environ},
            "platform": platform.platform(), "versions": versions}
