"""`GET /screen`: the clinic screening page.

Server-rendered in the NHS.UK layout; the questionnaire is rendered in the browser by LHC-Forms
exactly as `GET /fhir/Questionnaire/{id}` serves it, and the response goes to this service's
FHIR API with the person's bearer token (`static/screen.js`), so the page can do nothing the
API would not let the person do.
"""

from html import escape
from importlib import resources

import orjson
from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from screening_api.questionnaires.catalogue import QuestionnaireCatalogue
from signpost_platform.pages import layout
from signpost_platform.pages import routes as shared
from signpost_platform.routing import CheckedRoute

router = APIRouter(route_class=CheckedRoute, include_in_schema=False)
# A development sign-in acts for the synthetic clinic, whose screens `make run` routes to the
# synthetic social-prescribing team (F84001).
DEVELOPMENT_SCOPES = ("screening:read", "screening:write")
DEVELOPMENT_CLINIC = "R1H12"
shared_routes = shared.router(
    static=resources.files("screening_api.pages").joinpath("static"),
    development_scopes=DEVELOPMENT_SCOPES,
    development_ods=DEVELOPMENT_CLINIC,
)
LFORMS = f"{layout.ASSETS}/lforms"


def _choices(catalogue: QuestionnaireCatalogue) -> str:
    active = sorted(
        (tool for tool in catalogue.tools if tool.status == "active"), key=lambda t: t.title
    )
    return "\n".join(
        f"""<div class="nhsuk-radios__item">
  <input class="nhsuk-radios__input" id="questionnaire-{i}" name="questionnaire" type="radio"
    value="{escape(tool.id)}"{" checked" if i == 0 else ""}>
  <label class="nhsuk-label nhsuk-radios__label" for="questionnaire-{i}">{escape(tool.title)}
    (version {escape(tool.version)})</label>
</div>"""
        for i, tool in enumerate(active)
    )


def _main(catalogue: QuestionnaireCatalogue) -> str:
    return f"""
<div data-needs-sign-in hidden>
<form id="start-form" class="signpost-form" novalidate>
  <div class="nhsuk-form-group" id="questionnaire-group">
    <fieldset class="nhsuk-fieldset">
      <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--m">Questionnaire</legend>
      <div class="nhsuk-radios">{_choices(catalogue)}</div>
    </fieldset>
  </div>
  <div class="nhsuk-form-group" id="nhs-number-group">
    <label class="nhsuk-label nhsuk-label--m" for="nhs-number">NHS number</label>
    <div class="nhsuk-hint" id="nhs-number-hint">10 digits, for example 943 476 5919</div>
    <input class="nhsuk-input nhsuk-input--width-10" id="nhs-number" name="nhs-number"
      type="text" inputmode="numeric" autocomplete="off" spellcheck="false"
      aria-describedby="nhs-number-hint">
  </div>
  <button class="nhsuk-button" type="submit" id="start">Start the screen</button>
</form>
<details class="nhsuk-details">
  <summary class="nhsuk-details__summary">
    <span class="nhsuk-details__summary-text">Resume a saved draft</span>
  </summary>
  <div class="nhsuk-details__text">
    <form id="resume-form" novalidate>
      <div class="nhsuk-form-group">
        <label class="nhsuk-label" for="draft-reference">Draft reference</label>
        <div class="nhsuk-hint" id="draft-reference-hint">Shown when the draft was saved</div>
        <input class="nhsuk-input nhsuk-input--width-20" id="draft-reference"
          name="draft-reference" type="text" autocomplete="off" spellcheck="false"
          aria-describedby="draft-reference-hint">
      </div>
      <button class="nhsuk-button nhsuk-button--secondary" type="submit">Resume the draft</button>
    </form>
  </div>
</details>
<section id="screen" hidden aria-labelledby="screen-title">
  <h2 class="nhsuk-heading-m" id="screen-title">Questions</h2>
  <div id="form"></div>
  <div class="nhsuk-button-group">
    <button class="nhsuk-button" type="button" id="submit">Submit the screen</button>
    <button class="nhsuk-button nhsuk-button--secondary" type="button" id="save-draft">Save as
      draft</button>
  </div>
  <p class="nhsuk-body" id="draft-status" role="status"></p>
</section>
<section id="outcome" hidden aria-labelledby="outcome-title">
  <h2 class="nhsuk-heading-m" id="outcome-title" tabindex="-1">Outcome</h2>
  <dl class="nhsuk-summary-list" id="outcome-list"></dl>
  <p class="nhsuk-body" id="referral-status" role="status" aria-live="polite"></p>
  <button class="nhsuk-button nhsuk-button--secondary" type="button" id="new-screen">Start
    another screen</button>
</section>
</div>"""


@router.get("/screen", response_class=HTMLResponse)
async def screening_page(request: Request) -> HTMLResponse:
    catalogue: QuestionnaireCatalogue = request.app.state.questionnaires
    canonicals = {tool.canonical: tool.id for tool in catalogue.tools}
    return layout.page(
        request,
        title="Screen for social welfare needs",
        main=_main(catalogue),
        styles=[f"{LFORMS}/styles.css", f"{layout.STATIC}/screen.css"],
        scripts=[
            (f"{LFORMS}/zone.min.js", "classic"),
            f"{LFORMS}/runtime.js",
            f"{LFORMS}/polyfills.js",
            f"{LFORMS}/main.js",
            # Deferred, so it runs after the modules above (LForms must exist first).
            (f"{LFORMS}/lformsFHIR.min.js", "defer"),
            f"{layout.STATIC}/screen.js",
        ],
        data={"questionnaires": orjson.dumps(canonicals).decode()},
    )
