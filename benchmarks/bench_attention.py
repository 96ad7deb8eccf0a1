"""Benchmark of refrope's attention oracle (``method="auto"``) against PyTorch and naive NumPy, in float64.

Cases (one head, d = 128, causal, float64), timed side by side in one run, repetitions interleaved
(the machine is shared and noisy: the medians and the ratios of medians are what to read):

1. plain RoPE attention, n = 8192: refrope vs ``torch.nn.functional.scaled_dot_product_attention``
   (on q, k rotated beforehand, so torch's time excludes RoPE while ours includes it), a naive
   NumPy version (the whole n x n matrix), and the DGEMM bound (the two causal products alone);
2. ReRoPE (w = 1024), n = 8192: refrope vs a bojone-style implementation in torch (two full score
   matrices, ``where(|dpos| < w, a1, a2)``, causal mask, softmax; rerope_patch.py);
3. n = 65536 for every relative-position map: time and peak memory of refrope.

Peak memory is measured in a fresh child process per case: ``VmHWM`` (peak resident set) minus the
resident set just before the call, from /proc/self/status; for refrope also ``tracemalloc``'s peak
(every NumPy allocation). Usage::

    python benchmarks/bench_attention.py [--reps 5] [--skip-long] [--out benchmarks/results_attention.md]
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc

import numpy as np

import refrope
from refrope import relpos as rp

D = 128
WINDOW = 1024
MAPS = {"rope": "rope", "linear(4)": rp.linear(4.0), "rerope(1024)": rp.rerope(1024),
        "leaky_rerope(1024, 16)": rp.leaky_rerope(1024, 16),
        "inv_leaky_rerope(1024, 1/16)": rp.inv_leaky_rerope(1024, 1 / 16)}


def inputs(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    q, k, v = (rng.standard_normal((1, n, D)) for _ in range(3))
    return q, k, v, refrope.inv_freq("default", D)


# ---------------------------------------------------------------- the implementations compared

def ours(n: int, relpos="rope"):
    q, k, v, f = inputs(n)
    return lambda: refrope.attention(q, k, v, f, relpos=relpos)


def naive_numpy(n: int):
    q, k, v, f = inputs(n)
    pos = np.arange(n)
    qr, kr = refrope.apply_rope(q[0], pos, f), refrope.apply_rope(k[0], pos, f)

    future = pos[None, :] > pos[:, None]

    def run():
        s = qr @ kr.T / math.sqrt(D)
        np.copyto(s, -np.inf, where=future)
        s -= s.max(axis=1, keepdims=True)
        np.exp(s, out=s)
        s /= s.sum(axis=1, keepdims=True)
        return s @ v[0]
    return run


def dgemm_bound(n: int, block: int = 512):
    """The causal products alone, tile by tile: the arithmetic any exact method must do."""
    q, k, v, _ = inputs(n)
    q, k, v = q[0], k[0], v[0]

    def run():
        for s in range(0, n, block):
            e = s + block
            np.matmul(q[s:e] @ k[:e].T, v[:e])
    return run


def _torch():
    import torch
    torch.set_num_threads(os.cpu_count() or 1)
    return torch


def torch_sdpa(n: int):
    torch = _torch()
    q, k, v, f = inputs(n)
    pos = np.arange(n)
    qt, kt, vt = (torch.from_numpy(np.ascontiguousarray(x))[None]
                  for x in (refrope.apply_rope(q, pos, f), refrope.apply_rope(k, pos, f), v))
    return lambda: torch.nn.functional.scaled_dot_product_attention(qt, kt, vt, is_causal=True)


def torch_bojone_rerope(n: int, window: int = WINDOW):
    """rerope_patch.py's prefill in float64: two full score matrices combined by |dpos| < window."""
    torch = _torch()
    q, k, v, f = inputs(n)
    pos = np.arange(n)
    q1, k1 = (torch.from_numpy(refrope.apply_rope(x[0], pos, f)) for x in (q, k))
    q2 = torch.from_numpy(refrope.apply_rope(q[0], np.full(n, window), f))
    k2, vt = torch.from_numpy(k[0]), torch.from_numpy(v[0])
    p = torch.arange(n)

    def run():
        a1 = q1 @ k1.T / math.sqrt(D)
        a2 = q2 @ k2.T / math.sqrt(D)
        rel = p[:, None] - p[None, :]
        a = torch.where(rel.abs() < window, a1, a2)
        a = a.masked_fill(rel < 0, float("-inf"))
        return torch.softmax(a, dim=-1) @ vt
    return run


# ---------------------------------------------------------------- measuring

def _status(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    return 0


def child(case: str, n: int, relpos_name: str) -> dict:
    """Run one case once in this (fresh) process; report time and peak memory."""
    maker = {"ours": lambda: ours(n, MAPS[relpos_name]), "naive": lambda: naive_numpy(n),
             "sdpa": lambda: torch_sdpa(n), "bojone": lambda: torch_bojone_rerope(n)}[case]
    run = maker()
    before = _status("VmRSS")
    if case == "ours":
        tracemalloc.start()
    start = time.perf_counter()
    run()
    seconds = time.perf_counter() - start
    traced = tracemalloc.get_traced_memory()[1] if case == "ours" else None
    return {"seconds": seconds, "rss_before": before, "peak_rss": _status("VmHWM"), "traced_peak": traced}


def in_child(case: str, n: int, relpos_name: str = "rope") -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", case, str(n), relpos_name],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def interleaved(runs: dict, reps: int) -> dict:
    """All timings (seconds) of each callable, repetitions interleaved, after one warm-up each."""
    for run in runs.values():
        run()
    times = {name: [] for name in runs}
    for _ in range(reps):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return times


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import torch
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__} "
            f"(BLAS: {_blas()}), torch {torch.__version__}, "
            f"load average before the run {os.getloadavg()[0]:.2f}")


def _blas() -> str:
    info = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    return f"{info.get('name', '?')} {info.get('version', '')}".strip()


def mib(x: float | None) -> str:
    return "–" if x is None else f"{x / 2**20:,.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--n", type=int, default=8192, help="sequence length of the side-by-side cases")
    parser.add_argument("--long", type=int, default=65536, help="sequence length of the long cases")
    parser.add_argument("--skip-long", action="store_true", help="skip the n = 65536 cases")
    parser.add_argument("--out", default=None, help="write the Markdown report here")
    parser.add_argument("--child", nargs=3, metavar=("CASE", "N", "RELPOS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), args.child[2])))
        return

    n = args.n
    lines = [f"# Attention benchmark ({datetime.date.today().isoformat()})", "",
             f"Machine: {machine()}.", "",
             f"One head, d = {D}, causal, float64; medians of {args.reps} interleaved repetitions "
             "(after one warm-up each).", ""]
    times = interleaved({"refrope RoPE": ours(n), "refrope ReRoPE w=1024": ours(n, rp.rerope(WINDOW)),
                         "refrope Leaky w=1024 k=16": ours(n, rp.leaky_rerope(WINDOW, 16)),
                         "torch SDPA (RoPE)": torch_sdpa(n), "torch bojone ReRoPE w=1024": torch_bojone_rerope(n),
                         "naive NumPy (RoPE)": naive_numpy(n), "DGEMM bound (causal products)": dgemm_bound(n)},
                        args.reps)
    mem = {name: in_child(case, n, rel) for name, case, rel in
           [("refrope RoPE", "ours", "rope"), ("refrope ReRoPE w=1024", "ours", "rerope(1024)"),
            ("refrope Leaky w=1024 k=16", "ours", "leaky_rerope(1024, 16)"), ("torch SDPA (RoPE)", "sdpa", "rope"),
            ("torch bojone ReRoPE w=1024", "bojone", "rope"), ("naive NumPy (RoPE)", "naive", "rope")]}
    med = {name: statistics.median(t) for name, t in times.items()}
    low = {name: min(t) for name, t in times.items()}
    base, torch_t = med["refrope RoPE"], med["torch SDPA (RoPE)"]
    lines += [f"## n = {n}", "",
              "| implementation | median | vs refrope RoPE | vs torch SDPA | min | min vs torch SDPA "
              "| peak RSS increase |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, t in med.items():
        m = mem.get(name)
        extra = mib(m["peak_rss"] - m["rss_before"]) if m else "–"
        lines.append(f"| {name} | {t:.3f} s | {t / base:.2f}x | {t / torch_t:.2f}x | {low[name]:.3f} s | "
                     f"{low[name] / low['torch SDPA (RoPE)']:.2f}x | {extra} |")
    rerope = med["refrope ReRoPE w=1024"]
    lines += ["", f"Targets (medians): refrope RoPE <= 1.0x torch SDPA: {base / torch_t:.2f}x; "
              f"refrope ReRoPE <= 1.3x refrope RoPE: {rerope / base:.2f}x "
              f"(minimums: {low['refrope RoPE'] / low['torch SDPA (RoPE)']:.2f}x and "
              f"{low['refrope ReRoPE w=1024'] / low['refrope RoPE']:.2f}x). Load average after: "
              f"{os.getloadavg()[0]:.2f}.", ""]
    if not args.skip_long:
        lines += [f"## n = {args.long}, one run each in a fresh process", "",
                  "| map | time | peak RSS increase | tracemalloc peak | peak RSS of the process |",
                  "| --- | --- | --- | --- | --- |"]
        for name in MAPS:
            m = in_child("ours", args.long, name)
            lines.append(f"| {name} | {m['seconds']:.1f} s | {mib(m['peak_rss'] - m['rss_before'])} | "
                         f"{mib(m['traced_peak'])} | {mib(m['peak_rss'])} |")
        lines += ["", "Target: peak memory <= 2 GiB for every map.", ""]
    report = "\n".join(lines)
    print(report)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(report)


if __name__ == "__main__":
    main()
