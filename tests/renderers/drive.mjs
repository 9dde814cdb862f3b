// Drives one screening questionnaire through a real form renderer in headless Chromium.
//
//   node drive.mjs <lforms|smartforms> <base url of this folder> <scenario.json>
//
// The scenario names the Questionnaire, the answers to click in order ([linkId, code]) and the
// linkId whose visibility to report after each click; optionally the Patient the form is
// launched with (LHC-Forms: the SDC launch context `patient`). Every request that leaves 127.0.0.1 is
// blocked and reported, so the test proves the renderer works offline. Prints one JSON object.
import fs from "node:fs";
import { chromium } from "playwright-core";
import { keepOffline } from "./offline.mjs";

const [renderer, baseUrl, scenarioPath] = process.argv.slice(2);
const scenario = JSON.parse(fs.readFileSync(scenarioPath, "utf8"));
const executablePath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

const RENDERERS = {
  lforms: {
    ready: () =>
      typeof window.renderQuestionnaire === "function" && window.LForms?.Util && window.LForms.FHIR,
    answer: (linkId, system, code) => `[id="${linkId}/1|${system}|${code}"]`,
    item: (linkId) => `[id^="${linkId}/1|"]`,
  },
  smartforms: {
    ready: () => typeof window.renderQuestionnaire === "function",
    answer: (linkId, _system, code) => `[data-linkid="${linkId}"] input[value="${code}"]`,
    item: (linkId) => `[data-linkid="${linkId}"]`,
  },
};
const dom = RENDERERS[renderer];

const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
const result = { externalRequests: [], pageErrors: [], visible: [] };
try {
  const page = await browser.newPage();
  // Generous: a busy CI machine has taken over 20 s to load and start a renderer; a step that
  // never happens still fails, within the caller's limit.
  page.setDefaultTimeout(60000);
  await keepOffline(page, result);
  await page.goto(`${baseUrl}/pages/${renderer}.html`);
  await page.waitForFunction(dom.ready);
  await page.evaluate(
    ([q, patient]) => window.renderQuestionnaire(q, patient),
    [scenario.questionnaire, scenario.patient ?? null],
  );
  await page.waitForSelector(dom.item(scenario.questionnaire.item[0].linkId));
  const visible = async () => (await page.locator(dom.item(scenario.probe)).count()) > 0;
  result.visibleBefore = await visible();
  for (const [linkId, system, code] of scenario.answers) {
    const answer = page.locator(dom.answer(linkId, system, code)).first();
    await answer.click({ force: true });
    // Renderers update enablement asynchronously; wait for the page to settle.
    await page.waitForTimeout(50);
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve())));
    result.visible.push(await visible());
  }
  result.response = await page.evaluate(() => window.exportResponse());
  if (renderer === "smartforms") {
    result.rawResponse = await page.evaluate(() => window.exportRawResponse());
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result));
