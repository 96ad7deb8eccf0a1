"""The conformance checks of the multimodal rotations: backend against oracle within [N-ROPE-1], per pair with the
angle of its own axis (:func:`refrope.budgets.rope_nd_budget`), pass-through exact, inputs untouched.

Each returns the worst error/budget ratio and raises :class:`~spec_tests.conformance.assertions.ConformanceFailure`
naming the clause otherwise ([K-ND-1], [K-MROPE-1], [K-VISION-1], [K-INPUT-1]).
"""

from __future__ import annotations

import numpy as np

import refrope
from refrope import budgets as tol

from .assertions import ConformanceFailure, assert_within, call_text, repro
from .checks import _received, _unchanged, backend_rotation, passthrough


def _compare(clause: str, call: str, actual, xr, expected, budget, passthrough: np.ndarray) -> float:
    if actual.shape != xr.shape:
        raise ConformanceFailure(clause, f"{call}: backend shape {actual.shape}, input shape {xr.shape}")
    assert_within(clause, call=call + " [pass-through coordinates]", actual=actual[..., passthrough],
                  expected=expected[..., passthrough], budget=0.0)
    return assert_within(clause, call=call, actual=actual, expected=expected, budget=budget)


def check_apply_rope_nd(backend, dtype: str, x, positions, freqs, *, axes, layout: str,
                        rotary_offset: int = 0) -> float:
    """[K-ND-1] [K-INPUT-1] apply_rope_nd within [N-ROPE-1] per pair, pass-through exact, input untouched."""
    kwargs = {"axes": tuple(int(a) for a in axes), "layout": layout, "rotary_offset": rotary_offset}
    call = call_text("apply_rope_nd", (np.asarray(x), np.asarray(positions), freqs), kwargs)
    with repro(backend, dtype, call):
        actual, xr = backend_rotation(backend, dtype, "apply_rope_nd", call, x, positions, freqs, kwargs)
        expected = refrope.apply_rope_nd(xr, positions, freqs, **kwargs)
        budget = tol.rope_nd_budget(xr, positions, freqs, dtype=dtype, angle_dtype=backend.angle_dtype,
                                    angle_method=backend.angle_method, **kwargs)
        return _compare("K-ND-1", call, actual, xr, expected, budget,
                        passthrough(xr.shape[-1], rotary_offset, freqs.rotary_dim))


def check_apply_mrope(backend, dtype: str, x, positions, freqs, *, sections, mode: str, layout: str,
                      rotary_offset: int = 0) -> float:
    """[K-MROPE-1] [K-INPUT-1] apply_mrope within [N-ROPE-1] per pair, pass-through exact, input untouched."""
    kwargs = {"sections": tuple(int(s) for s in sections), "mode": mode, "layout": layout,
              "rotary_offset": rotary_offset}
    call = call_text("apply_mrope", (np.asarray(x), np.asarray(positions), freqs), kwargs)
    with repro(backend, dtype, call):
        actual, xr = backend_rotation(backend, dtype, "apply_mrope", call, x, positions, freqs, kwargs)
        expected = refrope.apply_mrope(xr, positions, freqs, **kwargs)
        budget = tol.rope_nd_budget(xr, positions, freqs, axes=refrope.mrope_axes(sections, mode), dtype=dtype,
                                    angle_dtype=backend.angle_dtype, layout=layout, rotary_offset=rotary_offset,
                                    angle_method=backend.angle_method)
        return _compare("K-MROPE-1", call, actual, xr, expected, budget,
                        passthrough(xr.shape[-1], rotary_offset, freqs.rotary_dim))


def check_apply_vision_rope(backend, dtype: str, x, kind: str, *, grid, theta=None, spatial_merge_size=None) -> float:
    """[K-VISION-1] [K-INPUT-1] apply_vision_rope within [N-ROPE-1] per pair, input untouched."""
    kwargs = {"grid": tuple(int(g) for g in grid), "theta": theta, "spatial_merge_size": spatial_merge_size}
    call = call_text("apply_vision_rope", (np.asarray(x), kind), kwargs)
    with repro(backend, dtype, call):
        native, xr = _received(backend, x, dtype)
        out = backend.function("apply_vision_rope")(native, kind, **kwargs)
        _unchanged(backend, "K-INPUT-1", call, native, xr)
        actual = np.asarray(backend.to_numpy(out), dtype=np.float64)
        expected = refrope.apply_vision_rope(xr, kind, **kwargs)
        v = refrope.vision_rope(kind, head_dim=xr.shape[-1], **kwargs)
        budget = tol.rope_nd_budget(xr, v.positions, v.freqs, axes=v.axes, dtype=dtype,
                                    angle_dtype=backend.angle_dtype, layout=v.layout, angle_method=backend.angle_method)
        return _compare("K-VISION-1", call, actual, xr, expected, budget, np.zeros(xr.shape[-1], dtype=bool))
