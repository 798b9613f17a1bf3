"""Reports people can read: one self-contained HTML page per JSON report (check, simulate,
diff, validate), with each finding's trace as an interactive swimlane diagram and the whole
world at each step. ``render_html(report_json) -> str``."""

from .sections import render_html, report_kind, with_citations

__all__ = ["render_html", "report_kind", "with_citations"]
