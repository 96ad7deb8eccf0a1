"""Relative-position maps f(r) for attention (being written)."""

__all__ = ["rope", "linear", "rerope", "leaky_rerope", "inv_leaky_rerope", "relative_positions"]


def _todo(*args, **kwargs):
    raise NotImplementedError("refrope.relpos is being implemented")


rope = linear = rerope = leaky_rerope = inv_leaky_rerope = relative_positions = _todo
