"""What a failing test says, as plain data: the clause it violates, its message, values, repro and likely cause.

A conformance failure is an ``AssertionError`` with a ``clause`` attribute (the suite's ``ConformanceFailure``,
duck-typed: refrope never imports the suite), optionally ``ratio`` (worst error/budget), ``error`` (largest
absolute error) and ``hint``; hypothesis may raise several at once in an exception group. :func:`failure_info`
reads all of them into a JSON-able dict that travels with the pytest report (also from pytest-xdist workers);
:func:`signature` says which failures are the same failure. Spec: docs/spec/conformance.md [K-REPORT-2].
"""

from __future__ import annotations

import os
import re
import traceback

__all__ = ["leaves", "failure_info", "worst_ratio", "signature", "short_message"]

_INTERNAL = re.compile(r"[\\/](_pytest|pluggy|hypothesis|_hypothesis_[a-z_]+)[\\/]")
MAX_MESSAGE = 4000


def leaves(exc: BaseException):
    """The exceptions inside ``exc``: itself, or, for an exception group, every exception it holds (recursively).

    >>> [str(e) for e in leaves(ValueError("a"))]
    ['a']
    """
    inner = getattr(exc, "exceptions", None)
    if isinstance(inner, (list, tuple)) and inner:
        for e in inner:
            yield from leaves(e)
    else:
        yield exc


def worst_ratio(exc: BaseException | None, attribute: str = "ratio") -> float | None:
    """The largest ``ratio`` (worst error/budget; or another numeric ``attribute``, e.g. ``"error"``) carried by
    ``exc`` or the exceptions it groups, else None.

    >>> e = AssertionError("x"); e.ratio, e.error = 1176461.75, 0.5
    >>> worst_ratio(e), worst_ratio(e, "error"), worst_ratio(ValueError("y")), worst_ratio(None)
    (1176461.75, 0.5, None, None)
    """
    if exc is None:
        return None
    values = [float(v) for e in leaves(exc) if (v := getattr(e, attribute, None)) is not None]
    return max(values) if values else None


def short_message(text: str, limit: int = 240) -> str:
    """The first line of ``text``, cut to ``limit`` characters (``...`` marks a cut).

    >>> short_message("[K-APPLY-1] apply_rope(...): 3 of 8 elements\\nmore", 30)
    '[K-APPLY-1] apply_rope(...)...'
    """
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[:limit - 3] + "..."


def _where(exc: BaseException) -> list[str]:
    """The last frames of ``exc``'s traceback outside pytest, pluggy and hypothesis: ``file:line in function``."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not _INTERNAL.search(f.filename)]
    return [f"{os.path.relpath(f.filename) if not f.filename.startswith('<') else f.filename}:{f.lineno} in "
            f"{f.name}: {(f.line or '').strip()}" for f in frames[-3:]]


def _body(note: str) -> str:
    """The script inside a ``===== repro (...) =====`` note, without its two fence lines."""
    return "\n".join(line for line in note.strip().splitlines() if not line.startswith("====="))


def _without_call(message: str) -> str:
    """A failure message with the call it names (``name(...)``, parentheses balanced) and the ``[part]`` after it
    cut out: what is left describes the failure, not its inputs."""
    start = message.find("(")
    if start < 0:
        return message
    depth = 0
    for i in range(start, len(message)):
        depth += {"(": 1, ")": -1}.get(message[i], 0)
        if depth == 0:
            rest = message[i + 1:]
            return message[:start] + "(...)" + (rest.split("]", 1)[1] if rest.startswith(" [") else rest)
    return message


def failure_info(exc: BaseException) -> dict:
    """A failure as plain data: ``clauses`` (from the conformance failures inside), ``kind`` (exception type),
    ``message`` (the first failure's text, cut at 4,000 characters), ``ratio``, ``error``, ``hint``, ``repro``
    (the attached repro note), ``example`` (hypothesis' falsifying example) and ``where`` (last frames, for an
    exception that is not a conformance failure).

    >>> e = AssertionError("[K-APPLY-1] apply_rope(x): 1 of 2 elements outside the budget")
    >>> e.clause, e.ratio, e.error, e.hint = "K-APPLY-1", 3.5, 0.25, "positions off by one"
    >>> info = failure_info(e)
    >>> info["clauses"], info["ratio"], info["hint"], info["kind"]
    (['K-APPLY-1'], 3.5, 'positions off by one', 'AssertionError')
    """
    found = list(leaves(exc))
    first = next((e for e in found if isinstance(getattr(e, "clause", None), str)), found[0])
    notes = [n for e in found for n in getattr(e, "__notes__", []) or []]
    message = str(first)
    conformance = isinstance(getattr(first, "clause", None), str)
    return {
        "clauses": list(dict.fromkeys(e.clause for e in found if isinstance(getattr(e, "clause", None), str))),
        "kind": type(first).__name__,
        "message": message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE - 3] + "...",
        "ratio": worst_ratio(exc),
        "error": worst_ratio(exc, "error"),
        "hint": next((h for e in found if (h := getattr(e, "hint", None))), None),
        "repro": next((_body(n) for n in notes if "===== repro" in n), None),
        "example": next((n.strip() for n in notes if n.lstrip().startswith("Falsifying")), None),
        "where": [] if conformance else _where(first),
        "groups": len(found),
    }


_NUMBER = re.compile(r"-?(?:\d+\.?\d*(?:e[-+]?\d+)?|inf|nan)", re.IGNORECASE)


def signature(test_function: str, info: dict) -> tuple:
    """What makes two failures the same failure: the test function, the clauses, the exception type, the hint,
    and the message with every number and array replaced by ``#`` (so the same bug at other values matches).

    >>> a = {"clauses": ["K-APPLY-1"], "kind": "ConformanceFailure", "hint": None,
    ...      "message": "[K-APPLY-1] apply_rope(np.array([1.5])): 1 of 2 elements; backend 0.5"}
    >>> b = {**a, "message": a["message"].replace("5", "7")}
    >>> signature("test_apply_rope", a) == signature("test_apply_rope", b)
    True
    """
    message = _without_call(short_message(info.get("message", ""), 10_000))
    return (test_function, tuple(info.get("clauses", ())), info.get("kind"), info.get("hint"),
            _NUMBER.sub("#", message))
