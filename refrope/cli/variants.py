"""``refrope variants``: the frequency registry, one variant per entry with its clause and parameters."""

from __future__ import annotations

import argparse

__all__ = ["variants"]


def variants(args: argparse.Namespace) -> int:
    """Print the registry: each variant, its clause, its parameters with defaults."""
    import refrope

    for name, spec in refrope.VARIANTS.items():
        params = ", ".join(p.name if p.required else f"{p.name}={p.default!r}" for p in spec.params)
        print(f"{name:14s} [{spec.clause}] {spec.summary}\n{'':14s} params: {params or '(none)'}")
    return 0
