// What every Signpost page shares: NHS.UK frontend's components, sign-in, API calls and errors.
//
// The bearer token is kept in this tab's sessionStorage only (never localStorage, a cookie or a
// URL) and sent in the Authorization header. Behind an authenticating proxy (data-sign-in
// "proxy") the page sends none: the proxy adds it.
import { initAll } from "/pages/assets/nhsuk-frontend/nhsuk-frontend.min.js";

const TOKEN_KEY = "signpost.page.token";
const main = document.getElementById("maincontent");
const mode = main?.dataset.signIn ?? "token";
const listeners = [];

document.body.classList.add("js-enabled", "nhsuk-frontend-supported");
initAll();

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function signedIn() {
  return mode === "proxy" || Boolean(token());
}

/** Calls `callback` now if signed in, else once the person signs in. */
export function whenSignedIn(callback) {
  if (signedIn()) callback();
  else listeners.push(callback);
}

function showSignIn() {
  const panel = document.getElementById("sign-in");
  const done = document.getElementById("signed-in");
  if (!panel) return;
  const isIn = signedIn();
  panel.hidden = isIn;
  if (done) done.hidden = !isIn || mode === "proxy";
  document.querySelectorAll("[data-needs-sign-in]").forEach((element) => {
    element.hidden = !isIn;
  });
}

function keep(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
  showSignIn();
  listeners.splice(0).forEach((callback) => callback());
}

function forget() {
  sessionStorage.removeItem(TOKEN_KEY);
  showSignIn();
}

document.getElementById("token-form")?.addEventListener("submit", (event) => {
  event.preventDefault();
  const input = document.getElementById("token");
  const value = input.value.trim();
  input.value = "";
  if (value) keep(value);
});

document.getElementById("dev-sign-in")?.addEventListener("click", async (event) => {
  const button = event.currentTarget;
  button.disabled = true;
  try {
    const response = await fetch("/pages/sign-in/development", { method: "POST" });
    if (!response.ok) throw new Error(await problem(response));
    keep((await response.json()).access_token);
  } catch (error) {
    alertBox(document.getElementById("sign-in"), String(error.message ?? error));
  } finally {
    button.disabled = false;
  }
});

document.getElementById("sign-out")?.addEventListener("click", forget);
showSignIn();

/** fetch with the bearer token; a 401 forgets the token and shows the sign-in again. */
export async function api(url, init = {}) {
  const headers = new Headers(init.headers ?? {});
  const value = token();
  if (value && mode !== "proxy") headers.set("Authorization", `Bearer ${value}`);
  const response = await fetch(url, { ...init, headers, credentials: "same-origin" });
  if (response.status === 401) forget();
  return response;
}

// Where an error is, in words, for the elements a page's form fills.
// Others are left out: the message itself says what is wrong.
const PLACES = [
  [/subject\.identifier|nhs-number/, () => "NHS number"],
  [/linkId='([^']+)'/, (match) => `question ${match[1]}`],
  [/^If-None-Exist|^If-Match/, () => "the submission"],
];

function plainPlace(expression) {
  for (const [pattern, words] of PLACES) {
    const match = expression.match(pattern);
    if (match) return words(match);
  }
  return null;
}

/** The plain words of an error answer: its OperationOutcome issues or problem detail. */
export async function problem(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (body?.resourceType === "OperationOutcome" && Array.isArray(body.issue)) {
    const lines = body.issue
      .filter((issue) => issue.severity === "error" || issue.severity === "fatal")
      .map((issue) => {
        const expressions = issue.expression ?? [];
        let text = String(issue.diagnostics ?? issue.details?.text ?? issue.code);
        for (const expression of expressions) {
          if (text.startsWith(`${expression}: `)) text = text.slice(expression.length + 2);
        }
        text = text.replace(/^Value error, /, "");
        const where = [...new Set(expressions.map(plainPlace))].filter(
          (place) => place && !text.includes(place),
        );
        return where.length ? `${text} (${where.join(", ")})` : text;
      });
    if (lines.length) return lines.join("; ");
  }
  if (body && (body.detail || body.title)) {
    const details = (body.errors ?? []).map((e) => e.detail).filter(Boolean);
    return [body.detail ?? body.title, ...details.filter((d) => d !== body.detail)].join("; ");
  }
  if (response.status === 401) return "Your sign-in has ended: sign in again.";
  if (response.status === 403) return "Your sign-in does not allow this.";
  return `The service could not do this (HTTP ${response.status}). Try again.`;
}

/** Shows `message` as an NHS.UK error summary at the top of `container` (and focuses it). */
export function alertBox(container, message, title = "There is a problem") {
  clearAlert(container);
  const box = document.createElement("div");
  box.className = "nhsuk-error-summary signpost-alert";
  box.setAttribute("role", "alert");
  box.tabIndex = -1;
  const heading = document.createElement("h2");
  heading.className = "nhsuk-error-summary__title";
  heading.textContent = title;
  const body = document.createElement("div");
  body.className = "nhsuk-error-summary__body";
  const paragraph = document.createElement("p");
  paragraph.textContent = message;
  body.append(paragraph);
  box.append(heading, body);
  container.prepend(box);
  box.focus();
}

export function clearAlert(container) {
  container.querySelectorAll(":scope > .signpost-alert").forEach((box) => box.remove());
}
