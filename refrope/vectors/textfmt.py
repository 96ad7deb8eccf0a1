r"""The flat text format of the ``apply_rope`` vectors, for harnesses without a JSON parser (examples/c).

One token per field, separated by white space; every float a C99 hex string (``strtod`` reads it)::

    refrope-vectors apply_rope <formatVersion> <numberOfTests>
    test <tcId> <layout> <headDim> <rotaryOffset> <rotaryDim> <seqLen> <dtype> <maxAngle> <attentionFactor>
    inv_freq <rotaryDim/2 floats>
    positions <seqLen floats>
    x <seqLen*headDim floats, row-major>
    expected <seqLen*headDim floats, row-major>

The ``test`` block repeats ``numberOfTests`` times, in ``tcId`` order; the file ends with ``end``.
It carries the same cases and bytes of float as ``rope_apply_vV.json``. Spec: [GV-TEXT-1].
"""

from __future__ import annotations

from .jsonfmt import iter_tests

__all__ = ["dumps"]


def dumps(doc: dict) -> bytes:
    """The text form of an ``apply_rope`` JSON document (see the module docstring).

    >>> doc = {"formatVersion": 1, "numberOfTests": 1, "testGroups": [{"invFreq": ["0x1.0p+0"],
    ...     "attentionFactor": "0x1.0p+0", "rotaryDim": 2, "tests": [{"tcId": 1, "layout": "half", "headDim": 2,
    ...     "rotaryOffset": 0, "seqLen": 1, "budget": {"dtype": "float32", "maxAngle": "0x0.0p+0"},
    ...     "positions": ["0x0.0p+0"], "x": ["0x1.0p+0", "0x0.0p+0"],
    ...     "expected": ["0x1.0p+0", "0x0.0p+0"]}]}]}
    >>> print(dumps(doc).decode(), end="")
    refrope-vectors apply_rope 1 1
    test 1 half 2 0 2 1 float32 0x0.0p+0 0x1.0p+0
    inv_freq 0x1.0p+0
    positions 0x0.0p+0
    x 0x1.0p+0 0x0.0p+0
    expected 0x1.0p+0 0x0.0p+0
    end
    """
    lines = [f"refrope-vectors apply_rope {doc['formatVersion']} {doc['numberOfTests']}"]
    for group, t in iter_tests(doc):
        b = t["budget"]
        lines.append(f"test {t['tcId']} {t['layout']} {t['headDim']} {t['rotaryOffset']} {group['rotaryDim']} "
                     f"{t['seqLen']} {b['dtype']} {b['maxAngle']} {group['attentionFactor']}")
        lines.append("inv_freq " + " ".join(group["invFreq"]))
        for key in ("positions", "x", "expected"):
            lines.append(key + " " + " ".join(t[key]))
    lines.append("end")
    return ("\n".join(lines) + "\n").encode("ascii")
