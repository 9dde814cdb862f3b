"""A published report as an SVG bar chart: one horizontal bar per row of its chart measure.

Hand-written SVG 1.1 (no plotting library): it opens in any browser and in office software.
Every row gets one bar. Bars grow from a zero line, to the left for negative values (a fall in
a lower-is-better score is an improvement and must show). Suppressed values are drawn as an
empty dashed bar labelled "suppressed", values that do not apply as an empty dotted bar labelled
"n/a"; the disclosure note is printed under the title.
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
    numbers = [float(v) for v in values if isinstance(v, int | float)]
    largest, smallest = max([0.0, *numbers]), min([0.0, *numbers])
    span = largest - smallest
    plot_width = WIDTH - LABEL_WIDTH - VALUE_WIDTH - 20
    scale = plot_width / span if span > 0 else 0.0
    # Negative values need room left of the zero line, and their value text beside them.
    reserve = VALUE_WIDTH if smallest < 0 else 0
    if smallest < 0 and span > 0:
        scale = (plot_width - reserve) / span
    zero = LABEL_WIDTH + reserve + (-smallest) * scale
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
        if suppressed or not isinstance(value, int | float):
            kind, shown, dashes = (
                ("suppressed", "suppressed", "3,2") if suppressed else ("empty", "n/a", "1,2")
            )
            parts.append(
                f'<rect class="bar {kind}" x="{zero:.1f}" y="{y}" width="40" '
                f'height="{BAR_HEIGHT}" fill="none" stroke="#888888" stroke-dasharray="{dashes}">'
                f"<title>{escape(label)}: {shown}</title></rect>"
            )
            x = zero + 46
        else:
            width = abs(float(value)) * scale
            left = zero - width if value < 0 else zero
            negative = " negative" if value < 0 else ""
            parts.append(
                f'<rect class="bar{negative}" x="{left:.1f}" y="{y}" width="{width:.1f}" '
                f'height="{BAR_HEIGHT}" fill="#005eb8" data-value="{value}">'
                f"<title>{escape(label)}: {value}{unit}</title></rect>"
            )
            shown = f"{_number(value)}{unit}"
            x = left - 6 if value < 0 else zero + width + 6
        anchor = ' text-anchor="end"' if isinstance(value, int | float) and value < 0 else ""
        parts.append(
            f'<text class="value" x="{x:.1f}" y="{y + 13}" font-size="12"{anchor} {FONT}>'
            f"{escape(shown)}</text>"
        )
    if smallest < 0:
        bottom = TOP + ROW_HEIGHT * max(len(rows), 1)
        parts.append(
            f'<line class="zero" x1="{zero:.1f}" y1="{TOP - 4}" x2="{zero:.1f}" y2="{bottom}" '
            'stroke="#425563" stroke-width="1"/>'
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
