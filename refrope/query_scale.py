"""Per-query logit scales: logn, logn_clipped, llama4_temperature (being written)."""

__all__ = ["logn", "logn_clipped", "llama4_temperature"]


def _todo(*args, **kwargs):
    raise NotImplementedError("refrope.query_scale is being implemented")


logn = logn_clipped = llama4_temperature = _todo
