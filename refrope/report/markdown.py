"""The text of a report: the backend header and ``report.md``, rendered from :func:`~refrope.report.data.report_data`.

Order: header, verdict and coverage, the variant x layout x dtype grid, each group of identical failures
(message, values, likely cause, the ids in the form ``--xfails-file`` reads, the repro with the backend
call), the skips by reason, the counts per clause. Spec: docs/spec/conformance.md [K-REPORT-1], [K-REPORT-3].
"""

from __future__ import annotations

from .summary import cell_text

__all__ = ["backend_header", "report_markdown", "coverage_line", "xfail_lines"]


def backend_header(backend) -> list[str]:
    """The lines that describe a backend: name, source and versions, dtypes, capabilities.

    >>> from refrope.backends import oracle_backend
    >>> backend_header(oracle_backend())[1]
    'dtypes: float64; angle dtype: float64'
    """
    versions = ", ".join(f"{k} {v}" for k, v in backend.versions.items()) or "no versions declared"
    method = getattr(backend, "angle_method", "direct")
    declared = "" if method == "direct" else f"; angle method: {method} (its budget term, [N-ROPE-3])"
    device = getattr(backend, "device", None)
    return [f"backend: {backend.name} ({backend.source}; {versions})",
            f"dtypes: {', '.join(backend.dtypes)}; angle dtype: {backend.angle_dtype}{declared}"
            + (f"; device: {device}" if device else ""),
            f"capabilities: {', '.join(sorted(backend.capabilities))}"]


def coverage_line(cov: dict) -> str:
    """``"60 of 150 ran (58 passed, 2 failed); 90 skipped; 0 xfailed"``.

    >>> coverage_line({"selected": 150, "ran": 60, "passed": 58, "failed": 2, "errors": 0, "xpassed": 0,
    ...                "skipped": 90, "xfailed": 0})
    '60 of 150 ran (58 passed, 2 failed); 90 skipped'
    """
    parts = [f"{cov[k]} {k}" for k in ("passed", "failed", "errors", "xpassed") if cov[k]]
    line = f"{cov['ran']} of {cov['selected']} ran ({', '.join(parts) or 'none'})"
    for key in ("skipped", "xfailed"):
        if cov[key]:
            line += f"; {cov[key]} {key}"
    not_run = cov["selected"] - cov.get("recorded", cov["selected"])
    return line + (f"; {not_run} not run (stopped early)" if not_run > 0 else "")


def xfail_lines(group: dict) -> list[str]:
    """The group's tests as lines of an xfails file: ``id  # clause: likely cause or message``.

    >>> xfail_lines({"tests": ["conformance/a.py::t[x]"], "clauses": ["K-APPLY-1"], "hint": "positions off by one",
    ...              "first": {"message": "[K-APPLY-1] ..."}})
    ['conformance/a.py::t[x]  # K-APPLY-1: positions off by one']
    """
    message = (group["first"].get("message") or "").strip()
    why = group["hint"] or (message.splitlines()[0][:100] if message else "")
    return [f"{test}  # {', '.join(group['clauses']) or 'no clause'}: {why}" for test in group["tests"]]


def _grid(data: dict) -> list[str]:
    columns, rows = data["grid"]["columns"], data["grid"]["rows"]
    if not rows:
        return []
    lines = ["## Grid: variant x layout x dtype", "",
             "One row per test and variant (or attention case), one column per layout / dtype (`-`: the test has "
             "no such parameter); worst = the largest |backend - oracle| / budget over the row's tests and examples "
             "(must be <= 1; docs/spec/numerics.md), abs = the largest |backend - oracle|.", "",
             "| test | variant or case | " + " | ".join(f"{lay} / {d}" for lay, d in columns) + " | worst | abs |",
             "|---|---|" + "---|" * (len(columns) + 2)]
    for row in rows:
        cells = [cell_text(c) for c in row["cells"]]
        worst = f"{row['worst']:.3g}" if row["worst"] is not None else ""
        abs_error = f"{row['abs_error']:.2g}" if row["abs_error"] is not None else ""
        bold = "**" if row["status"] == "FAIL" else ""
        lines.append(f"| {row['row'][0]} | {row['row'][1]} | " + " | ".join(f"**{c}**" if c == "FAIL" else c
                                                                           for c in cells)
                     + f" | {bold}{worst}{bold} | {abs_error} |")
    return lines + [""]


def _failures(data: dict) -> list[str]:
    groups = data["failures"]
    if not groups:
        return []
    total = sum(g["count"] for g in groups)
    lines = [f"## Failures: {total} test(s) in {len(groups)} group(s) of identical failures", ""]
    for n, g in enumerate(groups, 1):
        first = g["first"]
        lines += [f"### {n}. {', '.join(g['clauses']) or 'no clause'}: {g['function']}, {g['count']} test(s)", ""]
        if g["hint"]:
            lines += [f"Likely cause: **{g['hint']}**.", ""]
        worst = g["worst_error_over_budget"]
        lines += [f"First: `{first['test']}` ({first['kind']}"
                  + (f"; worst error/budget in the group {worst:.6g}" if worst is not None else "") + ")", "",
                  "```text", first["message"] or "", *first["where"], "```", ""]
        if first["repro"]:
            lines += ["Repro (the backend call and the oracle's):", "", "```python", first["repro"], "```", ""]
        if first["example"]:
            lines += ["```text", first["example"], "```", ""]
        lines += ["The tests of this group, in the form `--xfails-file` reads (accept them only as a documented "
                  "finding):", "", "```text", *xfail_lines(g), "```", ""]
    return lines


def report_markdown(data: dict) -> str:
    """``report.md`` from :func:`~refrope.report.data.report_data`."""
    cov = data["coverage"]
    lines = ["# refrope check report", "", *[f"- {h}" for h in data["header"]], "",
             f"**{data['verdict']}**: {coverage_line(cov)}.", ""]
    if data["verdict"] == "NOTHING EXERCISED":
        lines += ["No test ran: every selected test was skipped, xfailed or deselected. Check the backend's "
                  "`capabilities` and the filters.", ""]
    if data["collection_errors"]:
        lines += ["## Collection errors", "", "```text", *data["collection_errors"], "```", ""]
    lines += _grid(data) + _failures(data)
    for key, title in (("skipped_by_reason", "Skipped, by reason"), ("xfailed_by_reason", "Xfailed, by reason")):
        if cov[key]:
            lines += [f"## {title}", "", "| tests | reason |", "|---|---|"]
            lines += [f"| {count} | {reason.replace('|', '/')} |" for reason, count in cov[key]] + [""]
    lines += ["## By clause", "",
              "A failing test counts under the clause its failure names; the other outcomes under every clause "
              "the test cites.", "", "| clause | passed | failed | skipped | xfailed |", "|---|---|---|---|---|"]
    for clause, c in data["clauses"].items():
        lines.append(f"| {clause} | {c.get('passed', 0)} | {c.get('failed', 0)} | {c.get('skipped', 0)} | "
                     f"{c.get('xfailed', 0)} |")
    for option, ids in data["unmatched_ids"].items():
        if ids:
            lines += ["", f"Ids in {option} that match no collected test: " + ", ".join(f"`{i}`" for i in ids)]
    return "\n".join(lines) + "\n"
