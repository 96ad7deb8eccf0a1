"""Checks of the schemes (docs/spec/schemes.md) against the oracle: apply_xpos ([K-XPOS-1]) and
dual_chunk_attention ([K-DCA-1]); attention with a bias, NoPE or a chunk mask is checks.check_attention's.

Like spec_tests/conformance/checks.py: inputs go through ``to_backend``, the float64 oracle runs on the values the
backend received, the budgets are refrope.budgets' plus the terms of refrope.scheme_budgets, and every failure is
a ConformanceFailure naming its clause with a repro note.
"""

from __future__ import annotations

import numpy as np

import refrope
from refrope import scheme_budgets

from .assertions import assert_within, call_text, repro
from .checks import _received, _unchanged, backend_rotation, check_nmse


def check_apply_xpos(backend, dtype: str, x, positions, freqs, **options) -> float:
    """[K-XPOS-1] [K-INPUT-1] apply_xpos within the xPos budget, pass-through coordinates exact, input untouched."""
    call = call_text("apply_xpos", (np.asarray(x), np.asarray(positions), freqs), options)
    with repro(backend, dtype, call):
        actual, xr = backend_rotation(backend, dtype, "apply_xpos", call, x, positions, freqs, options)
        expected = refrope.apply_xpos(xr, positions, freqs, **options)
        d = freqs.rotary_dim
        assert_within("K-XPOS-1", call=call + " [pass-through coordinates]", actual=actual[..., d:],
                      expected=expected[..., d:], budget=0.0)
        budget = scheme_budgets.xpos_budget(xr, positions, freqs, dtype=dtype, angle_dtype=backend.angle_dtype,
                                            **options)
        return assert_within("K-XPOS-1", call=call, actual=actual, expected=expected, budget=budget)


def check_dual_chunk_attention(backend, dtype: str, q, k, v, freqs, **options) -> float:
    """[K-DCA-1] dual_chunk_attention within [N-ATTN-1] (largest angle chunk_size * max omega) and [N-ATTN-2]."""
    call = call_text("dual_chunk_attention", (np.asarray(q), np.asarray(k), np.asarray(v), freqs), options)
    with repro(backend, dtype, call):
        received = [_received(backend, a, dtype) for a in (q, k, v)]
        (nq, qr), (nk, kr), (nv, vr) = received
        out = backend.function("dual_chunk_attention")(nq, nk, nv, freqs, **options)
        for (native, before), name in zip(received, "qkv"):
            _unchanged(backend, "K-INPUT-1", call + f" [{name}]", native, before)
        actual = np.asarray(backend.to_numpy(out), dtype=np.float64)
        expected = refrope.dual_chunk_attention(qr, kr, vr, freqs, **options)
        group = qr.shape[-3] // kr.shape[-3]
        k_rep, v_rep = np.repeat(kr, group, axis=-3), np.repeat(vr, group, axis=-3)
        lam = options.get("scale") or 1.0 / np.sqrt(qr.shape[-1])
        s_max = lam * (freqs.attention_factor ** 2 + 1) * np.linalg.norm(qr, axis=-1, keepdims=True) \
            * np.linalg.norm(k_rep, axis=-1).max(axis=-1)[..., None, None]
        budget = scheme_budgets.dual_chunk_budget(qr, k_rep, v_rep, freqs, chunk_size=options["chunk_size"],
                                                  scale=options.get("scale"), dtype=dtype,
                                                  angle_dtype=backend.angle_dtype, max_logit=s_max)
        budget = np.broadcast_to(budget, expected.shape)
        ratio = assert_within("K-DCA-1", call=call, actual=actual, expected=expected, budget=budget)
        check_nmse("K-DCA-1", call, actual, expected, budget)
        return ratio
