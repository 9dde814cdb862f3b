// The clinic screening page: LHC-Forms renders the Questionnaire exactly as screening-api
// serves it; the response goes to POST/PUT /fhir/QuestionnaireResponse with the person's token.
//
// Nothing is submitted twice: each screen gets an identifier made here, sent with
// If-None-Exist on the first POST (a retry, a double click or a reload returns the first
// submission), and later saves PUT the stored draft with If-Match. The browser keeps only that
// identifier and the draft's id and version in this tab (sessionStorage), never the NHS number.
import { alertBox, api, clearAlert, problem, whenSignedIn } from "/pages/static/pages.js";

const SUBMISSION_SYSTEM = "https://signpost.nhs.example/Id/screening-page-submission";
const NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number";
const OUTCOME_URL = "https://signpost.nhs.example/StructureDefinition/screening-outcome";
const ATTEMPT_KEY = "signpost.screen.attempt";
const POLL_MS = 1500;
const POLL_LIMIT = 80;
const STATES = {
  "not-needed": "No referral needed: nothing was flagged.",
  declined: "No referral: the person does not want help now.",
  "not-requested": "No referral: the person was not asked, or did not say, whether they want help.",
  pending: "Referral to a social prescribing link worker: being sent.",
  sent: "Referral to a social prescribing link worker: sent.",
  failing: "Referral to a social prescribing link worker: not sent yet, the service keeps trying.",
};

const main = document.getElementById("maincontent");
const canonicals = JSON.parse(main.dataset.questionnaires ?? "{}");
const startForm = document.getElementById("start-form");
const resumeForm = document.getElementById("resume-form");
const screen = document.getElementById("screen");
const outcome = document.getElementById("outcome");
const submitButton = document.getElementById("submit");
const draftButton = document.getElementById("save-draft");
let attempt = JSON.parse(sessionStorage.getItem(ATTEMPT_KEY) ?? "null");
let busy = false;
let polling = 0;

function remember(next) {
  attempt = next;
  if (next) sessionStorage.setItem(ATTEMPT_KEY, JSON.stringify(next));
  else sessionStorage.removeItem(ATTEMPT_KEY);
}

// The start and resume forms give way to the questions and the outcome, and come back for the
// next screen.
// The NHS number stays in view (and can be corrected) while the questions are answered.
function starting(visible) {
  document.getElementById("questionnaire-group").hidden = !visible;
  document.getElementById("start").hidden = !visible;
  resumeForm.closest("details").hidden = !visible;
}

function nhsNumber() {
  return document.getElementById("nhs-number").value.replace(/\s+/g, "");
}

function fieldError(group, input, message) {
  group.classList.add("nhsuk-form-group--error");
  let error = group.querySelector(".nhsuk-error-message");
  if (!error) {
    error = document.createElement("span");
    error.className = "nhsuk-error-message";
    error.id = `${input.id}-error`;
    input.before(error);
    input.setAttribute("aria-describedby", `${input.getAttribute("aria-describedby")} ${error.id}`);
  }
  error.textContent = `Error: ${message}`;
  input.classList.add("nhsuk-input--error");
}

function clearFieldError(group, input) {
  group.classList.remove("nhsuk-form-group--error");
  group.querySelector(".nhsuk-error-message")?.remove();
  input.classList.remove("nhsuk-input--error");
  input.setAttribute("aria-describedby", `${input.id}-hint`);
}

async function questionnaire(id) {
  const response = await fetch(`/fhir/Questionnaire/${encodeURIComponent(id)}`, {
    headers: { Accept: "application/fhir+json" },
  });
  if (!response.ok) throw new Error(await problem(response));
  return response.json();
}

async function render(definition, number, merged) {
  const patient = {
    resourceType: "Patient",
    identifier: [{ system: NHS_NUMBER_SYSTEM, value: number }],
  };
  LForms.Util.setFHIRContext(null, { patient });
  document.getElementById("screen-title").textContent = definition.title ?? "Questions";
  await LForms.Util.addFormToPage(merged ?? definition, "form", {
    fhirVersion: "R4",
    prepopulate: true,
  });
  screen.hidden = false;
  outcome.hidden = true;
  starting(false);
  document.getElementById("draft-status").textContent = "";
}

startForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearAlert(main);
  const group = document.getElementById("nhs-number-group");
  const input = document.getElementById("nhs-number");
  clearFieldError(group, input);
  if (!/^\d{10}$/.test(nhsNumber())) {
    fieldError(group, input, "Enter the NHS number, 10 digits");
    alertBox(main, "Enter the NHS number, 10 digits.");
    return;
  }
  const chosen = startForm.querySelector("input[name=questionnaire]:checked");
  try {
    const definition = await questionnaire(chosen.value);
    remember({
      identifier: crypto.randomUUID(),
      canonical: `${definition.url}|${definition.version}`,
    });
    await render(definition, nhsNumber());
  } catch (error) {
    alertBox(main, String(error.message ?? error));
  }
});

resumeForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearAlert(main);
  const reference = document.getElementById("draft-reference").value.trim();
  if (!reference) {
    alertBox(main, "Enter the draft reference.");
    return;
  }
  const response = await api(`/fhir/QuestionnaireResponse/${encodeURIComponent(reference)}`, {
    headers: { Accept: "application/fhir+json" },
  });
  if (!response.ok) {
    alertBox(main, await problem(response));
    return;
  }
  const stored = await response.json();
  const ours = stored.identifier?.system === SUBMISSION_SYSTEM ? stored.identifier.value : null;
  remember({
    identifier: ours ?? crypto.randomUUID(),
    canonical: stored.questionnaire,
    id: stored.id,
    version: stored.meta?.versionId,
  });
  if (stored.status === "completed") {
    showOutcome(stored);
    return;
  }
  try {
    const id = canonicals[stored.questionnaire];
    const choice = startForm.querySelector(`input[name=questionnaire][value="${id}"]`);
    if (choice) choice.checked = true;
    const definition = await questionnaire(id);
    const number = stored.subject?.identifier?.value ?? "";
    document.getElementById("nhs-number").value = number;
    const form = LForms.Util.convertFHIRQuestionnaireToLForms(definition, "R4");
    const merged = LForms.Util.mergeFHIRDataIntoLForms("QuestionnaireResponse", stored, form, "R4");
    await render(definition, number, merged);
    document.getElementById("draft-status").textContent =
      `Draft ${stored.id} resumed. Submit it when the screen is complete.`;
  } catch (error) {
    alertBox(main, String(error.message ?? error));
  }
});

function response(status) {
  const exported = LForms.Util.getFormFHIRData(
    "QuestionnaireResponse",
    "R4",
    document.getElementById("form"),
  );
  // The hidden NHS number item was pre-filled when the form opened: it follows the field, in
  // case the number was corrected since.
  const items = (exported.item ?? []).map((item) =>
    item.linkId === "nhs-number" ? { ...item, answer: [{ valueString: nhsNumber() }] } : item,
  );
  return {
    ...exported,
    item: items,
    status,
    questionnaire: attempt.canonical,
    identifier: { system: SUBMISSION_SYSTEM, value: attempt.identifier },
    subject: { identifier: { system: NHS_NUMBER_SYSTEM, value: nhsNumber() } },
    ...(attempt.id ? { id: attempt.id, meta: { versionId: attempt.version } } : {}),
  };
}

async function send(status) {
  const body = response(status);
  const headers = { "Content-Type": "application/fhir+json", Accept: "application/fhir+json" };
  if (attempt.id) {
    headers["If-Match"] = `W/"${attempt.version}"`;
    return api(`/fhir/QuestionnaireResponse/${encodeURIComponent(attempt.id)}`, {
      method: "PUT",
      headers,
      body: JSON.stringify(body),
    });
  }
  headers["If-None-Exist"] = `identifier=${SUBMISSION_SYSTEM}|${attempt.identifier}`;
  return api("/fhir/QuestionnaireResponse", {
    method: "POST",
    headers,
    body: JSON.stringify(body),
  });
}

async function stored() {
  const found = await api(`/fhir/QuestionnaireResponse/${encodeURIComponent(attempt.id)}`, {
    headers: { Accept: "application/fhir+json" },
  });
  return found.ok ? found.json() : null;
}

async function save(status) {
  if (busy || !attempt) return;
  busy = true;
  submitButton.disabled = draftButton.disabled = true;
  screen.classList.add("signpost-busy");
  clearAlert(main);
  try {
    const answer = await send(status);
    if (answer.ok) {
      const body = await answer.json();
      remember({ ...attempt, id: body.id, version: body.meta?.versionId });
      if (body.status === "completed") showOutcome(body);
      else {
        document.getElementById("draft-status").textContent =
          `Draft saved. Its reference is ${body.id}: use it to resume the screen.`;
      }
    } else if (answer.status === 409 && attempt.id) {
      // Already completed (a second click, or another tab): show what was stored.
      const body = await stored();
      if (body?.status === "completed") showOutcome(body);
      else alertBox(main, await problem(answer));
    } else {
      alertBox(main, await problem(answer));
    }
  } catch (error) {
    alertBox(main, `The screen could not be sent: ${error.message ?? error}. Try again.`);
  } finally {
    busy = false;
    submitButton.disabled = draftButton.disabled = false;
    screen.classList.remove("signpost-busy");
  }
}

submitButton.addEventListener("click", () => save("completed"));
draftButton.addEventListener("click", () => save("in-progress"));

function parts(extension) {
  const found = { flags: [], referral: {} };
  for (const part of extension?.extension ?? []) {
    if (part.url === "flag") found.flags.push(part.valueCoding.code);
    else if (part.url === "referral") {
      for (const sub of part.extension ?? []) {
        const key = Object.keys(sub).find((k) => k.startsWith("value"));
        found.referral[sub.url] = sub[key];
      }
    } else {
      const key = Object.keys(part).find((k) => k.startsWith("value"));
      found[part.url] = part[key];
    }
  }
  return found;
}

function words(code) {
  const text = code.replace(/-/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function row(list, key, value, id) {
  const wrapper = document.createElement("div");
  wrapper.className = "nhsuk-summary-list__row";
  const term = document.createElement("dt");
  term.className = "nhsuk-summary-list__key";
  term.textContent = key;
  const detail = document.createElement("dd");
  detail.className = "nhsuk-summary-list__value";
  detail.textContent = value;
  if (id) detail.id = id;
  wrapper.append(term, detail);
  list.append(wrapper);
}

function referralText(referral) {
  const lines = [STATES[referral.state] ?? referral.state];
  if (referral.serviceRequest?.reference) {
    const id = referral.serviceRequest.reference.split("/").pop();
    lines.push(`Referral ${id} is in the social prescribing team's queue.`);
  }
  if (referral.lastError) lines.push(`Last attempt: ${referral.lastError}`);
  return lines.join(" ");
}

function showOutcome(body) {
  const found = parts(body.extension?.find((e) => e.url === OUTCOME_URL));
  const list = document.getElementById("outcome-list");
  list.replaceChildren();
  row(list, "Needs flagged", found.flags.length ? found.flags.map(words).join(", ") : "None", "outcome-flags");
  row(list, "Screen", found.screenPositive ? "Positive" : "Negative", "outcome-screen");
  row(
    list,
    "Wants help",
    found.wantsHelp === undefined ? "Not asked" : found.wantsHelp ? "Yes" : "No",
    "outcome-help",
  );
  row(list, "Response reference", body.id, "outcome-reference");
  document.getElementById("referral-status").textContent = referralText(found.referral);
  document.getElementById("referral-status").dataset.state = found.referral.state ?? "";
  screen.hidden = true;
  outcome.hidden = false;
  starting(false);
  document.getElementById("nhs-number-group").hidden = true;
  document.getElementById("outcome-title").focus();
  if (found.referral.state === "pending" || found.referral.state === "failing") poll(body.id);
}

function poll(id) {
  const round = ++polling;
  let count = 0;
  const tick = async () => {
    if (round !== polling || count++ >= POLL_LIMIT) return;
    const answer = await api(`/fhir/QuestionnaireResponse/${encodeURIComponent(id)}`, {
      headers: { Accept: "application/fhir+json" },
    });
    if (!answer.ok) return;
    const found = parts((await answer.json()).extension?.find((e) => e.url === OUTCOME_URL));
    const status = document.getElementById("referral-status");
    status.textContent = referralText(found.referral);
    status.dataset.state = found.referral.state ?? "";
    if (found.referral.state === "pending" || found.referral.state === "failing") {
      setTimeout(tick, POLL_MS);
    }
  };
  setTimeout(tick, POLL_MS);
}

document.getElementById("new-screen").addEventListener("click", () => {
  polling++;
  remember(null);
  outcome.hidden = true;
  starting(true);
  document.getElementById("nhs-number-group").hidden = false;
  document.getElementById("nhs-number").value = "";
  document.getElementById("draft-reference").value = "";
  document.getElementById("nhs-number").focus();
});

// A screen saved earlier in this tab (before a reload, say) is offered for resuming.
whenSignedIn(() => {
  if (attempt?.id) {
    document.getElementById("draft-reference").value = attempt.id;
    resumeForm.closest("details").open = true;
  }
});
