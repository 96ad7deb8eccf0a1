"""Vector-Jacobian products of apply_rope and attention (being written)."""

__all__ = ["apply_rope_vjp", "attention_vjp"]


def _todo(*args, **kwargs):
    raise NotImplementedError("refrope.gradients is being implemented")


apply_rope_vjp = attention_vjp = _todo
