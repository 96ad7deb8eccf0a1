r"""The backend protocol of the conformance suite: what a backend declares, and which tests it can take.

A *backend* is a module (or any object) that declares

==================  =========================================================================================
attribute           meaning
==================  =========================================================================================
``name``            str, printed in reports and repro notes
``dtypes``          tuple of ``"float64"``, ``"float32"``, ``"float16"``, ``"bfloat16"``: the dtypes to exercise
``capabilities``    set of str: the oracle functions it implements (``"apply_rope"``, ``"cos_sin"``,
                    ``"inv_freq"``, ``"attention"``, ``"apply_rope_nd"``, ``"apply_mrope"``,
                    ``"apply_vision_rope"``, ``"apply_xpos"``, ``"dual_chunk_attention"``) and optional restrictions
                    ``"layout:L"``, ``"variant:V"``, ``"relpos:R"``, ``"query_scale:S"``, ``"mrope:M"``,
                    ``"vision:K"``, ``"bias:B"``, ``"rotary_offset"``, ``"mscale_all_dim"``, ``"gqa"``,
                    ``"chunk_size"``, ``"batch"`` (leading batch axes on the arrays), ``"batch_positions"``
                    (positions with a batch axis, one row per sequence) (see :func:`supports`; ``"variant:V"``
                    restricts ``inv_freq`` only, the other functions receive the frequencies); any other string is
                    rejected with the list of :func:`valid_capabilities`
``angle_dtype``     the dtype in which it computes :math:`p\,\omega` (``"float32"`` as HF and vLLM, or ``"float64"``)
``angle_method``    optional, ``"direct"`` (default: :math:`p\,\omega_i` from the :math:`\omega` it receives) or
                    ``"recurrence"`` (:math:`p\,b^{-2i/d}` by :math:`i` successive multiplications, ggml's CPU
                    kernel); selects the angle term of the budget ([N-ROPE-3])
``to_backend``      ``to_backend(array: np.ndarray, dtype: str) -> native array`` (a copy)
``to_numpy``        ``to_numpy(native) -> np.ndarray`` (any float dtype; the suite widens to float64)
``versions``        optional dict, library name -> version, printed in the report header
==================  =========================================================================================

and implements any of the oracle's functions, named and called like the oracle's:

* ``apply_rope(x, positions, freqs, *, layout, rotary_offset)`` and
  ``attention(q, k, v, freqs, *, positions_q, positions_k, relpos, layout, rotary_offset, causal, sliding_window,
  key_mask, scale, query_scale, mscale_all_dim, bias, chunk_size)`` (``rotary_offset`` is passed only to a backend
  declaring the flag): ``x``, ``q``, ``k``, ``v`` come through ``to_backend``
  at the dtype under test; ``positions`` are NumPy arrays, ``freqs`` a :class:`refrope.Frequencies` (float64
  ``inv_freq``, ``attention_factor``, ``variant`` and ``params``; None with ``relpos="none"``), ``relpos``,
  ``query_scale`` and ``bias`` the objects of :mod:`refrope.relpos`, :mod:`refrope.query_scale`,
  :mod:`refrope.bias`. Results must have the input's shape and dtype.
* ``apply_xpos(x, positions, freqs, *, role, scale_base, gamma, layout)`` and
  ``dual_chunk_attention(q, k, v, freqs, *, chunk_size, local_size, layout, scale)``: the same conventions.
* ``cos_sin(positions, freqs, *, layout, dtype)``: the one extra keyword, the dtype of the returned tables.
* ``inv_freq(variant, rotary_dim, *, theta, **params)``: returns ``(inv_freq, attention_factor)`` (native
  array, float) or a :class:`refrope.Frequencies`.
* ``apply_rope_nd(x, positions, freqs, *, axes, layout, rotary_offset)``,
  ``apply_mrope(x, positions, freqs, *, sections, mode, layout, rotary_offset)`` and
  ``apply_vision_rope(x, kind, *, grid, theta, spatial_merge_size)``: the multimodal rotations
  (docs/spec/multimodal.md); ``positions`` ``(n_axes, ..., seq)`` NumPy, ``axes`` and ``sections`` tuples of int.

A module may instead define ``make_backend(device=None)`` returning such an object (the bundled adapters
do, to take ``--device``). Spec: docs/spec/conformance.md, [K-PROTO-1], [K-PROTO-2], [K-SKIP-1].
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from ..budgets import DTYPES

__all__ = ["FUNCTIONS", "FEATURES", "FLAGS", "ANGLE_METHODS", "Backend", "validate", "supports", "feature_name",
           "feature_values", "valid_capabilities"]

FUNCTIONS = ("apply_rope", "cos_sin", "inv_freq", "attention", "apply_rope_nd", "apply_mrope", "apply_vision_rope",
             "apply_xpos", "dual_chunk_attention")
FEATURES = ("layout", "variant", "relpos", "query_scale", "mrope", "vision", "bias")
FLAGS = ("rotary_offset", "mscale_all_dim", "gqa", "chunk_size", "batch", "batch_positions")
ANGLE_METHODS = ("direct", "recurrence")


@dataclass(frozen=True)
class Backend:
    """A validated backend: its declarations and the functions it provides ([K-PROTO-1])."""

    name: str
    dtypes: tuple[str, ...]
    capabilities: frozenset[str]
    angle_dtype: str
    to_backend: Callable[[np.ndarray, str], Any]
    to_numpy: Callable[[Any], np.ndarray]
    functions: Mapping[str, Callable[..., Any]]
    versions: Mapping[str, str] = field(default_factory=dict)
    source: str = ""
    angle_method: str = "direct"
    device: str | None = None

    def function(self, name: str) -> Callable[..., Any]:
        """The backend's implementation of oracle function ``name`` (KeyError if it has none)."""
        return self.functions[name]


def _fail(source: str, attribute: str, problem: str, value: Any, error=ValueError):
    raise error(f"backend {source!r}: {attribute} {problem}, got {value!r}")


def validate(obj: Any, source: str) -> Backend:
    """Check an object's declarations against the protocol and return the :class:`Backend` ([K-PROTO-1])."""
    for attribute in ("name", "dtypes", "capabilities", "angle_dtype", "to_backend", "to_numpy"):
        if not hasattr(obj, attribute):
            raise TypeError(f"backend {source!r} lacks the attribute {attribute!r} (docs/spec/conformance.md)")
    if not isinstance(obj.name, str) or not obj.name:
        _fail(source, "name", "must be a non-empty string", obj.name, TypeError)
    dtypes = tuple(obj.dtypes) if isinstance(obj.dtypes, (tuple, list)) else None
    if not dtypes or any(d not in DTYPES for d in dtypes):
        _fail(source, "dtypes", f"must be a non-empty tuple of {DTYPES}", obj.dtypes)
    caps = obj.capabilities
    if not isinstance(caps, (set, frozenset)) or not all(isinstance(c, str) for c in caps):
        _fail(source, "capabilities", "must be a set of strings", caps, TypeError)
    valid = valid_capabilities()
    unknown = sorted(cap for cap in caps if cap not in valid)
    if unknown:
        close = {cap: difflib.get_close_matches(cap, valid, n=1) for cap in unknown}
        hints = "; ".join(f"{cap!r}: did you mean {m[0]!r}?" for cap, m in close.items() if m)
        raise ValueError(f"backend {source!r}: capabilities {', '.join(map(repr, unknown))} "
                         f"{'is' if len(unknown) == 1 else 'are'} not known{' (' + hints + ')' if hints else ''}; "
                         f"valid capabilities: {', '.join(valid)}")
    if obj.angle_dtype not in DTYPES:
        _fail(source, "angle_dtype", f"must be one of {DTYPES}", obj.angle_dtype)
    method = getattr(obj, "angle_method", "direct")
    if method not in ANGLE_METHODS:
        _fail(source, "angle_method", f"must be one of {ANGLE_METHODS}", method)
    if method != "direct" and "attention" in caps:
        _fail(source, "angle_method", "'recurrence' has a budget for apply_rope and cos_sin only ([N-ROPE-3]); "
              "a backend declaring it cannot list 'attention'", sorted(caps))
    for attribute in ("to_backend", "to_numpy"):
        if not callable(getattr(obj, attribute)):
            _fail(source, attribute, "must be callable", getattr(obj, attribute), TypeError)
    functions = {}
    for fn in FUNCTIONS:
        impl = getattr(obj, fn, None)
        if fn in caps and not callable(impl):
            _fail(source, "capabilities", f"lists {fn!r} but the backend has no callable {fn}", sorted(caps))
        if fn in caps:
            functions[fn] = impl
    return Backend(obj.name, dtypes, frozenset(caps), obj.angle_dtype, obj.to_backend, obj.to_numpy,
                   MappingProxyType(functions), MappingProxyType(dict(getattr(obj, "versions", {}) or {})), source,
                   method)


def supports(backend: Backend, function: str, **features: Any) -> str | None:
    """``None`` if ``backend`` provides ``function`` with these features, else the reason to skip.

    ``layout`` and ``variant`` are supported when the capabilities list ``"layout:half"`` (...) or list no
    entry of that family at all (no restriction). ``relpos``, ``query_scale`` and ``bias`` values other than
    the defaults (``"rope"``, no scale, no bias) need their entry. Flags (``rotary_offset=True``,
    ``mscale_all_dim=True``, ``gqa=True``, ``chunk_size=True``, ``batch=True``, ``batch_positions=True``) need their
    entry. Spec: [K-SKIP-1].

    >>> from refrope.backends import oracle_backend
    >>> supports(oracle_backend(), "attention", relpos="rerope") is None
    True
    """
    if function not in backend.capabilities:
        return f"{backend.name} does not provide {function!r} (capability missing)"
    for key, value in features.items():
        if key in FLAGS:
            if value and key not in backend.capabilities:
                return f"{backend.name} does not support {function}({key}=...) (capability {key!r} missing)"
            continue
        listed = {c.split(":", 1)[1] for c in backend.capabilities if c.startswith(key + ":")}
        explicit = key in ("relpos", "query_scale", "bias") and value != "rope"
        if (listed or explicit) and str(value) not in listed:
            return f"{backend.name} does not support {function}({key}={value!r}) (capability '{key}:{value}' missing)"
    return None


def valid_capabilities() -> tuple[str, ...]:
    """Every capability string a backend may declare: the functions, the flags, and ``"kind:value"`` for each
    feature family and each value its registry holds (derived, so a registered entry is accepted at once).

    >>> caps = valid_capabilities()
    >>> "apply_rope" in caps, "layout:half" in caps, "relpos:rerope" in caps, "layout:neox" in caps
    (True, True, True, False)
    """
    return (*FUNCTIONS, *FLAGS, *(f"{kind}:{value}" for kind in FEATURES for value in feature_values(kind)))


def feature_values(kind: str) -> tuple[str, ...]:
    """The capability values of a feature family that come from a registry.

    >>> feature_values("relpos")
    ('rope', 'linear', 'rerope', 'leaky_rerope', 'inv_leaky_rerope', 'none')
    >>> feature_values("bias")
    ('alibi', 'kerple_power', 'kerple_log', 'sandwich')
    """
    from .. import bias, query_scale, relpos
    from ..frequencies.registry import VARIANTS
    from ..layouts import LAYOUTS
    from ..multimodal import MODES, VISION_KINDS

    tables = {"layout": LAYOUTS, "variant": VARIANTS, "relpos": relpos.MAPS, "query_scale": query_scale.SCALES,
              "mrope": MODES, "vision": VISION_KINDS, "bias": bias.BIASES}
    if kind not in tables:
        raise ValueError(f"kind must be one of {sorted(tables)}, got {kind!r}")
    return tuple(tables[kind])


def feature_name(kind: str, value: Any) -> str:
    """The capability value of a ``relpos`` map, ``query_scale`` or ``bias`` object (``"custom"`` for other
    callables).

    >>> from refrope import bias, relpos, query_scale
    >>> feature_name("relpos", relpos.leaky_rerope(4, 2)), feature_name("query_scale", query_scale.logn(8))
    ('leaky_rerope', 'logn')
    >>> feature_name("bias", bias.alibi(0.5)), feature_name("relpos", "none")
    ('alibi', 'none')
    """
    from .. import bias, query_scale, relpos

    if kind == "relpos":
        return value if isinstance(value, str) else relpos.resolve(value).name
    if kind == "query_scale":
        return query_scale.name_of(value)
    if kind == "bias":
        return bias.name_of(value)
    raise ValueError(f"kind must be 'relpos', 'query_scale' or 'bias', got {kind!r}")
