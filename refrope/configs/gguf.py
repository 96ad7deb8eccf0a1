r"""GGUF files in: the RoPE frequencies llama.cpp builds from a model's ``{arch}.rope.*`` metadata and tensors.

:func:`from_gguf` reads a GGUF file (or a ``gguf.GGUFReader``) with the ``gguf`` package (the ``gguf`` extra,
imported lazily) and returns the :class:`refrope.Frequencies` that llama.cpp's loader and ggml's rope give a
full-attention layer. Every ``{arch}.rope.*`` key is either read, or listed in :data:`INERT_KEYS` (settings of
other layers or of nothing llama.cpp's rope uses), or rejected with a ``ValueError`` naming it.
Spec: docs/spec/gguf.md, clauses ``[GF-*]``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._validation import _short, check_int
from ..frequencies.base import Frequencies, rope_inv_freq
from ..frequencies.ramps import correction_range
from ..frequencies.registry import inv_freq

__all__ = ["from_gguf", "READ_KEYS", "INERT_KEYS", "TENSORS"]

READ_KEYS = ("dimension_count", "freq_base", "scale_linear", "scaling.type", "scaling.factor",
             "scaling.original_context_length", "scaling.attn_factor", "scaling.yarn_ext_factor",
             "scaling.yarn_beta_fast", "scaling.yarn_beta_slow", "scaling.yarn_log_multiplier")
"""The ``{arch}.rope.*`` keys :func:`from_gguf` interprets [GF-KEYS-1]."""

INERT_KEYS = ("freq_base_swa", "dimension_count_swa", "scaling.finetuned")
"""Keys accepted and not read: the sliding-window layers' base and dimension (this reads full-attention layers),
and ``scaling.finetuned``, which llama.cpp's rope does not use [GF-KEYS-1]."""

TENSORS = ("rope_freqs.weight", "rope_factors_long.weight", "rope_factors_short.weight")
"""The per-pair factor tensors llama.cpp divides by (``freq_factors`` of ``ggml_rope_ext``) [GF-TENSOR-1]."""

_TYPES = ("none", "linear", "yarn", "longrope")


def _reader(path_or_reader: Any):
    if isinstance(path_or_reader, (str, os.PathLike)):
        try:
            from gguf import GGUFReader
        except ImportError as exc:
            raise ImportError("from_gguf needs the gguf package: pip install 'refrope[gguf]'") from exc
        return GGUFReader(path_or_reader)
    if hasattr(path_or_reader, "fields") and hasattr(path_or_reader, "tensors"):
        return path_or_reader
    raise TypeError(f"path_or_reader must be a path or a gguf.GGUFReader, got {_short(path_or_reader)}")


def _metadata(reader) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    fields = {name: field.contents() for name, field in reader.fields.items()}
    arch = fields.get("general.architecture")
    if not isinstance(arch, str) or not arch:
        raise ValueError(f"general.architecture must name the model architecture, got {_short(arch)}")
    prefix = f"{arch}.rope."
    rope = {name[len(prefix):]: value for name, value in fields.items() if name.startswith(prefix)}
    unknown = sorted(set(rope) - set(READ_KEYS) - set(INERT_KEYS))
    if unknown:
        raise ValueError(f"unsupported GGUF rope setting {prefix}{unknown[0]} = {_short(rope[unknown[0]])} "
                         f"(refrope reads {[prefix + k for k in READ_KEYS]} and ignores {list(INERT_KEYS)})")
    head = {key: fields.get(f"{arch}.{key}") for key in ("attention.key_length", "embedding_length",
                                                          "attention.head_count", "context_length")}
    tensors = {t.name: np.asarray(t.data, dtype=np.float64).reshape(-1) for t in reader.tensors if t.name in TENSORS}
    return arch, {**rope, **{f"({key})": value for key, value in head.items()}}, tensors


def _real(meta: Mapping, key: str, default: float | None) -> float | None:
    value = meta.get(key, default)
    if value is None:
        return None
    if isinstance(value, (bool, str)) or not np.isfinite(float(value)):
        raise ValueError(f"rope.{key} must be a finite number, got {_short(value)}")
    return float(value)


def _rotary_dim(meta: Mapping) -> int:
    if meta.get("dimension_count") is not None:
        return check_int("rope.dimension_count", meta["dimension_count"], minimum=2, even=True)
    if meta.get("(attention.key_length)") is not None:
        return check_int("attention.key_length", meta["(attention.key_length)"], minimum=2, even=True)
    width, heads = meta.get("(embedding_length)"), meta.get("(attention.head_count)")
    if width is None or not heads:
        raise ValueError("the rotary dimension needs rope.dimension_count, attention.key_length, or "
                         "embedding_length and attention.head_count; the file has none of them")
    return check_int("embedding_length / attention.head_count", int(width) // int(heads), minimum=2, even=True)


def _factors(tensors: Mapping[str, np.ndarray], n_ctx: int | None, length: float, pairs: int):
    """``(freq_factors or None, longrope short/long pair or None)`` [GF-TENSOR-1]."""
    for name, values in tensors.items():
        if values.shape != (pairs,) or not np.all(np.isfinite(values)) or np.any(values <= 0):
            raise ValueError(f"tensor {name} must hold rope.dimension_count / 2 = {pairs} positive factors, "
                             f"got shape {values.shape}")
    longrope = {"rope_factors_long.weight", "rope_factors_short.weight"} & set(tensors)
    if longrope and "rope_freqs.weight" in tensors:
        raise ValueError("the file has both rope_freqs and rope_factors_long/short: llama.cpp uses one of them")
    if len(longrope) == 1:
        raise ValueError(f"the file has {sorted(longrope)[0]} without its partner: LongRoPE needs both tensors")
    if longrope:
        pair = (tensors["rope_factors_short.weight"], tensors["rope_factors_long.weight"])
        return (pair[1] if n_ctx is not None and n_ctx > length else pair[0]), pair
    return tensors.get("rope_freqs.weight"), None


def _ggml_keep(low: float, high: float, pairs: int) -> np.ndarray:
    """ggml's ``rope_yarn_ramp`` keep weight ``1 - clip((i - low) / max(0.001, high - low), 0, 1)``."""
    return 1.0 - np.clip((np.arange(pairs) - low) / max(0.001, high - low), 0.0, 1.0)


def _yarn_magnitude(arch: str, k: float, meta: Mapping) -> float:
    """The YaRN magnitude llama.cpp ends with: ``yarn_attn_factor`` times ggml's own ``1 + 0.1 ln k`` [GF-YARN-1].

    Without ``yarn_log_multiplier`` that is ``get_mscale(k)``. With it (DeepSeek-2 files: the converter stores
    ``0.1 * mscale_all_dim``, the loader divides by 0.1 and sets ``mscale = mscale_all_dim``) the ratio
    ``get_mscale(k, mscale) / get_mscale(k, mscale_all_dim)`` is 1."""
    log_mul = _real(meta, "scaling.yarn_log_multiplier", 0.0)
    if log_mul == 0.0:
        return 1.0 if k <= 1.0 else 0.1 * math.log(k) + 1.0
    if arch != "deepseek2":
        raise ValueError(f"unsupported GGUF rope setting rope.scaling.yarn_log_multiplier = {log_mul}: llama.cpp's "
                         f"deepseek2 loader reads it (divided by 0.1), architecture {arch!r} is not supported")
    return 1.0


def _yarn_betas(meta: Mapping) -> tuple[float, float]:
    """llama.cpp's defaults 32 / 1; other values are read by some architectures' loaders only: rejected."""
    betas = []
    for key, default in (("scaling.yarn_beta_fast", 32.0), ("scaling.yarn_beta_slow", 1.0)):
        value = _real(meta, key, default)
        if value != default:
            raise ValueError(f"unsupported GGUF rope setting rope.{key} = {value}: llama.cpp's loader reads it for "
                             f"some architectures only (elsewhere it uses {default}); refrope does not guess")
        betas.append(value)
    return betas[0], betas[1]


def from_gguf(path_or_reader: Any, *, n_ctx: int | None = None) -> Frequencies:
    r"""The :class:`Frequencies` llama.cpp uses for a GGUF model's full-attention layers.

    With :math:`d` = ``rope.dimension_count``, :math:`\theta` = ``rope.freq_base`` (default 10000),
    :math:`s = 1/k` (:math:`k` = ``rope.scaling.factor``; 1 for type ``none``), :math:`f_i` the factor tensor
    (``rope_freqs``, or LongRoPE's long factors iff ``n_ctx`` :math:`> L`, else the short ones) and
    :math:`a` = ``rope.scaling.attn_factor`` (default 1):

    .. math:: \omega_i = \frac{\theta^{-2i/d}}{f_i}\,\big(s + e_i(1 - s)\big),\qquad
              m = a\cdot\begin{cases}0.1\ln k + 1 & \text{YaRN}\\ 1 & \text{otherwise}\end{cases}

    with :math:`e_i` ggml's YaRN keep weight between the floored/ceiled correction dimensions of
    ``yarn_beta_fast`` / ``yarn_beta_slow`` (default 32 / 1) at :math:`L` = ``rope.scaling.original_context_length``
    (default ``context_length``), and :math:`e_i = 0` without YaRN. The result is a registry variant where the
    file is one (``default``, ``linear``, ``yarn``, ``longrope``), else ``variant="custom"`` with ``theta``,
    ``freq_scale`` and ``freq_factors`` in ``params``.

    Parameters
    ----------
    path_or_reader : str, os.PathLike or gguf.GGUFReader
        The GGUF file (needs the ``gguf`` extra: ``pip install 'refrope[gguf]'``).
    n_ctx : int, optional
        llama.cpp's per-sequence context size: LongRoPE's long factors iff ``n_ctx`` :math:`> L`.

    Notes
    -----
    Unknown ``{arch}.rope.*`` keys, M-RoPE sections, Hunyuan's ``scaling.alpha``, ``yarn_attn_factor`` (which
    llama.cpp's YaRN overrides), a ``yarn_ext_factor`` other than 1 with YaRN and YaRN betas other than
    llama.cpp's defaults 32 / 1 (read by some architectures' loaders only) raise ``ValueError`` naming the key.
    Spec: [GF-KEYS-1], [GF-MAP-1], [GF-YARN-1], [GF-TENSOR-1]. Source: llama.cpp ``src/llama-model.cpp``
    (``load_hparams``), ``src/llama-context.cpp`` (``yarn_attn_factor``), ``src/llama-arch.cpp`` (keys);
    ggml ``src/ggml-cpu/ops.cpp`` (``rope_yarn``), ``src/ggml.c`` (``ggml_rope_yarn_corr_dims``).

    Examples
    --------
    >>> import gguf, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "m.gguf")
    >>> w = gguf.GGUFWriter(path, "llama"); w.add_rope_freq_base(100.0); w.add_rope_dimension_count(4)
    >>> w.add_rope_scaling_type(gguf.RopeScalingType.LINEAR); w.add_rope_scaling_factor(2.0)
    >>> w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    >>> f = from_gguf(path); f.variant, f.inv_freq
    ('linear', array([0.5 , 0.05]))
    """
    if n_ctx is not None:
        n_ctx = check_int("n_ctx", n_ctx, minimum=0)
    arch, meta, tensors = _metadata(_reader(path_or_reader))
    d, theta = _rotary_dim(meta), _real(meta, "freq_base", 10000.0)
    if not theta > 0:
        raise ValueError(f"rope.freq_base must be > 0, got {theta}")
    kind = meta.get("scaling.type", "linear")  # llama.cpp's default when the key is absent
    if kind not in _TYPES:
        raise ValueError(f"unsupported GGUF rope setting rope.scaling.type = {_short(kind)} (one of {_TYPES})")
    k = _real(meta, "scaling.factor", None) or _real(meta, "scale_linear", None) or 1.0
    k = 1.0 if kind == "none" else k
    if k <= 0:
        raise ValueError(f"rope.scaling.factor must be > 0, got {k}")
    length = _real(meta, "scaling.original_context_length", None) or _real(meta, "(context_length)", None)
    ff, longrope = _factors(tensors, n_ctx, length or math.inf, d // 2)
    attn = _real(meta, "scaling.attn_factor", 1.0)
    ext, yarn = _real(meta, "scaling.yarn_ext_factor", None), kind == "yarn"
    if ext is not None and not (yarn and ext == 1.0):
        raise ValueError(f"unsupported GGUF rope setting rope.scaling.yarn_ext_factor = {ext} with rope.scaling.type "
                         f"{kind!r} (refrope reads 1 with yarn, llama.cpp's default there)")
    magnitude = attn * (_yarn_magnitude(arch, k, meta) if yarn else 1.0)
    base = {"theta": theta}
    if yarn:
        if length is None:
            raise ValueError("YaRN needs rope.scaling.original_context_length (or context_length)")
        fast, slow = _yarn_betas(meta)
        low, high = correction_range(fast, slow, d, theta, float(int(length)), truncate=True)
        if ff is None and low <= high:
            return inv_freq("yarn", d, theta=theta, factor=k, original_max_position_embeddings=int(length),
                            beta_fast=fast, beta_slow=slow, attention_factor=magnitude)
        keep = _ggml_keep(low, high, d // 2)
        omega = rope_inv_freq(d, theta) / k * (1.0 + keep * (k - 1.0))
    else:
        if longrope is not None and length is None:
            raise ValueError("LongRoPE needs rope.scaling.original_context_length (or context_length)")
        if longrope is not None and k == 1.0:
            return inv_freq("longrope", d, theta=theta, short_factor=longrope[0], long_factor=longrope[1],
                            original_max_position_embeddings=length, attention_factor=magnitude, seq_len=n_ctx)
        if ff is None and magnitude == 1.0:
            return inv_freq("linear", d, theta=theta, factor=k) if k != 1.0 else inv_freq("default", d, theta=theta)
        omega = rope_inv_freq(d, theta) / k
    if ff is not None:
        omega = omega / ff
        base["freq_factors"] = ff.tolist()
    return Frequencies(omega, magnitude, "custom", {**base, "freq_scale": 1.0 / k})
