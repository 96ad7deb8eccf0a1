"""The summary ``refrope check`` prints at the end of a run, rendered from :func:`~refrope.report.data.report_data`.

Verdict and coverage first, the skips by reason, the grid (all of it when short, else its failing rows),
each group of identical failures once (likely cause, message, the repro with the backend call), the clauses.
Spec: docs/spec/conformance.md [K-REPORT-1], [K-REPORT-3].
"""

from __future__ import annotations

from .collector import duration_text
from .markdown import coverage_line
from .summary import cell_text

__all__ = ["summary_lines"]


_SHORT = {"float64": "f64", "float32": "f32", "float16": "f16", "bfloat16": "bf16"}


def _grid(data: dict, max_rows: int) -> list[str]:
    columns, rows = data["grid"]["columns"], data["grid"]["rows"]
    if not rows:
        return []
    ran = [r for r in rows if r["status"] != "skip"]
    shown = ran if len(ran) <= max_rows else [r for r in ran if r["status"] == "FAIL"]
    if not shown:
        worst = max((r for r in ran if r["worst"] is not None), key=lambda r: r["worst"], default=None)
        return [f"grid: {len(ran)} rows ran, none failed" + (f"; worst error/budget {worst['worst']:.3g} "
                f"({' '.join(worst['row'])}), must be <= 1" if worst else "") + "; every row in report.md"]
    w0 = max(len("test"), *(len(r["row"][0]) for r in rows))
    w1 = max(len("variant"), *(len(r["row"][1]) for r in rows))
    groups: dict[str, list[str]] = {}
    for layout, dtype in columns:
        groups.setdefault(layout, []).append(_SHORT.get(dtype, dtype))
    widths = {layout: max(len(layout), 5 * len(d) - 1) for layout, d in groups.items()}
    lines = ["grid (. pass, F fail, s skip, x xfail; worst = max |backend - oracle| / budget, must be <= 1):",
             f"  {'':{w0}s}  {'':{w1}s}  " + "  ".join(f"{layout:{widths[layout]}s}" for layout in groups),
             f"  {'test':{w0}s}  {'variant':{w1}s}  "
             + "  ".join(f"{' '.join(f'{d:4s}' for d in ds):{widths[layout]}s}" for layout, ds in groups.items())
             + "  worst     abs"]
    for r in shown:
        cells, i = [], 0
        for layout, ds in groups.items():
            text = " ".join(f"{cell_text(r['cells'][i + k], short=True):4s}" for k in range(len(ds)))
            cells.append(f"{text:{widths[layout]}s}")
            i += len(ds)
        worst = f"{r['worst']:<9.3g}" if r["worst"] is not None else " " * 9
        abs_error = f"{r['abs_error']:.2g}" if r["abs_error"] is not None else ""
        lines.append(f"  {r['row'][0]:{w0}s}  {r['row'][1]:{w1}s}  " + "  ".join(cells) + f"  {worst} {abs_error}")
    if len(shown) < len(rows):
        lines.append(f"  ({len(rows) - len(shown)} more rows, {len(rows) - len(ran)} of them skipped entirely: "
                     "see report.md or --format json)")
    return [line.rstrip() for line in lines]


def _failures(data: dict, max_groups: int) -> list[str]:
    groups = data["failures"]
    if not groups:
        return []
    lines = [f"failures: {sum(g['count'] for g in groups)} test(s) in {len(groups)} group(s) of identical failures"]
    for n, g in enumerate(groups[:max_groups], 1):
        first = g["first"]
        more = f" and {g['count'] - 1} more like it" if g["count"] > 1 else ""
        lines.append(f"  [{n}] {', '.join(g['clauses']) or 'no clause'}: {first['test']}{more}")
        if g["hint"]:
            lines.append(f"      likely cause: {g['hint']}")
        message = (first["message"] or "").strip().splitlines()
        lines += [f"      {line}" for line in message[:6]]
        lines += [f"      at {w}" for w in first["where"]]
        if first["repro"]:
            lines += ["      repro:"] + [f"        {line}" for line in first["repro"].splitlines()]
    if len(groups) > max_groups:
        lines.append(f"  ({len(groups) - max_groups} more groups in report.md / --format json)")
    return lines


def summary_lines(data: dict, *, max_rows: int = 40, max_groups: int = 5, max_reasons: int = 12) -> list[str]:
    """The end-of-run summary, line by line.

    >>> from refrope.report.data import report_data
    >>> from refrope.report.collector import Result
    >>> print("\\n".join(summary_lines(report_data([Result("a", "skipped", reason="no apply_rope")], header=[],
    ...                                           selected=1))))
    refrope check: NOTHING EXERCISED in 0 s: 0 of 1 ran (none); 1 skipped
    skipped, by reason:
          1  no apply_rope
    no test ran: every selected test was skipped, xfailed or deselected (check the capabilities and the filters)
    """
    cov = data["coverage"]
    lines = [f"refrope check: {data['verdict']} in {duration_text(data['duration_s'])}: {coverage_line(cov)}"]
    for key, title in (("skipped_by_reason", "skipped"), ("xfailed_by_reason", "xfailed")):
        if cov[key]:
            lines.append(f"{title}, by reason:")
            lines += [f"  {count:5d}  {reason}" for reason, count in cov[key][:max_reasons]]
            if len(cov[key]) > max_reasons:
                lines.append(f"         ({len(cov[key]) - max_reasons} more reasons in report.md)")
    if data["verdict"] == "NOTHING EXERCISED":
        lines.append("no test ran: every selected test was skipped, xfailed or deselected (check the capabilities "
                     "and the filters)")
    if data["collection_errors"]:
        lines += ["collection errors:"] + [f"  {e.splitlines()[0] if e else ''}" for e in data["collection_errors"]]
    lines += _grid(data, max_rows) + _failures(data, max_groups)
    bad = {c: v["failed"] for c, v in data["clauses"].items() if v.get("failed")}
    lines += [f"  FAILED clause {clause}: {n} failing test(s)" for clause, n in bad.items()]
    exercised = [c for c, v in data["clauses"].items() if v.get("passed") and c not in bad]
    if exercised:
        lines.append(f"  {len(exercised)} clause(s) exercised {'passed' if not bad else 'without a failure'}: "
                     + ", ".join(exercised))
    for option, ids in data["unmatched_ids"].items():
        if ids:
            lines.append(f"  {len(ids)} id(s) in {option} match no collected test: {', '.join(ids)}")
    if data["stopped_early"]:
        lines.append("  stopped early (--max-failures): the tests after the last failure did not run")
    return lines
