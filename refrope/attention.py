"""Reference attention for every RoPE attention variant (being written)."""

__all__ = ["attention", "attention_scores", "attention_probs", "decode_attention", "KVCache"]


def _todo(*args, **kwargs):
    raise NotImplementedError("refrope.attention is being implemented")


attention = attention_scores = attention_probs = decode_attention = _todo


class KVCache:
    """Placeholder."""

    def __init__(self, *args, **kwargs):
        _todo()
