"""[MM-XCHECK-1] The vision towers against transformers' own code, on tiny random configurations (no weights).

Positions are compared exactly; frequencies to float32 rounding ([N-FREQ-1]: their code builds them in float32);
the recompositions of the per-axis tables on float64 labels exactly; the rotations (float32 angles in their code)
within [N-ROPE-1] of the oracle on the same float32 inputs.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import refrope
from refrope import budgets

torch = pytest.importorskip("torch", reason="torch is not installed")
pytest.importorskip("transformers", reason="transformers is not installed (pip install -e '.[hf]')")

from transformers import vision_utils  # noqa: E402
from transformers.models.llama4 import configuration_llama4 as l4c  # noqa: E402
from transformers.models.llama4 import modeling_llama4 as l4  # noqa: E402
from transformers.models.pixtral import configuration_pixtral as pxc  # noqa: E402
from transformers.models.pixtral import modeling_pixtral as px  # noqa: E402
from transformers.models.qwen2_vl import configuration_qwen2_vl as q2c  # noqa: E402
from transformers.models.qwen2_vl import modeling_qwen2_vl as q2  # noqa: E402

F32 = 2.0**-24


def _quiet(factory):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return factory()


def _within_budget(actual: np.ndarray, x: np.ndarray, v) -> None:
    expected = refrope.apply_rope_nd(x, v.positions, v.freqs, axes=v.axes, layout=v.layout)
    bound = budgets.rope_nd_budget(x, v.positions, v.freqs, axes=v.axes, dtype="float32", angle_dtype="float32",
                                   layout=v.layout)
    assert np.all(np.abs(actual - expected) <= bound), np.max(np.abs(actual - expected) / np.maximum(bound, 1e-300))


def _freqs_close(theirs: torch.Tensor, ours: np.ndarray) -> None:
    ours = np.asarray(ours)
    assert np.all(np.abs(theirs.double().numpy() - ours) <= (budgets.C_FREQ + np.abs(np.log(ours))) * F32 * ours)


def _labels(n_tokens: int, quarter: int, axes_first: int = 2) -> torch.Tensor:
    """``(n, 2, q)`` float64 labels ``1000 a + k``: axis a, frequency k."""
    return (1000.0 * torch.arange(axes_first, dtype=torch.float64)[:, None]
            + torch.arange(quarter, dtype=torch.float64)).expand(n_tokens, axes_first, quarter).clone()


@pytest.mark.parametrize("grid, merge", [((1, 4, 6), 2), ((2, 6, 4), 2), ((1, 6, 6), 3), ((2, 2, 3), 1)])
def test_qwen2_vl_tower(grid, merge):
    """[MM-XCHECK-1] [MM-VIS-1] Qwen2-VL: get_vision_position_ids equals vision_rope's positions (merge-window order,
    frames repeated); compute_axial_rope_parameters equals its frequencies; recomposition_frequencies puts the row on
    the first d/4 pairs and the column on the next, the frequency index restarting (cat(h, w), twice); the rotation
    with apply_rotary_pos_emb_vision is within budget."""
    d, theta = 16, 10000.0
    v = refrope.vision_rope("qwen2_vl", head_dim=d, grid=grid, spatial_merge_size=merge)
    ids = vision_utils.get_vision_position_ids(torch.tensor([grid]), merge)
    assert np.array_equal(ids.numpy().T, v.positions)
    config = _quiet(lambda: q2c.Qwen2VLVisionConfig(embed_dim=2 * d, num_heads=2, depth=1, hidden_size=2 * d,
                                                    rope_parameters={"rope_type": "axial", "rope_theta": theta}))
    module = q2.Qwen2VLVisionRotaryEmbedding(config)
    _freqs_close(module.inv_freq, v.freqs[: d // 4])
    got = module.recomposition_frequencies(_labels(3, d // 4))[0].numpy()
    k = np.arange(d // 2) % (d // 4)
    want = 1000.0 * v.axes + k
    assert np.array_equal(got, np.concatenate([want, want])) and np.array_equal(v.freqs[:d // 4],
                                                                                v.freqs[d // 4:])
    x = np.random.default_rng(0).standard_normal((v.n_tokens, 2, d)).astype(np.float32)
    cos, sin = module(torch.zeros(1), ids)
    q = torch.from_numpy(x)
    out = q2.apply_rotary_pos_emb_vision(q, q, cos, sin)[0].double().numpy()
    _within_budget(out.transpose(1, 0, 2), x.transpose(1, 0, 2).astype(np.float64), v)


@pytest.mark.parametrize("grid", [(3, 5), (1, 4), (4, 4)])
def test_pixtral_tower(grid):
    """[MM-XCHECK-1] [MM-VIS-2] Pixtral: the position ids PixtralVisionModel.forward hands its rotary (captured from a
    tiny model) equal vision_rope's (row-major from 0); compute_axial_rope_parameters equals its frequencies (even
    then odd); recomposition puts the row on the first d/4 pairs; the rotation is within budget."""
    d, theta = 16, 10000.0
    v = refrope.vision_rope("pixtral", head_dim=d, grid=grid)
    config = _quiet(lambda: pxc.PixtralVisionConfig(hidden_size=2 * d, num_attention_heads=2, num_hidden_layers=1,
                                                    intermediate_size=8, image_size=64, patch_size=2,
                                                    rope_parameters={"rope_type": "axial", "rope_theta": theta}))
    model = _quiet(lambda: px.PixtralVisionModel(config).eval())
    seen = []
    model.patch_positional_embedding.register_forward_hook(lambda mod, args, out: seen.append(args[1]))
    with torch.no_grad():
        model(torch.zeros(1, 3, 2 * grid[0], 2 * grid[1]))
    assert np.array_equal(seen[0].numpy().T, v.positions)
    module = px.PixtralVisionRotaryEmbedding(config)
    _freqs_close(module.inv_freq, v.freqs)
    labels = 1000.0 * torch.arange(2, dtype=torch.float64)[:, None] + torch.arange(d // 2, dtype=torch.float64)
    got = module.recomposition_frequencies(labels.expand(2, 2, d // 2).clone())[0].numpy()
    want = 1000.0 * v.axes + np.arange(d // 2)
    assert np.array_equal(got, np.concatenate([want, want]))
    x = np.random.default_rng(1).standard_normal((1, 2, v.n_tokens, d)).astype(np.float32)
    cos, sin = module(torch.zeros(1), seen[0])
    q = torch.from_numpy(x)
    out = px.apply_rotary_pos_emb(q, q, cos, sin, unsqueeze_dim=0)[0].double().numpy()
    _within_budget(out[0], x[0].astype(np.float64), v)


@pytest.mark.parametrize("side", [1, 3, 4])
def test_llama4_tower(side):
    """[MM-XCHECK-1] [MM-VIS-3] Llama 4: freqs_ci of Llama4VisionRotaryEmbedding are the cos and sin of vision_rope's
    angles (the column on the first d/4 pairs, (row + 1, col + 1), the class token last at angle 0) within the
    float32 budget; vision_apply_rotary_emb is within budget."""
    d, theta = 16, 10000.0
    v = refrope.vision_rope("llama4", head_dim=d, grid=(side, side))
    config = _quiet(lambda: l4c.Llama4VisionConfig(hidden_size=2 * d, num_attention_heads=2, num_hidden_layers=1,
                                                   intermediate_size=8, image_size=14 * side, patch_size=14,
                                                   rope_parameters={"rope_type": "default", "rope_theta": theta}))
    freqs_ci = l4.Llama4VisionRotaryEmbedding(config).freqs_ci[:, 0]  # (n + 1, d/2) complex64
    phi = v.positions[v.axes].T * v.freqs
    bound = budgets.C_DTYPE * F32 + budgets.C_ANGLE * F32 * (1 + np.abs(phi))  # [N-COSSIN-1] per entry
    assert np.all(np.abs(freqs_ci.real.double().numpy() - np.cos(phi)) <= bound)
    assert np.all(np.abs(freqs_ci.imag.double().numpy() - np.sin(phi)) <= bound)
    assert freqs_ci[-1].real.eq(1).all() and freqs_ci[-1].imag.eq(0).all()
    x = np.random.default_rng(2).standard_normal((1, v.n_tokens, 2, d)).astype(np.float32)
    q = torch.from_numpy(x)
    out = l4.vision_apply_rotary_emb(q, q, freqs_ci[:, None, :])[0].double().numpy()
    _within_budget(out[0].transpose(1, 0, 2), x[0].transpose(1, 0, 2).astype(np.float64), v)
