"""``refrope variants``: the frequency registry, one variant per entry with its clause and parameters."""

from __future__ import annotations

import argparse
import json

__all__ = ["variants", "variants_data"]


def _plain(value):
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value if value is None or isinstance(value, (bool, int, float, str)) else repr(value)


def variants_data() -> list[dict]:
    """The registry as JSON-able data: name, clause, summary, parameters (name, required, default).

    >>> linear = next(v for v in variants_data() if v["name"] == "linear")
    >>> linear["clause"], linear["params"]
    ('F-LINEAR-1', [{'name': 'factor', 'required': True, 'default': None}])
    """
    import refrope

    return [{"name": name, "clause": spec.clause, "summary": spec.summary, "hf_type": getattr(spec, "hf_type", None),
             "params": [{"name": p.name, "required": p.required, "default": None if p.required else _plain(p.default)}
                        for p in spec.params]}
            for name, spec in refrope.VARIANTS.items()]


def variants(args: argparse.Namespace) -> int:
    """Print the registry: each variant, its clause, its parameters with defaults (or JSON with --format json)."""
    data = variants_data()
    if getattr(args, "format", "text") == "json":
        print(json.dumps(data, indent=1))
        return 0
    for v in data:
        params = ", ".join(p["name"] if p["required"] else f"{p['name']}={p['default']!r}" for p in v["params"])
        print(f"{v['name']:14s} [{v['clause']}] {v['summary']}\n{'':14s} params: {params or '(none)'}")
    return 0
