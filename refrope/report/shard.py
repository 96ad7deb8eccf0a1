"""``--shard I/N``: run one of N disjoint, deterministic parts of the suite (one per machine), chosen by test id.

A test belongs to shard :math:`1 + (h \\bmod N)`, :math:`h` the first 64 bits of the SHA-256 of its id (the node
id from ``spec_tests/`` on, :func:`~refrope.report.ids.normalized_id`): the same on every machine and in every
run, independent of the order of collection, of pytest-xdist and of the other options, so the N shards together
run every selected test exactly once. ``spec_tests/conftest.py`` adds the option to the suite (``pytest --shard
2/4``, ``refrope check --shard 2/4``); :mod:`refrope.report.merge` joins the shards' reports.
Spec: docs/spec/performance.md [PERF-SHARD-1].
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["parse_shard", "shard_of", "add_option", "select"]


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` as ``(I, N)`` with ``1 <= I <= N``; ``ValueError`` naming the option otherwise.

    >>> parse_shard("2/4")
    (2, 4)
    >>> parse_shard("5/4")
    Traceback (most recent call last):
    ...
    ValueError: --shard must be I/N with 1 <= I <= N (e.g. 2/4), got '5/4'
    """
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise ValueError(f"--shard must be I/N with 1 <= I <= N (e.g. 2/4), got {text!r}")
    return int(match[1]), int(match[2])


def shard_of(test_id: str, count: int) -> int:
    """The shard (1 to ``count``) of a test id.

    >>> shard_of("test_rotary.py::test_a[half]", 4), shard_of("test_rotary.py::test_a[interleaved]", 4)
    (1, 4)
    """
    digest = hashlib.sha256(test_id.encode("utf-8")).digest()
    return 1 + int.from_bytes(digest[:8], "big") % count


def add_option(group) -> None:
    """Add ``--shard I/N`` to a pytest option group."""
    group.addoption("--shard", default=None, metavar="I/N",
                    help="run only shard I of N (1 <= I <= N): a deterministic part of the tests chosen by test id; "
                         "the N shards together run every test once (docs/sharding.md)")


def select(config, items: list) -> None:
    """Keep the items of the ``--shard`` given (if any), report the others as deselected."""
    from .ids import normalized_id

    text = config.getoption("--shard", default=None)
    if not text:
        return
    import pytest

    try:
        index, count = parse_shard(text)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    keep = [item for item in items if shard_of(normalized_id(item.nodeid), count) == index]
    if len(keep) < len(items):
        kept = set(map(id, keep))
        config.hook.pytest_deselected(items=[item for item in items if id(item) not in kept])
        items[:] = keep
