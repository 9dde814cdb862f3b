"""A published report as an SVG bar chart: one horizontal bar per row of its chart measure.

Hand-written SVG 1.1 (no plotting library): it opens in any browser and in office software.
Suppressed values are drawn as an empty dashed bar labelled "suppressed", values that do not
apply are labelled "n/a"; the disclosure note is printed under the title.
"""

from xml.sax.saxutils import escape, quoteattr

from referral_api.reports.dimensions import NOT_RECORDED
from referral_api.reports.tables import Report, Row

MAX_BARS = 60
WIDTH = 900
LABEL_WIDTH = 330
VALUE_WIDTH = 110
BAR_HEIGHT = 18
ROW_HEIGHT = 24
TOP = 78
FONT = 'font-family="Arial, Helvetica, sans-serif"'


def row_label(report: Report, row: Row) -> str:
    """The text a bar is labelled with: its group-by and category values."""
    names = {c.name for c in report.columns}
    parts = []
    for column in report.dimension_columns:
        value = row.get(column.name)
        label = row.get(f"{column.name}_label") if f"{column.name}_label" in names else None
        parts.append(
            str(label if label is not None else value if value is not None else NOT_RECORDED)
        )
    return " · ".join(parts) or "All"


def as_svg(report: Report) -> str:
    measure = report.column(report.chart_measure)
    rows = report.rows[:MAX_BARS]
    values = [row.get(measure.name) for row in rows]
    largest = max((float(v) for v in values if isinstance(v, int | float)), default=0.0)
    scale = (WIDTH - LABEL_WIDTH - VALUE_WIDTH - 20) / largest if largest > 0 else 0.0
    height = TOP + ROW_HEIGHT * max(len(rows), 1) + 40
    unit = "%" if measure.kind == "percentage" else ""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f"aria-label={quoteattr(report.title)}>",
        f"<title>{escape(report.title)}: {escape(measure.label)}</title>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        f'<text x="10" y="24" font-size="18" font-weight="bold" {FONT}>'
        f"{escape(report.title)}</text>",
        f'<text x="10" y="44" font-size="13" {FONT}>{escape(measure.label)}</text>',
        f'<text x="10" y="62" font-size="10" fill="#555555" {FONT}>'
        f"{escape(_short_note(report))}</text>",
    ]
    if not rows:
        parts.append(f'<text x="10" y="{TOP + 16}" font-size="13" {FONT}>No data</text>')
    for index, (row, value) in enumerate(zip(rows, values, strict=True)):
        y = TOP + index * ROW_HEIGHT
        label = row_label(report, row)
        parts.append(
            f'<text class="label" x="{LABEL_WIDTH - 8}" y="{y + 13}" font-size="12" '
            f'text-anchor="end" {FONT}>{escape(_clip(label))}</text>'
        )
        suppressed = measure.name in row.get("suppressed", ())
        if suppressed:
            parts.append(
                f'<rect class="bar suppressed" x="{LABEL_WIDTH}" y="{y}" width="40" '
                f'height="{BAR_HEIGHT}" fill="none" stroke="#888888" stroke-dasharray="3,2">'
                f"<title>{escape(label)}: suppressed</title></rect>"
            )
            shown, x = "suppressed", LABEL_WIDTH + 46
        elif isinstance(value, int | float):
            width = max(float(value) * scale, 0.0)
            parts.append(
                f'<rect class="bar" x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" '
                f'height="{BAR_HEIGHT}" fill="#005eb8" data-value="{value}">'
                f"<title>{escape(label)}: {value}{unit}</title></rect>"
            )
            shown, x = f"{_number(value)}{unit}", LABEL_WIDTH + width + 6
        else:
            shown, x = "n/a", LABEL_WIDTH + 6
        parts.append(
            f'<text class="value" x="{x:.1f}" y="{y + 13}" font-size="12" {FONT}>'
            f"{escape(shown)}</text>"
        )
    if len(report.rows) > MAX_BARS:
        parts.append(
            f'<text x="10" y="{height - 12}" font-size="11" {FONT}>The first {MAX_BARS} of '
            f"{len(report.rows)} rows; the CSV has them all.</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _number(value: float) -> str:
    return f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"


def _clip(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _short_note(report: Report) -> str:
    rule = report.notes[-1] if report.notes else ""
    if rule.startswith("UNSUPPRESSED"):
        return "UNSUPPRESSED figures: not for publication."
    return "Counts of 1-7 suppressed, others rounded to the nearest 5; rates from rounded counts."
