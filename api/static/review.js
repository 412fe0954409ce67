// The cleansing review page: the tenant's token lives in this tab's session storage and
// goes out as a bearer token (never in a URL); the charts are uPlot's, served by SMATI.
"use strict";

const COLOURS = {
  stored: "#1f4e79", defect: "#d62728", corrected: "#2e7d32", estimate: "#f28e2b",
  context: "#9aa5b1",
};
const AROUND = 36; // values shown on each side of the defect in focus
const $ = (id) => document.getElementById(id);

const state = {
  usages: [], treatments: [], review: null, focus: 0, charts: [], reviewsAsked: 0, listsAsked: 0,
  get token() { return sessionStorage.getItem("smati.token"); },
  get person() { return sessionStorage.getItem("smati.person"); },
};

class Refused extends Error {}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { Authorization: `Bearer ${state.token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (response.status === 401) throw new Refused("this token is refused: unknown or revoked");
  if (!response.ok) throw new Error(detailOf(answer, response));
  return answer;
}

function detailOf(answer, response) {
  const detail = answer.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map((d) => `${d.loc.at(-1)}: ${d.msg}`).join("; ");
  return `${response.status} ${response.statusText}`;
}

// ---- logging in and out

async function logIn(event) {
  event.preventDefault();
  sessionStorage.setItem("smati.token", $("token").value.trim());
  sessionStorage.setItem("smati.person", $("person").value.trim());
  $("token").value = "";
  await start();
}

function logOut(reason = "") {
  sessionStorage.removeItem("smati.token");
  state.charts.forEach((chart) => chart.destroy());
  state.charts = [];
  $("review").hidden = true;
  $("logout").hidden = true;
  $("who").textContent = "";
  $("login").hidden = false;
  $("login-error").textContent = reason;
}

async function start() {
  if (!state.token) return logOut();
  try {
    const [usages, treatments] = await Promise.all([api("GET", "/usages"), api("GET", "/treatments")]);
    state.usages = usages.usages;
    state.treatments = treatments.treatments;
  } catch (error) {
    return logOut(error.message);
  }
  $("login").hidden = true;
  $("review").hidden = false;
  $("logout").hidden = false;
  $("who").textContent = `as ${state.person}`;
  fillUsages();
  await chooseUsage();
}

// ---- choosing a usage, a treatment, its parameters

function option(value, label) {
  const element = document.createElement("option");
  element.value = value;
  element.textContent = label;
  return element;
}

function fillUsages() {
  const select = $("usage");
  select.replaceChildren();
  const groups = new Map();
  for (const usage of state.usages) {
    const name = usage.entity_name || usage.entity_id;
    if (!groups.has(name)) groups.set(name, Object.assign(document.createElement("optgroup"), { label: name }));
    const label = `${usage.equipment_name} · ${usage.name || usage.id} (${usage.type}, ${usage.unit})`;
    groups.get(name).append(option(usage.id, label));
  }
  select.append(...groups.values());
  const asked = new URLSearchParams(location.hash.slice(1));
  if (asked.get("usage")) {
    if (!state.usages.some((u) => u.id === asked.get("usage"))) select.append(option(asked.get("usage"), asked.get("usage")));
    select.value = asked.get("usage");
  }
}

function usage() {
  return state.usages.find((u) => u.id === $("usage").value);
}

async function chooseUsage() {
  const chosen = usage();
  const select = $("treatment");
  const before = new URLSearchParams(location.hash.slice(1)).get("treatment") || select.value;
  select.replaceChildren(...state.treatments
    .filter((t) => !chosen || t.usage_types.includes(chosen.type))
    .map((t) => option(t.name, t.name === "fill-gaps" ? "fill-gaps (gap filling)" : t.name)));
  if ([...select.options].some((o) => o.value === before)) select.value = before;
  chooseTreatment();
  await Promise.all([runReview(), listOperations()]);
}

function treatment() {
  return state.treatments.find((t) => t.name === $("treatment").value);
}

function chooseTreatment() {
  const chosen = treatment();
  $("summary").textContent = chosen ? chosen.summary : "";
  $("parameters").replaceChildren(...(chosen ? chosen.parameters : []).map((p) => {
    const label = document.createElement("label");
    label.title = p.description;
    const input = Object.assign(document.createElement("input"), {
      type: "number", step: p.kind === "integer" ? "1" : "any", name: p.name,
      value: p.default ?? "", placeholder: p.default === null ? "registered" : "",
    });
    label.append(`${p.name} `, input);
    return label;
  }));
  location.hash = new URLSearchParams({ usage: $("usage").value, treatment: $("treatment").value });
}

function request() {
  const parameters = {};
  for (const input of $("parameters").querySelectorAll("input")) {
    if (input.value !== "") parameters[input.name] = Number(input.value);
  }
  const asked = { treatment: $("treatment").value, parameters };
  const zone = usage() ? usage().timezone : "UTC";
  if ($("from").value) asked.from = midnight($("from").value, zone);
  if ($("to").value) asked.to = midnight($("to").value, zone);
  return asked;
}

/** The start of a day ("2026-04-18") in the building's zone, as a time with its offset. */
function midnight(day, zone) {
  // Zones change their offset at night, after midnight: 00:00 UTC has midnight's offset
  // east of Greenwich, and the evening before's (the same) west of it.
  const near = new Date(`${day}T00:00:00Z`);
  const name = new Intl.DateTimeFormat("en-GB", { timeZone: zone, timeZoneName: "longOffset" })
    .formatToParts(near).find((part) => part.type === "timeZoneName").value;
  const offset = name === "GMT" ? "+00:00" : name.slice(3);
  return `${day}T00:00:00${offset}`;
}

function usagePath(suffix) {
  return `/usages/${encodeURIComponent($("usage").value)}/${suffix}`;
}

// ---- the three rows

async function runReview() {
  $("error").textContent = "";
  $("done").textContent = "";
  $("status").textContent = "Reviewing…";
  $("apply").disabled = true;
  const asked = ++state.reviewsAsked;
  const body = request(), path = usagePath("operations");
  let review;
  try {
    review = await api("POST", usagePath("review"), body);
  } catch (error) {
    return asked === state.reviewsAsked ? failed(error, "rows") : undefined;
  }
  if (asked !== state.reviewsAsked) return; // another choice was made meanwhile
  state.review = review;
  state.reviewed = { path, body }; // what Apply stores: what is shown, nothing edited since
  state.focus = 0;
  showReview();
}

/** Say why in one line; a refused token logs out; `part` ("rows", "history") was not
 * obtained, so it is hidden rather than left showing another usage's. */
function failed(error, part = null) {
  if (error instanceof Refused) return logOut(error.message);
  if (part === "rows") state.review = null;
  if (part) $(part).hidden = true;
  $("status").textContent = "";
  $("error").textContent = error.message;
}

function showReview() {
  const review = state.review;
  const found = review.defects.length;
  const what = review.treatment === "fill-gaps" ? "estimate" : "defect";
  $("status").textContent = `${review.treatment} on ${review.usage_id}: ${plural(found, what)} `
    + `in ${review.stored.values.length} values (${review.unit}; times in ${review.timezone})`;
  $("defects-found").textContent = review.treatment === "fill-gaps" ? "Estimates" : "Defects found";
  $("defect-count").textContent = `(${found})`;
  $("rows").hidden = false;
  $("apply").disabled = found === 0;
  $("apply").textContent = found === 0
    ? "Nothing to apply"
    : `Apply ${review.treatment}: ${plural(found, "correction")}, as ${state.person}`;
  drawCharts(aligned(review));
  listDefects();
  focusDefect(0);
}

function seconds(iso) {
  return Date.parse(iso) / 1000;
}

/** The rows' series on one time axis: uPlot wants every series on the same x values. */
function aligned(review) {
  const x = [...new Set([...review.stored.times, ...review.corrected.times].map(seconds))].sort((a, b) => a - b);
  const at = new Map(x.map((t, i) => [t, i]));
  const empty = () => new Array(x.length).fill(null);
  const stored = empty(), corrected = empty(), defects = empty(), estimates = empty();
  review.stored.times.forEach((t, i) => { stored[at.get(seconds(t))] = review.stored.values[i]; });
  review.corrected.times.forEach((t, i) => {
    const n = at.get(seconds(t));
    corrected[n] = review.corrected.values[i];
    if (review.corrected.estimated[i]) estimates[n] = review.corrected.values[i];
  });
  for (const defect of review.defects) {
    if (defect.original !== null) defects[at.get(seconds(defect.ts))] = defect.original;
  }
  return { x, stored, corrected, defects, estimates, at };
}

function when(secondsSinceEpoch, zone = state.review.timezone) {
  return new Intl.DateTimeFormat("en-GB", {
    timeZone: zone, year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit",
  }).format(new Date(secondsSinceEpoch * 1000));
}

const DAY = 86400;

/** The time axis's labels in the building's zone, day first: "17 Apr", "17 Apr 01:00". */
function ticks(u, splits, axis, space, increment) {
  const parts = increment >= 28 * DAY ? { month: "short", year: "numeric" }
    : increment >= DAY ? { day: "numeric", month: "short" }
      : { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" };
  const format = new Intl.DateTimeFormat("en-GB", { timeZone: state.review.timezone, ...parts });
  return splits.map((v) => format.format(new Date(v * 1000)));
}

function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

function number(value) {
  return value === null || value === undefined ? "–" : value.toLocaleString("en-GB", { maximumFractionDigits: 4 });
}

function line(label, stroke, extra = {}) {
  return { label, stroke, width: 1.5, value: (u, v) => number(v), ...extra };
}

function dots(label, colour, size) {
  return {
    label, stroke: colour, paths: () => null, value: (u, v) => number(v),
    points: { show: true, size, stroke: colour, fill: colour },
  };
}

function chart(element, series, data) {
  const zone = state.review.timezone;
  const options = {
    width: Math.max(element.clientWidth, 320), height: element.dataset.height ? Number(element.dataset.height) : 190,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), zone),
    cursor: { sync: { key: "review", scales: ["x", null] } },
    scales: { x: { time: true } },
    axes: [{ values: ticks, space: 80 }, { label: state.review.unit, size: 70 }],
    series: [{ label: "time", value: (u, v) => (v === null ? "–" : when(v)) }, ...series],
  };
  const made = new uPlot(options, data, element);
  state.charts.push(made);
  return made;
}

function drawCharts(rows) {
  state.charts.forEach((c) => c.destroy());
  state.charts = [];
  state.rows = rows;
  const whole = chart($("chart-stored"), [
    line("as stored", COLOURS.stored), dots("defect", COLOURS.defect, 8),
  ], [rows.x, rows.stored, rows.defects]);
  state.zoom = chart($("chart-defects"), [
    line("as stored", COLOURS.context, { dash: [4, 4] }), line("corrected", COLOURS.corrected),
    dots("defect", COLOURS.defect, 9), dots("estimate", COLOURS.estimate, 7),
  ], [rows.x, rows.stored, rows.corrected, rows.defects, rows.estimates]);
  const after = chart($("chart-corrected"), [
    line("corrected", COLOURS.corrected, { spanGaps: true }), dots("estimate", COLOURS.estimate, 6),
  ], [rows.x, rows.corrected, rows.estimates]);
  zoomTogether(whole, after);
}

/** Zooming the whole signal as stored zooms the corrected one too, and back. */
function zoomTogether(...charts) {
  let busy = false;
  for (const one of charts) {
    one.hooks.setScale = [(u, key) => {
      if (key !== "x" || busy) return;
      busy = true;
      const { min, max } = u.scales.x;
      charts.filter((c) => c !== u).forEach((c) => c.setScale("x", { min, max }));
      busy = false;
    }];
  }
}

function listDefects() {
  const body = $("defects").querySelector("tbody");
  body.replaceChildren(...state.review.defects.map((defect, n) => {
    const row = document.createElement("tr");
    const corrected = defect.action === "exclude" ? "excluded"
      : `${number(defect.value)}${defect.action === "estimate" ? " (estimated)" : ""}`;
    for (const text of [when(seconds(defect.ts)), number(defect.original), corrected, defect.reason]) {
      row.append(Object.assign(document.createElement("td"), { textContent: text }));
    }
    row.tabIndex = 0;
    row.addEventListener("click", () => focusDefect(n));
    row.addEventListener("keydown", (event) => { if (event.key === "Enter") focusDefect(n); });
    return row;
  }));
}

/** Zoom the middle row around the `n`th defect. */
function focusDefect(n) {
  const defects = state.review.defects;
  const rows = [...$("defects").querySelectorAll("tbody tr")];
  $("previous").disabled = n <= 0;
  $("next").disabled = n >= defects.length - 1;
  if (defects.length === 0) {
    $("focus").textContent = "nothing found: the signal is unchanged";
    return;
  }
  state.focus = n;
  rows.forEach((row, i) => row.classList.toggle("focused", i === n));
  rows[n].scrollIntoView({ block: "nearest" });
  const defect = defects[n];
  const x = state.rows.x;
  const [first, last] = runAround(n);
  $("focus").textContent = `${n + 1} of ${defects.length}: ${when(seconds(defect.ts))} · ${defect.reason}`;
  state.zoom.setScale("x", { min: x[Math.max(0, first - AROUND)], max: x[Math.min(x.length - 1, last + AROUND)] });
}

/** The positions on the time axis of the run of back-to-back defects holding the `n`th
 * (a gap's estimates, say), so that the zoom shows the whole of it. */
function runAround(n) {
  const positions = state.review.defects.map((d) => state.rows.at.get(seconds(d.ts)));
  let first = n, last = n;
  while (first > 0 && positions[first - 1] === positions[first] - 1) first -= 1;
  while (last < positions.length - 1 && positions[last + 1] === positions[last] + 1) last += 1;
  return [positions[first], positions[last]];
}

// ---- applying, the operations, undoing

async function apply() {
  $("apply").disabled = true;
  try {
    const { path, body } = state.reviewed;
    const done = await api("POST", `${path}?by=${encodeURIComponent(state.person)}`, body);
    $("done").textContent = `Applied as operation ${done.id}: ${plural(done.corrections, "correction")} by ${done.applied_by}`;
  } catch (error) {
    return failed(error);
  }
  await refresh();
}

/** The review again on the data as now corrected, and the operations. */
async function refresh() {
  const done = $("done").textContent;
  await Promise.all([runReview(), listOperations()]);
  $("done").textContent = done;
}

async function listOperations() {
  const asked = ++state.listsAsked;
  let operations;
  try {
    operations = (await api("GET", usagePath("operations"))).operations;
  } catch (error) {
    return asked === state.listsAsked ? failed(error, "history") : undefined;
  }
  if (asked !== state.listsAsked) return;
  $("history").hidden = false;
  const latest = operations.find((o) => o.undone_at === null);
  const zone = usage() ? usage().timezone : "UTC";
  $("no-operations").hidden = operations.length > 0;
  $("operations").querySelector("tbody").replaceChildren(...operations.map((o) => {
    const row = document.createElement("tr");
    row.dataset.operation = o.id;
    const parameters = Object.entries(o.parameters).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`).join(" ");
    const status = o.undone_at === null ? "in force" : `undone by ${o.undone_by}, ${when(seconds(o.undone_at), zone)}`;
    for (const text of [when(seconds(o.applied_at), zone), o.applied_by, o.treatment, parameters, o.corrections, status]) {
      row.append(Object.assign(document.createElement("td"), { textContent: text }));
    }
    const cell = document.createElement("td");
    if (o.undone_at === null) {
      const button = Object.assign(document.createElement("button"), { type: "button", textContent: "Undo" });
      button.disabled = o !== latest;
      button.title = o === latest ? `undo ${o.id}` : "undo the later operations first";
      button.addEventListener("click", () => undo(o.id));
      cell.append(button);
    }
    row.append(cell);
    return row;
  }));
}

async function undo(id) {
  try {
    await api("POST", `/operations/${encodeURIComponent(id)}/undo?by=${encodeURIComponent(state.person)}`);
    $("done").textContent = `Operation ${id} undone: its corrections are no longer in force`;
  } catch (error) {
    return failed(error);
  }
  await refresh();
}

// ---- wiring

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", logIn);
  $("logout").addEventListener("click", () => logOut());
  $("usage").addEventListener("change", chooseUsage);
  $("treatment").addEventListener("change", () => { chooseTreatment(); runReview(); });
  $("choice").addEventListener("submit", (event) => { event.preventDefault(); runReview(); });
  $("choice").addEventListener("input", (event) => {
    if (event.target.tagName !== "INPUT") return;
    $("apply").disabled = true;
    $("apply").textContent = "Review the changed parameters first";
  });
  $("apply").addEventListener("click", apply);
  $("previous").addEventListener("click", () => focusDefect(state.focus - 1));
  $("next").addEventListener("click", () => focusDefect(state.focus + 1));
  $("person").value = state.person || "";
  window.addEventListener("resize", () => state.charts.forEach((chart) => chart.setSize({
    width: Math.max(chart.root.parentElement.clientWidth, 320), height: chart.height,
  })));
  start();
});
