"""One check per oracle function: run the backend and the oracle on the same inputs, compare within budget.

Every check converts inputs with ``backend.to_backend(a, dtype)``, evaluates the float64 oracle on the
values the backend actually received (``to_numpy`` of them), and compares with the budget of
:mod:`refrope.budgets`. Each returns the worst error/budget ratio seen (for the report) and raises
:class:`~spec_tests.conformance.assertions.ConformanceFailure` naming the clause otherwise.
The conformance tests and the mutant run (spec_tests/meta/test_mutants.py) both call these.
"""

from __future__ import annotations

import numpy as np

import refrope
from refrope import budgets as tol
from refrope import scheme_budgets
from refrope.report.hints import cos_sin_hint, rope_hint

from .assertions import ConformanceFailure, assert_within, call_text, repro, repro_script


def _received(backend, array: np.ndarray, dtype: str):
    """``(native, as_float64)``: the backend's copy of ``array`` and the exact values it holds."""
    native = backend.to_backend(np.asarray(array, dtype=np.float64), dtype)
    return native, np.asarray(backend.to_numpy(native), dtype=np.float64).copy()


def _with_hint(exc: ConformanceFailure, hint: str | None) -> None:
    """Attach a likely cause to a failure ([K-HINT-1]): as ``exc.hint`` (the report reads it) and as a note."""
    exc.hint = hint
    if hint:
        exc.add_note(f"likely cause: {hint}")


def _unchanged(backend, clause: str, call: str, native, before: np.ndarray) -> None:
    after = np.asarray(backend.to_numpy(native), dtype=np.float64)
    same = (after == before) | (np.isnan(after) & np.isnan(before))
    if not same.all():
        idx = tuple(int(i) for i in np.argwhere(~same)[0])
        raise ConformanceFailure(clause, f"{call}: the backend modified its input; first at index {idx}: "
                                 f"{before[idx]!r} became {after[idx]!r}")


def backend_rotation(backend, dtype: str, function: str, call: str, x, positions, freqs, kwargs: dict):
    """``(actual, xr)``: the backend's ``function(x, positions, freqs, **kwargs)`` as float64, on ``x`` as received
    (``xr``, the oracle's input), positions copied; [K-INPUT-1] checked on ``x``."""
    native, xr = _received(backend, x, dtype)
    with np.errstate(invalid="ignore", over="ignore"):  # inf * 0 in a NumPy backend: judged by value
        out = backend.function(function)(native, np.asarray(positions).copy(), freqs, **kwargs)
    _unchanged(backend, "K-INPUT-1", call, native, xr)
    return np.asarray(backend.to_numpy(out), dtype=np.float64), xr


def passthrough(head: int, offset: int, d: int) -> np.ndarray:
    """The coordinates of a head of ``head`` outside the rotary slice ``[offset, offset + d)`` (a bool mask)."""
    outside = np.ones(head, dtype=bool)
    outside[offset:offset + d] = False
    return outside


def check_apply_rope(backend, dtype: str, x, positions, freqs, *, layout: str, rotary_offset: int = 0) -> float:
    """[K-APPLY-1] [K-APPLY-2] [K-INPUT-1] apply_rope within [N-ROPE-1], pass-through exact, input untouched."""
    kwargs = {"layout": layout, "rotary_offset": rotary_offset}
    args = (np.asarray(x), np.asarray(positions), freqs)
    call = call_text("apply_rope", args, kwargs)
    script = lambda: repro_script(backend, dtype, "apply_rope", args, kwargs, native={0: "x"})
    with repro(backend, dtype, call, script=script):
        actual, xr = backend_rotation(backend, dtype, "apply_rope", call, x, positions, freqs, kwargs)
        if actual.shape != xr.shape:
            raise ConformanceFailure("K-APPLY-1", f"{call}: backend shape {actual.shape}, input shape {xr.shape}")
        with np.errstate(invalid="ignore", over="ignore"):
            expected = refrope.apply_rope(xr, positions, freqs, **kwargs)
        budget = tol.rope_budget(xr, positions, freqs, dtype=dtype, angle_dtype=backend.angle_dtype,
                                 angle_method=backend.angle_method, **kwargs)
        outside = passthrough(xr.shape[-1], rotary_offset, freqs.rotary_dim)
        assert_within("K-APPLY-2", call=call + " [pass-through coordinates]", actual=actual[..., outside],
                      expected=expected[..., outside], budget=0.0)
        try:
            return assert_within("K-APPLY-1", call=call, actual=actual, expected=expected, budget=budget)
        except ConformanceFailure as exc:
            _with_hint(exc, rope_hint(actual, xr, positions, freqs, budget=budget, **kwargs))
            raise


def check_cos_sin(backend, dtype: str, positions, freqs, *, layout: str) -> float:
    """[K-COSSIN-1] cos_sin tables within [N-COSSIN-1]."""
    args, kwargs = (np.asarray(positions), freqs), {"layout": layout}
    call = call_text("cos_sin", args, kwargs)
    script = lambda: repro_script(backend, dtype, "cos_sin", args, kwargs, native={}, backend_kwargs={"dtype": dtype})
    with repro(backend, dtype, call, script=script):
        cos, sin = backend.function("cos_sin")(np.asarray(positions).copy(), freqs, layout=layout, dtype=dtype)
        e_cos, e_sin = refrope.cos_sin(positions, freqs, layout=layout)
        budget = tol.cos_sin_budget(positions, freqs, dtype=dtype, angle_dtype=backend.angle_dtype, layout=layout,
                                    angle_method=backend.angle_method)
        cos, sin = backend.to_numpy(cos), backend.to_numpy(sin)
        try:
            r1 = assert_within("K-COSSIN-1", call=call + " [cos]", actual=cos, expected=e_cos, budget=budget)
            r2 = assert_within("K-COSSIN-1", call=call + " [sin]", actual=sin, expected=e_sin, budget=budget)
        except ConformanceFailure as exc:
            if np.shape(cos) == np.shape(sin) == np.shape(e_cos):
                _with_hint(exc, cos_sin_hint(cos, sin, positions, freqs, layout=layout, budget=budget))
            raise
        return max(r1, r2)


def check_inv_freq(backend, variant: str, rotary_dim: int, theta: float, params: dict) -> float:
    """[K-FREQ-1] inv_freq and attention_factor within [N-FREQ-1]."""
    args, kwargs = (variant, rotary_dim), {"theta": theta, **params}
    call = call_text("inv_freq", args, kwargs)
    script = lambda: repro_script(backend, backend.angle_dtype, "inv_freq", args, kwargs, native={})
    with repro(backend, backend.angle_dtype, call, script=script):
        got = backend.function("inv_freq")(variant, rotary_dim, theta=theta, **params)
        omega, factor = (got.inv_freq, got.attention_factor) if isinstance(got, refrope.Frequencies) else got
        expected = refrope.inv_freq(variant, rotary_dim, theta=theta, **params)
        ratio = assert_within("K-FREQ-1", call=call + " [inv_freq]", actual=backend.to_numpy(omega),
                              expected=expected.inv_freq,
                              budget=tol.inv_freq_budget(expected, angle_dtype=backend.angle_dtype))
        m = expected.attention_factor
        budget = tol.C_FREQ * tol.unit_roundoff(backend.angle_dtype) * m
        return max(ratio, assert_within("K-FREQ-1", call=call + " [attention_factor]", actual=np.float64(factor),
                                        expected=np.float64(m), budget=budget))


def check_attention(backend, dtype: str, q, k, v, freqs, **options) -> float:
    """[K-ATTN-1] attention within [N-ATTN-1] per element (plus the bias's rounding, [BIAS-NUM-1], with a bias)
    and [N-ATTN-2] in NMSE; every map, NoPE (``freqs`` may then be None), a bias or a chunk mask."""
    args = (np.asarray(q), np.asarray(k), np.asarray(v), freqs)
    call = call_text("attention", args, options)
    script = lambda: repro_script(backend, dtype, "attention", args, options, native={0: "q", 1: "k", 2: "v"},
                                  oracle_kwargs={"method": "direct"})
    with repro(backend, dtype, call, script=script):
        received = [_received(backend, a, dtype) for a in (q, k, v)]
        (nq, qr), (nk, kr), (nv, vr) = received
        out = backend.function("attention")(nq, nk, nv, freqs, **options)
        for (native, before), name in zip(received, "qkv"):
            _unchanged(backend, "K-INPUT-1", call + f" [{name}]", native, before)
        actual = np.asarray(backend.to_numpy(out), dtype=np.float64)
        expected = refrope.attention(qr, kr, vr, freqs, method="direct", **options)
        scores = refrope.attention_scores(qr, kr, freqs, method="direct", **options)
        group = qr.shape[-3] // kr.shape[-3]
        k_rep, v_rep = np.repeat(kr, group, axis=-3), np.repeat(vr, group, axis=-3)
        pq = np.asarray(options["positions_q"], dtype=np.float64)
        pk = np.asarray(options["positions_k"], dtype=np.float64)
        relpos = options.get("relpos", "rope")
        rotary, magnitude, angle = 0, 1.0, 0.0  # NoPE: no rotation, no angle
        if refrope.relpos.resolve(relpos).name != "none":
            rotary, magnitude = freqs.rotary_dim, freqs.attention_factor
            angle = tol.max_attention_angle(relpos, pq, pk, freqs.inv_freq)
        s_max = np.where(np.isfinite(scores), np.abs(scores), 0.0).max(axis=-1, keepdims=True)
        multiplier = tol.logit_multiplier(freqs, pq, qr.shape[-1], scale=options.get("scale"),
                                          query_scale=options.get("query_scale"),
                                          mscale_all_dim=options.get("mscale_all_dim"))
        if multiplier.ndim > 1:  # per-batch positions (..., n_q): the same for every head
            multiplier = multiplier[..., None, :]
        budget = tol.attention_budget(qr, k_rep, v_rep, rotary_dim=rotary, magnitude=magnitude,
                                      logit_scale=multiplier, max_angle=angle,
                                      max_logit=s_max, dtype=dtype, angle_dtype=backend.angle_dtype,
                                      rotary_offset=options.get("rotary_offset", 0))
        if options.get("bias") is not None:
            budget = budget + scheme_budgets.bias_budget(options["bias"], pq, pk, v_rep, qr.shape[-3], dtype=dtype,
                                                         angle_dtype=backend.angle_dtype)
        budget = np.broadcast_to(budget, expected.shape)
        ratio = assert_within("K-ATTN-1", call=call, actual=actual, expected=expected, budget=budget)
        check_nmse("K-ATTN-1", call, actual, expected, budget)
        return ratio


def check_nmse(clause: str, call: str, actual, expected, budget) -> None:
    """[N-ATTN-2] the normwise mean squared error within the budget's, as a failure of ``clause``."""
    err, allowed = tol.nmse(actual, expected), tol.nmse_budget(budget, expected)
    if err > allowed:
        raise ConformanceFailure(clause, f"{call}: NMSE {err:.6g} > {allowed:.6g} [N-ATTN-2]",
                                 ratio=err / allowed if allowed > 0 else float("inf"))
