"""A/B of refrope's row rotation against an earlier revision's, in one process (paired, interleaved runs).

The rotation of :func:`refrope.apply_rope` (``refrope/_rotate_rows.py``) of a given git revision is loaded beside
the working tree's and both rotate the same q and k, fast and exact, alternately; the figures are medians and the
ratios of paired runs, so the machine's noise cancels as far as it can. Both revisions' results are checked to be
bit-identical first.

    python benchmarks/ab_rotate_rows.py 2633ac8 [--repeats 9]
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import refrope
from refrope import _rotate_rows as new


def _load(revision: str):
    source = subprocess.run(["git", "show", f"{revision}:refrope/_rotate_rows.py"], check=True, capture_output=True,
                            text=True, cwd=Path(__file__).resolve().parent.parent).stdout
    path = Path(tempfile.mkdtemp()) / "_rotate_rows_ab.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("refrope._rotate_rows_ab", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revision")
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    old = _load(args.revision)
    rng = np.random.default_rng(0)
    q, k = rng.standard_normal((32, 4096, 128)), rng.standard_normal((32, 4096, 128))
    positions, freqs = np.arange(4096.0)[None], refrope.inv_freq("default", 128)

    def fast(module):
        outs = [np.empty_like(q), np.empty_like(k)]
        for x, out in zip((q, k), outs):
            module.rotate_rows(x, positions, freqs.inv_freq, 1.0, "half", out)
        return outs

    def exact(module):
        outs = [np.empty_like(q), np.empty_like(k)]
        for x, out in zip((q, k), outs):
            module.rotate_rows_exact(x, positions, freqs, "half", out)
        return outs

    cases = {"fast": fast, "exact": exact}
    for name, run in cases.items():
        if not all(np.array_equal(a, b) for a, b in zip(run(old), run(new))):
            raise AssertionError(f"{name}: the two revisions' results differ")
    times = {(name, label): [] for name in cases for label in ("old", "new")}
    for _ in range(args.repeats):
        for name, run in cases.items():
            for label, module in (("old", old), ("new", new)):
                start = time.perf_counter()
                run(module)
                times[name, label].append(time.perf_counter() - start)
    print(f"q and k (32, 4096, 128) float64, half layout; medians of {args.repeats} interleaved repetitions; "
          f"old = {args.revision}")
    print("| rotation | old | new | new / old (median of paired ratios) |\n|---|---|---|---|")
    for name in cases:
        o, n = np.array(times[name, "old"]), np.array(times[name, "new"])
        print(f"| {name} | {np.median(o):.4f} s | {np.median(n):.4f} s | {np.median(n / o):.2f} |")
    ratio = np.array(times["exact", "new"]) / np.array(times["fast", "new"])
    ratio_old = np.array(times["exact", "old"]) / np.array(times["fast", "old"])
    print(f"\nexact / fast (rotation alone): old {np.median(ratio_old):.2f}, new {np.median(ratio):.2f}")


if __name__ == "__main__":
    main()
