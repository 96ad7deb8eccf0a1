"""``python -m refrope.bench.child attention N D RELPOS``: one attention call in a fresh process; prints its time and
peak memory as JSON (:func:`refrope.bench.timing.peak_memory`). Used by ``refrope bench`` for the scaling in n."""

from __future__ import annotations

import json
import sys

from .timing import peak_memory
from .workloads import attention_inputs, relpos_of


def main(argv: list[str]) -> int:
    kind, n, d, relpos = argv[0], int(argv[1]), int(argv[2]), argv[3]
    if kind != "attention":
        raise SystemExit(f"unknown case {kind!r}")
    import refrope

    q, k, v, freqs = attention_inputs(n, d)
    result = peak_memory(lambda: refrope.attention(q, k, v, freqs, relpos=relpos_of(relpos)))
    result["input_bytes"] = q.nbytes + k.nbytes + v.nbytes
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
