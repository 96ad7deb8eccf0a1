"""Translation of Hugging Face ``config.json`` dicts to :class:`refrope.Frequencies` (being written)."""

__all__ = ["from_hf_config"]


def from_hf_config(config, *, seq_len=None, layer_type=None):
    """Placeholder: implemented in the config-translation work."""
    raise NotImplementedError("from_hf_config is being implemented")
