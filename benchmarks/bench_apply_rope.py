"""apply_rope throughput, side by side in one run (the machine is noisy: only ratios are meaningful).

Workload: q and k of shape (32 heads, 4096 tokens, 128), float64, positions 0..4095, default RoPE, "half" layout.

* ``refrope``: ``refrope.apply_rope(q, pos, freqs)`` and the same for k (cos/sin computed inside);
* ``transformers``: ``apply_rotary_pos_emb(q, k, cos, sin)`` from transformers' Llama in float64, with the
  cos/sin tables precomputed (the reference most people would write);
* ``copy``: ``np.copyto`` of the same bytes into preallocated outputs (the memory-bandwidth floor).

Repetitions are interleaved (A B C A B C ...) and the median of each is reported.
Run: ``python benchmarks/bench_apply_rope.py [--repeats N]``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np

import refrope

SHAPE = (32, 4096, 128)


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    q, k = rng.standard_normal(SHAPE), rng.standard_normal(SHAPE)
    pos = np.arange(SHAPE[1])
    freqs = refrope.inv_freq("default", SHAPE[2])
    cases = {
        "refrope": lambda: (refrope.apply_rope(q, pos, freqs), refrope.apply_rope(k, pos, freqs)),
    }
    out_q, out_k = np.empty_like(q), np.empty_like(k)
    cases["copy"] = lambda: (np.copyto(out_q, q), np.copyto(out_k, k))
    try:
        import torch
        from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

        torch.set_num_threads(2)
        tq, tk = torch.from_numpy(q)[None], torch.from_numpy(k)[None]          # (batch, heads, seq, dim)
        cos, sin = (torch.from_numpy(t)[None] for t in refrope.cos_sin(pos, freqs))  # (batch, seq, dim)
        cases["transformers"] = lambda: apply_rotary_pos_emb(tq, tk, cos, sin)
        versions = f"torch {torch.__version__}"
    except ImportError:
        versions = "transformers not installed"
    # correctness before timing: the two implementations agree
    if "transformers" in cases:
        hq, _ = cases["transformers"]()
        assert np.allclose(hq[0].numpy(), refrope.apply_rope(q, pos, freqs), rtol=0, atol=1e-12)
    times = {name: [] for name in cases}
    for _ in range(args.repeats):
        for name, fn in cases.items():
            times[name].append(_timed(fn))
    med = {name: statistics.median(t) for name, t in times.items()}
    gb = 2 * 2 * q.nbytes / 1e9  # read and write q and k
    print(f"apply_rope, q and k {SHAPE} float64; {platform.processor() or platform.machine()}; numpy {np.__version__}; "
          f"{versions}; median of {args.repeats} interleaved runs")
    for name, t in sorted(med.items(), key=lambda kv: kv[1]):
        print(f"  {name:13s} {t:8.3f} s   {gb / t:6.2f} GB/s effective")
    if "transformers" in med:
        print(f"  speed-up of refrope over transformers: {med['transformers'] / med['refrope']:.2f}x "
              f"(target >= 3x); refrope / copy: {med['refrope'] / med['copy']:.2f}x")
    return med


if __name__ == "__main__":
    main()
