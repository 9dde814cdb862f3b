// Drives a Signpost page in headless Chromium as a person would, with axe-core checking each
// state of the page. Uses the npm packages installed for the renderer tests
// (tests/renderers/node_modules: playwright-core, axe-core).
//
//   node drive.mjs <screen|dashboard> <scenario.json>
//
// Every request that leaves 127.0.0.1 is blocked and reported. Prints one JSON object.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { keepOffline } from "../renderers/offline.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "renderers", "package.json"));
const { chromium } = require("playwright-core");
const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const [journey, scenarioPath] = process.argv.slice(2);
const scenario = JSON.parse(fs.readFileSync(scenarioPath, "utf8"));
const executablePath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
let current = null;
const result = { externalRequests: [], pageErrors: [], consoleErrors: [], axe: [], steps: {} };

async function axe(page, state) {
  // Evaluated through the DevTools protocol, so the page's CSP (scripts from itself) holds.
  await page.evaluate(axeSource);
  const found = await page.evaluate(() =>
    window.axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] }),
  );
  result.axe.push({
    state,
    passes: found.passes.length,
    violations: found.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      nodes: v.nodes.length,
      help: v.help,
      targets: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
    })),
  });
}

const text = (page, selector) => page.locator(selector).innerText();

// LHC-Forms may still be settling (enableWhen, a button re-rendered under the click) when its
// first item shows: an answer counts once the shown radio button is checked
// and the form's data holds it, so a click it missed, or one on a button re-rendered under it
// (detached), is made again. A form being torn down may still hold a button with the same id:
// only a visible one is clicked. If it never takes, the error lists the item's buttons.
//
// The radio buttons are ng-zorro's, which ignore a click on the answer they already hold. Under
// load the form's data can hold the answer while its button shows unchecked (the button's
// checked state changed under the binding that set it), and clicking it again does nothing: as
// a person would, the driver then chooses another answer and this one again, at every third
// try that finds it so.
async function answer(page, linkId, code) {
  const id = `${linkId}/1|http://loinc.org|${code}`;
  const radio = page.locator(`[id="${id}"]`).filter({ visible: true }).first();
  const other = page
    .locator(`[id^="${linkId}/1|"]:not([id="${id}"])`)
    .filter({ visible: true })
    .first();
  let failure = "not checked";
  let stuck = 0;
  const tries = [];
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      await radio.click({ force: true, timeout: 2000 });
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve())));
      const checked = await radio.isChecked({ timeout: 2000 });
      const held = await answered(page, linkId, code);
      if (checked && held) return;
      failure = `checked ${checked}, in the form's data ${held}`;
      tries.push(failure);
      if (held && !checked && ++stuck % 3 === 0) {
        tries.push("another answer chosen");
        await other.click({ force: true, timeout: 2000 });
        await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve())));
      }
    } catch (error) {
      failure = error.message.split("\n")[0];
      tries.push(failure);
    }
    await page.waitForTimeout(100);
  }
  const held = await page.evaluate(
    (prefix) =>
      [...document.querySelectorAll(`[id^="${prefix}"]`)].map((element) => ({
        id: `${element.tagName.toLowerCase()}#${element.id}`,
        shown: element.getClientRects().length > 0,
        checked: (element.control ?? element).checked,
        disabled: (element.control ?? element).disabled,
        viewChecked: element.classList.contains("ant-radio-wrapper-checked"),
        atCentre: (() => {
          const box = element.getBoundingClientRect();
          const hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
          return hit ? `${hit.tagName.toLowerCase()}#${hit.id}.${hit.className}` : null;
        })(),
      })),
    `${linkId}/1|`,
  );
  throw new Error(
    `${current}: item ${linkId} would not take the answer ${code} (${failure}; the item's buttons: ${JSON.stringify(held)}; tries: ${JSON.stringify(tries)})`,
  );
}

// Whether the form's QuestionnaireResponse (what a submission sends) answers `linkId` with `code`.
async function answered(page, linkId, code) {
  return page.evaluate(
    ([wanted, value]) => {
      const form = document.getElementById("form");
      const found = (items) =>
        (items ?? []).some(
          (item) =>
            (item.linkId === wanted && item.answer?.some((a) => a.valueCoding?.code === value)) ||
            found(item.item),
        );
      return found(LForms.Util.getFormFHIRData("QuestionnaireResponse", "R4", form).item);
    },
    [linkId, code],
  );
}

async function screen(page) {
  const base = scenario.base;
  await page.goto(`${base}/screen`);
  await page.waitForSelector("#sign-in:not([hidden])");
  await axe(page, "sign-in");
  // By keyboard: the first Tab reaches the skip link, which moves focus to the main content;
  // the next reaches the development sign-in, which Enter presses.
  await page.keyboard.press("Tab");
  result.steps.firstTab = await page.evaluate(() => document.activeElement.className);
  await page.keyboard.press("Enter");
  await page.keyboard.press("Tab");
  result.steps.secondTab = await page.evaluate(() => document.activeElement.id);
  await page.keyboard.press("Enter");
  await page.waitForSelector("#start-form", { state: "visible" });
  // Bad input first: no NHS number, then one the API refuses.
  await page.click("#start");
  await page.waitForSelector(".signpost-alert");
  result.steps.missingNumber = await text(page, ".signpost-alert");
  await axe(page, "start with an error");
  for (const person of scenario.people) {
    current = person.label;
    await page.check(`input[name=questionnaire][value="${person.questionnaire}"]`);
    await page.fill("#nhs-number", person.nhsNumber);
    await page.click("#start");
    await page.waitForFunction(() => window.LForms?.Util && !document.getElementById("screen").hidden);
    await page.waitForSelector('[id^="1/1|"]');
    const steps = {};
    result.steps[person.label] = steps; // so a failure shows this person's steps so far
    // What the form holds before any answer: a new screen starts empty.
    steps.answersAtStart = await page.evaluate(() =>
      (LForms.Util.getFormFHIRData("QuestionnaireResponse", "R4", document.getElementById("form")).item ?? [])
        .filter((item) => item.answer)
        .map((item) => [item.linkId, item.answer[0].valueCoding?.code ?? item.answer[0].valueString ?? null]),
    );
    for (const [linkId, code] of person.answers) await answer(page, linkId, code);
    if (person.draftAfter !== undefined) {
      await page.click("#save-draft");
      await page.waitForFunction(() =>
        document.getElementById("draft-status").textContent.includes("reference"),
      );
      steps.draft = await text(page, "#draft-status");
      const reference = steps.draft.match(/reference is ([^:]+):/)[1];
      // A reload: the sign-in holds for the tab, and the page offers the draft to resume.
      await page.reload();
      await page.waitForSelector("#draft-reference", { state: "visible" });
      steps.offered = await page.inputValue("#draft-reference");
      await page.fill("#draft-reference", reference);
      await page.click("#resume-form button");
      await page.waitForFunction(() => !document.getElementById("screen").hidden);
      await page.waitForSelector('[id^="1/1|"]');
      steps.resumed = await text(page, "#draft-status");
      steps.resumedAnswers = await page.evaluate(() =>
        LForms.Util.getFormFHIRData("QuestionnaireResponse", "R4", document.getElementById("form"))
          .item.filter((item) => item.answer?.[0]?.valueCoding)
          .map((item) => [item.linkId, item.answer[0].valueCoding.code]),
      );
      for (const [linkId, code] of person.draftAfter) await answer(page, linkId, code);
    }
    if (person.questionsScreenshot) {
      await page.screenshot({ path: person.questionsScreenshot, fullPage: true });
    }
    if (person.refusedFirst) {
      // The API's own message, in words; the answers stay as typed.
      const typed = await page.inputValue("#nhs-number");
      await page.fill("#nhs-number", person.refusedFirst);
      await page.click("#submit");
      await page.waitForSelector(".signpost-alert");
      steps.refused = await text(page, ".signpost-alert");
      steps.keptAfterRefusal = await page.evaluate(
        () => LForms.Util.getFormFHIRData("QuestionnaireResponse", "R4", document.getElementById("form")).item.length,
      );
      await page.fill("#nhs-number", typed);
    }
    await axe(page, `questions ${person.label}`);
    if (person.lostAnswer) {
      // The submission reaches the service but its answer is lost on the way back: the page
      // says so, and sending again returns the stored screen instead of storing another.
      await page.route("**/fhir/QuestionnaireResponse", async (route) => {
        await route.fetch();
        await route.abort("connectionreset");
      }, { times: 1 });
      await page.click("#submit");
      await page.waitForSelector(".signpost-alert");
      steps.lost = await text(page, ".signpost-alert");
    }
    // A double click sends one screen.
    await page.dblclick("#submit");
    await page.waitForSelector("#outcome", { state: "visible" });
    steps.flags = await text(page, "#outcome-flags");
    steps.screen = await text(page, "#outcome-screen");
    steps.help = await text(page, "#outcome-help");
    steps.reference = await text(page, "#outcome-reference");
    if (person.waitFor) {
      await page.waitForFunction(
        (state) => document.getElementById("referral-status").dataset.state === state,
        person.waitFor,
        { timeout: 30000 },
      );
    }
    steps.referral = await text(page, "#referral-status");
    await axe(page, `outcome ${person.label}`);
    if (person.screenshot) await page.screenshot({ path: person.screenshot, fullPage: true });
    await page.click("#new-screen");
  }
}

async function dashboard(page) {
  const base = scenario.base;
  await page.goto(`${base}/reports/dashboard`);
  await page.waitForSelector("#sign-in:not([hidden])");
  await page.click("#dev-sign-in");
  await page.waitForSelector("#report-form", { state: "visible" });
  await axe(page, "dashboard");
  await page.selectOption("#report", scenario.report);
  for (const [index, dimension] of scenario.groupBy.entries()) {
    await page.selectOption(`#group-by-${index + 1}`, dimension);
  }
  for (const [name, value] of Object.entries(scenario.filters ?? {})) {
    await page.click(".nhsuk-details__summary");
    const field = page.locator(`#filter-${name}`);
    if ((await field.evaluate((element) => element.tagName)) === "SELECT") {
      await field.selectOption(value);
    } else await field.fill(value);
  }
  if (scenario.from) await page.fill("#from", scenario.from);
  if (scenario.to) await page.fill("#to", scenario.to);
  await page.click("#show-report");
  await page.waitForSelector("#report-table table");
  await page.waitForSelector("#report-chart img");
  result.steps.caption = await text(page, "#report-table caption");
  result.steps.table = await page.evaluate(() =>
    [...document.querySelectorAll("#report-table tr")].map((row) =>
      [...row.querySelectorAll("th, td")].map((cell) => cell.textContent.trim()),
    ),
  );
  result.steps.request = await page.getAttribute("#report-output", "data-query");
  await axe(page, "report shown");
  if (scenario.screenshot) await page.screenshot({ path: scenario.screenshot, fullPage: true });
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-csv")]);
  result.steps.csvName = download.suggestedFilename();
  result.steps.csv = fs.readFileSync(await download.path(), "utf8");
  // A bad filter: the API's problem message, in words, and the form keeps what was typed.
  if (scenario.badFilter) {
    const [name, value] = scenario.badFilter;
    await page.fill(`#filter-${name}`, value);
    await page.click("#show-report");
    await page.waitForSelector(".signpost-alert");
    result.steps.refused = await text(page, ".signpost-alert");
    result.steps.kept = await page.inputValue(`#filter-${name}`);
  }
}

const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
let page;
try {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1100, height: 900 } });
  page = await context.newPage();
  // Generous: a busy CI machine has taken over 20 s to load and start LHC-Forms; a step that
  // never happens still fails, within the whole drive's limit (tests/pages/conftest.py).
  page.setDefaultTimeout(60000);
  await keepOffline(page, result);
  page.on("console", (message) => {
    if (message.type() === "error") result.consoleErrors.push(message.text());
  });
  if (journey === "screen") await screen(page);
  else await dashboard(page);
  result.storage = await page.evaluate(() => ({
    local: Object.keys(localStorage),
    session: Object.keys(sessionStorage),
    url: location.href,
  }));
} catch (error) {
  result.failure = String(error.stack ?? error);
  result.failedSteps = result.steps;
  result.alert = await page
    .evaluate(() => document.querySelector(".signpost-alert")?.innerText ?? null)
    .catch(() => null);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result));
