"""`GET /reports/dashboard`: choose a report, filters and grouping; see its chart and table.

The form is rendered here from the report catalogue; the report itself is requested by the
browser from `GET /reports/{report}` (JSON for the table, SVG for the chart, CSV to download)
with the person's bearer token (`static/dashboard.js`), so what it shows is exactly what the
API publishes to that person, disclosure control included.
"""

from collections.abc import Mapping
from html import escape
from importlib import resources

import orjson
from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from referral_api.reports import service
from referral_api.reports.dimensions import Dimension, catalogue
from signpost_platform.pages import layout
from signpost_platform.pages import routes as shared
from signpost_platform.routing import CheckedRoute

router = APIRouter(route_class=CheckedRoute, include_in_schema=False)
# A development sign-in reads reports with disclosure control, as an ICB analyst would.
DEVELOPMENT_SCOPES = ("reports:read",)
shared_routes = shared.router(
    static=resources.files("referral_api.pages").joinpath("static"),
    development_scopes=DEVELOPMENT_SCOPES,
)


def _dimensions(spec: service.ReportSpec) -> Mapping[str, Dimension]:
    return catalogue() if spec.dimensions is None else spec.dimensions


def _reports() -> dict[str, dict[str, object]]:
    """What the page's script needs of each report: what it groups and filters by."""
    return {
        spec.name: {
            "groupBy": [n for n in _dimensions(spec) if n not in spec.reserved],
            "maxGroupBy": spec.max_group_by,
            "filters": [n for n, d in _dimensions(spec).items() if d.filterable],
            "options": [option.name for option in spec.options],
        }
        for spec in service.REPORTS.values()
    }


def _all_dimensions() -> dict[str, Dimension]:
    found: dict[str, Dimension] = {}
    for spec in service.REPORTS.values():
        for name, dimension in _dimensions(spec).items():
            found.setdefault(name, dimension)
    return found


def _select(id_: str, label: str, options: list[tuple[str, str]], hint: str = "") -> str:
    hint_html = f'<div class="nhsuk-hint" id="{id_}-hint">{escape(hint)}</div>' if hint else ""
    described = f' aria-describedby="{id_}-hint"' if hint else ""
    choices = "".join(f'<option value="{escape(v)}">{escape(t)}</option>' for v, t in options)
    return f"""<div class="nhsuk-form-group" id="{id_}-group">
  <label class="nhsuk-label" for="{id_}">{escape(label)}</label>{hint_html}
  <select class="nhsuk-select" id="{id_}" name="{id_}"{described}>{choices}</select>
</div>"""


def _filter(dimension: Dimension) -> str:
    id_ = f"filter-{dimension.name}"
    if dimension.values is not None and dimension.pattern is None:
        values = [("", "Any")] + [(v, dimension.label(v)) for v in dimension.values]
        return _select(id_, dimension.description, values)
    if dimension.values is not None:
        hint = f"Any if empty; for example {', '.join(dimension.values[:2])} (several: commas)"
    elif dimension.pattern is not None:
        hint = f"Any if empty; otherwise {dimension.expects} (several: commas)"
    else:
        hint = "Any if empty (several: commas)"
    return f"""<div class="nhsuk-form-group" id="{id_}-group">
  <label class="nhsuk-label" for="{id_}">{escape(dimension.description)}</label>
  <div class="nhsuk-hint" id="{id_}-hint">{escape(hint)}</div>
  <input class="nhsuk-input nhsuk-input--width-20" id="{id_}" name="{id_}" type="text"
    autocomplete="off" spellcheck="false" aria-describedby="{id_}-hint">
</div>"""


def _options(spec: service.ReportSpec) -> str:
    fields = []
    for option in spec.options:
        id_ = f"option-{spec.name}-{option.name}"
        if option.values:
            fields.append(
                _select(
                    id_,
                    option.description,
                    [(v, v) for v in option.values],
                    f"Default {option.default}",
                )
            )
        else:
            fields.append(
                f"""<div class="nhsuk-form-group"><label class="nhsuk-label" for="{id_}">
  {escape(option.description)}</label>
  <div class="nhsuk-hint" id="{id_}-hint">{option.minimum} to {option.maximum}</div>
  <input class="nhsuk-input nhsuk-input--width-4" id="{id_}" name="{id_}" type="text"
    inputmode="numeric" value="{escape(str(option.default))}" aria-describedby="{id_}-hint">
</div>"""
            )
    return (
        f'<div class="signpost-report-options" data-report="{escape(spec.name)}" hidden>'
        + "".join(fields)
        + "</div>"
    )


def _main() -> str:
    reports = [(spec.name, spec.title) for spec in service.REPORTS.values()]
    dimensions = _all_dimensions()
    groups = [("", "None")] + [(n, d.description) for n, d in dimensions.items()]
    filters = "".join(_filter(d) for d in dimensions.values() if d.filterable)
    options = "".join(_options(spec) for spec in service.REPORTS.values() if spec.options)
    return f"""
<div data-needs-sign-in hidden>
<form id="report-form" class="signpost-form" novalidate>
  {_select("report", "Report", reports)}
  <p class="nhsuk-body-s" id="report-description"></p>
  {options}
  <fieldset class="nhsuk-fieldset">
    <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Group by</legend>
    {_select("group-by-1", "First dimension", groups)}
    {_select("group-by-2", "Second dimension", groups)}
  </fieldset>
  <fieldset class="nhsuk-fieldset">
    <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Period</legend>
    <div class="nhsuk-form-group"><label class="nhsuk-label" for="from">From</label>
      <div class="nhsuk-hint" id="from-hint">First day included (any if empty)</div>
      <input class="nhsuk-input nhsuk-input--width-10" id="from" name="from" type="date"
        aria-describedby="from-hint"></div>
    <div class="nhsuk-form-group"><label class="nhsuk-label" for="to">To</label>
      <div class="nhsuk-hint" id="to-hint">Last day included (any if empty)</div>
      <input class="nhsuk-input nhsuk-input--width-10" id="to" name="to" type="date"
        aria-describedby="to-hint"></div>
  </fieldset>
  <details class="nhsuk-details">
    <summary class="nhsuk-details__summary">
      <span class="nhsuk-details__summary-text">Filters</span>
    </summary>
    <div class="nhsuk-details__text">{filters}</div>
  </details>
  <button class="nhsuk-button" type="submit" id="show-report">Show the report</button>
</form>
<section id="report-output" hidden aria-labelledby="report-title">
  <h2 class="nhsuk-heading-m" id="report-title" tabindex="-1"></h2>
  <p class="nhsuk-body" id="report-disclosure"></p>
  <div class="signpost-chart" id="report-chart"></div>
  <div id="report-table"></div>
  <button class="nhsuk-button nhsuk-button--secondary" type="button" id="download-csv">Download
    CSV</button>
</section>
</div>"""


@router.get("/reports/dashboard", response_class=HTMLResponse)
async def reports_dashboard(request: Request) -> HTMLResponse:
    descriptions = {spec.name: spec.description for spec in service.REPORTS.values()}
    return layout.page(
        request,
        title="Reports",
        main=_main(),
        scripts=[f"{layout.STATIC}/dashboard.js"],
        data={
            "reports": orjson.dumps(_reports()).decode(),
            "descriptions": orjson.dumps(descriptions).decode(),
        },
    )
