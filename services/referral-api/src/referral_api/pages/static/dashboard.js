// The reports dashboard: the chosen report from GET /reports/{report} with the person's token,
// as a table (JSON), a chart (the API's SVG) and a CSV download. Every figure is the API's:
// nothing is computed or re-rounded here.
import { alertBox, api, clearAlert, problem } from "/pages/static/pages.js";

const main = document.getElementById("maincontent");
const reports = JSON.parse(main.dataset.reports);
const descriptions = JSON.parse(main.dataset.descriptions);
const form = document.getElementById("report-form");
const reportSelect = document.getElementById("report");
const output = document.getElementById("report-output");
const showButton = document.getElementById("show-report");
let chartUrl = null;
let shown = null;

function fitForm() {
  const spec = reports[reportSelect.value];
  document.getElementById("report-description").textContent = descriptions[reportSelect.value];
  for (const index of [1, 2]) {
    const select = document.getElementById(`group-by-${index}`);
    for (const option of select.options) {
      option.hidden = option.value !== "" && !spec.groupBy.includes(option.value);
      option.disabled = option.hidden;
    }
    if (select.selectedOptions[0]?.disabled) select.value = "";
    document.getElementById(`group-by-${index}-group`).hidden = index > spec.maxGroupBy;
  }
  document.querySelectorAll("[id^=filter-][id$=-group]").forEach((group) => {
    const name = group.id.slice("filter-".length, -"-group".length);
    group.hidden = !spec.filters.includes(name);
  });
  document.querySelectorAll(".signpost-report-options").forEach((box) => {
    box.hidden = box.dataset.report !== reportSelect.value;
  });
}

function valueOf(id) {
  const field = document.getElementById(id);
  return typeof field?.value === "string" ? field.value.trim() : "";
}

function query() {
  const name = reportSelect.value;
  const spec = reports[name];
  const params = new URLSearchParams();
  const groups = [1, 2]
    .filter((index) => index <= spec.maxGroupBy)
    .map((index) => document.getElementById(`group-by-${index}`).value)
    .filter(Boolean);
  if (groups.length) params.set("group_by", [...new Set(groups)].join(","));
  for (const id of ["from", "to"]) {
    const value = valueOf(id);
    if (value) params.set(id, value);
  }
  for (const option of spec.options) {
    const value = valueOf(`option-${name}-${option}`);
    if (value) params.set(option, value);
  }
  for (const filter of spec.filters) {
    const value = valueOf(`filter-${filter}`);
    if (value) for (const part of value.split(",")) params.append(filter, part.trim());
  }
  return { name, params };
}

function cell(value) {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.join(", ");
  return String(value);
}

function table(body) {
  const element = document.createElement("table");
  element.className = "nhsuk-table";
  const caption = document.createElement("caption");
  caption.className = "nhsuk-table__caption";
  caption.textContent = body.title;
  element.append(caption);
  const head = element.createTHead();
  head.className = "nhsuk-table__head";
  const headRow = head.insertRow();
  headRow.className = "nhsuk-table__row";
  for (const column of [{ label: "Row" }, ...body.columns]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.className = "nhsuk-table__header";
    th.textContent = column.label;
    headRow.append(th);
  }
  const rows = element.createTBody();
  rows.className = "nhsuk-table__body";
  for (const [kind, list] of [["row", body.rows ?? []], ["total", body.totals ?? []]]) {
    for (const row of list) {
      const tr = rows.insertRow();
      tr.className = "nhsuk-table__row";
      const th = document.createElement("th");
      th.scope = "row";
      th.className = "nhsuk-table__header";
      th.textContent = kind === "total" ? "Total" : "";
      tr.append(th);
      for (const column of body.columns) {
        const td = tr.insertCell();
        td.className = "nhsuk-table__cell";
        const suppressed = (row.suppressed ?? []).includes(column.name);
        td.textContent = suppressed ? "suppressed" : cell(row[column.name]);
      }
    }
  }
  return element;
}

async function show(event) {
  event.preventDefault();
  clearAlert(main);
  const { name, params } = query();
  showButton.disabled = true;
  try {
    const answer = await api(`/reports/${name}?${params}`, { headers: { Accept: "application/json" } });
    if (!answer.ok) {
      alertBox(main, await problem(answer));
      return;
    }
    const body = await answer.json();
    const chartParams = new URLSearchParams(params);
    chartParams.set("format", "svg");
    const chart = await api(`/reports/${name}?${chartParams}`, { headers: { Accept: "image/svg+xml" } });
    document.getElementById("report-title").textContent = body.title;
    document.getElementById("report-disclosure").textContent = body.disclosure?.controlled
      ? "Small numbers are suppressed and counts rounded (disclosure control)."
      : "True counts: no disclosure control.";
    const chartBox = document.getElementById("report-chart");
    chartBox.replaceChildren();
    if (chartUrl) URL.revokeObjectURL(chartUrl);
    chartUrl = null;
    if (chart.ok) {
      chartUrl = URL.createObjectURL(await chart.blob());
      const image = document.createElement("img");
      image.src = chartUrl;
      image.alt = `Chart of ${body.title}: the same figures are in the table below.`;
      chartBox.append(image);
    }
    document.getElementById("report-table").replaceChildren(table(body));
    output.dataset.query = `${name}?${params}`;
    shown = { name, params };
    output.hidden = false;
    document.getElementById("report-title").focus();
  } catch (error) {
    alertBox(main, `The report could not be fetched: ${error.message ?? error}. Try again.`);
  } finally {
    showButton.disabled = false;
  }
}

async function download() {
  if (!shown) return;
  const params = new URLSearchParams(shown.params);
  params.set("format", "csv");
  const answer = await api(`/reports/${shown.name}?${params}`, { headers: { Accept: "text/csv" } });
  if (!answer.ok) {
    alertBox(main, await problem(answer));
    return;
  }
  const url = URL.createObjectURL(await answer.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = `${shown.name}.csv`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

reportSelect.addEventListener("change", fitForm);
form.addEventListener("submit", show);
document.getElementById("download-csv").addEventListener("click", download);
fitForm();
