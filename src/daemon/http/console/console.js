// The shoots web console: a tree of buckets, dataframes and columns; an
// SQL editor whose result is a table, a line chart when it has a time
// column, and a download. Everything it asks for goes through the JSON API
// the README documents. Read-only.
"use strict";

const SHOWN_ROWS = 1000;   // rows drawn in the table; all are counted
const CHART_ROWS = 5000;   // rows the chart keeps
const CHART_SERIES = 6;
const COLORS = ["#2f6fdb", "#d9480f", "#2b8a3e", "#9c36b5", "#e67700", "#0b7285"];
const TOKEN_KEY = "shoots-token";

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("data-")) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) node.append(c instanceof Node ? c : String(c));
  return node;
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

class Unauthenticated extends Error {}

// A request to the daemon with the tab's token; a 401 asks for one.
async function call(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers["Authorization"] = "Bearer " + token;
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (response.ok) return response;
  let info = { type: "HTTP " + response.status, message: response.statusText };
  try { info = await response.json(); } catch (_) { /* not JSON */ }
  if (response.status === 401) {
    askForToken(token ? info.message : "");
    throw new Unauthenticated(info.message);
  }
  throw new Error(info.type + ": " + info.message);
}

async function json(path) {
  return (await call(path)).json();
}

function askForToken(message) {
  $("login").hidden = false;
  $("app").hidden = true;
  $("login-error").textContent = message || "";
  $("token").focus();
}

function showError(e) {
  if (e instanceof Unauthenticated) return;
  $("error").hidden = false;
  $("error").textContent = e.message;
}

function clearError() {
  $("error").hidden = true;
  $("error").textContent = "";
}

function size(bytes) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i++; }
  return (i === 0 ? bytes : bytes.toFixed(1)) + " " + units[i];
}

function quoteIdent(name) {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : '"' + name.replace(/"/g, '""') + '"';
}

function param(bucket) {
  return bucket === null ? "" : "bucket=" + encodeURIComponent(bucket);
}

// ---- the tree ----------------------------------------------------------

async function loadTree() {
  const list = $("buckets");
  list.replaceChildren();
  const buckets = await json("/api/buckets");
  if (buckets.length === 0) list.append(el("li", { class: "note" }, "no buckets yet"));
  for (const bucket of buckets) {
    const label = bucket.name === null ? "(default)" : bucket.name;
    const frames = el("ul", { class: "frames" });
    frames.hidden = true;
    const toggle = el("button", { type: "button", class: "bucket-name", "data-bucket": bucket.sql_name }, "▸ " + label);
    const item = el("li", { class: "bucket" }, toggle, frames);
    toggle.addEventListener("click", () => toggleBucket(bucket, toggle, frames, label).catch(showError));
    list.append(item);
  }
}

async function toggleBucket(bucket, toggle, frames, label) {
  if (!frames.hidden) {
    frames.hidden = true;
    toggle.textContent = "▸ " + label;
    return;
  }
  const query = param(bucket.name);
  const dataframes = await json("/api/dataframes" + (query ? "?" + query : ""));
  frames.replaceChildren();
  if (dataframes.length === 0) frames.append(el("li", { class: "note" }, "empty"));
  for (const frame of dataframes) frames.append(frameItem(bucket, frame));
  frames.hidden = false;
  toggle.textContent = "▾ " + label;
}

function frameItem(bucket, frame) {
  const columns = el("ul", { class: "columns" });
  columns.hidden = true;
  for (const c of frame.columns) {
    columns.append(el("li", { "data-column": c.name }, c.name, el("span", { class: "type" }, c.type)));
  }
  const meta = `${frame.rows.toLocaleString("en")} rows · ${size(frame.bytes)} · v${frame.version}`;
  const name = el("button", { type: "button", class: "frame-name", "data-frame": frame.name }, frame.name);
  const item = el("li", { class: "frame" }, name, el("span", { class: "meta" }, meta), columns);
  name.addEventListener("click", () => {
    for (const other of document.querySelectorAll("#tree .frame.selected")) other.classList.remove("selected");
    item.classList.add("selected");
    columns.hidden = !columns.hidden;
    const table = (bucket.name === null ? "" : quoteIdent(bucket.name) + ".") + quoteIdent(frame.name);
    const sql = $("sql");
    if (sql.value.trim() === "" || sql.dataset.suggested === sql.value) {
      sql.value = `select * from ${table} limit 100`;
      sql.dataset.suggested = sql.value;
    }
    showHistory(bucket, frame).catch(showError);
  });
  return item;
}

// As `shoots history` shows them: `+10`, `+2 ~5` (upserted), `-40` (deleted).
function changed(v) {
  const n = (x) => x.toLocaleString("en");
  if (v.rows_deleted > 0) return "-" + n(v.rows_deleted);
  return v.rows_updated > 0 ? `+${n(v.rows_added)} ~${n(v.rows_updated)}` : "+" + n(v.rows_added);
}

async function showHistory(bucket, frame) {
  const query = [param(bucket.name), "name=" + encodeURIComponent(frame.name)].filter(Boolean).join("&");
  const versions = await json("/api/history?" + query);
  const title = (bucket.name === null ? "" : bucket.name + "/") + frame.name;
  $("details-title").textContent = `History of ${title}`;
  const table = $("history");
  table.replaceChildren(el("tr", {}, ...["version", "time", "operation", "rows", "rows changed", "files"].map((h) => el("th", {}, h))));
  for (const v of versions.slice().reverse()) {
    table.append(el("tr", {},
      el("td", { class: "num" }, v.version),
      el("td", {}, new Date(v.timestamp_ms).toISOString()),
      el("td", {}, v.operation),
      el("td", { class: "num" }, v.rows.toLocaleString("en")),
      el("td", { class: "num" }, changed(v)),
      el("td", { class: "num" }, v.files)));
  }
  for (const select of [$("diff-from"), $("diff-to")]) {
    select.replaceChildren(...versions.slice().reverse().map((v) => el("option", { value: v.version }, "v" + v.version)));
  }
  $("diff-to").selectedIndex = 0;
  $("diff-from").selectedIndex = Math.min(1, versions.length - 1);
  $("diff-status").textContent = "";
  $("diff-status").removeAttribute("data-rows");
  $("diff-result").replaceChildren();
  lineChart($("diff-chart"), []);
  shown = { bucket, frame };
  $("details").hidden = false;
}

// ---- a diff of two versions --------------------------------------------

let shown = null;   // the dataframe whose history is shown

function sqlString(text) {
  return "'" + text.replace(/'/g, "''") + "'";
}

async function queryRows(sql, keep) {
  const response = await call("/api/query", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ sql, format: "ndjson" }),
  });
  const columns = JSON.parse(decodeURIComponent(response.headers.get("shoots-schema") || "[]"));
  return Object.assign({ columns }, await readRows(response, keep));
}

// The rows added, removed (and with keys changed) from one version to the
// other, and a chart of both versions when the dataframe has a time column.
async function runDiff() {
  clearError();
  const { bucket, frame } = shown;
  const status = $("diff-status");
  status.textContent = "comparing…";
  status.removeAttribute("data-rows");
  const [from, to] = [$("diff-from").value, $("diff-to").value];
  const keys = $("diff-keys").value.split(",").map((k) => k.trim()).filter(Boolean);
  const name = (bucket.name === null ? "" : bucket.name + ".") + frame.name;
  const args = [sqlString(name), from, to, ...keys.map(sqlString)].join(", ");
  try {
    const diff = await queryRows(`select * from diff(${args})`, SHOWN_ROWS);
    const counts = { added: 0, removed: 0, changed: 0 };
    for (const row of diff.rows) counts[row._change] += 1;
    const sums = diff.count > diff.rows.length
      ? await queryRows(`select _change, count(*) as n from diff(${args}) group by _change`, 10)
      : null;
    if (sums) for (const r of sums.rows) counts[r._change] = Number(r.n);
    const parts = [`+${counts.added} added`, `−${counts.removed} removed`];
    if (keys.length > 0) parts.push(`~${counts.changed} changed`);
    status.textContent = `v${from} → v${to}: ` + parts.join(" · ");
    for (const [k, v] of Object.entries(counts)) status.setAttribute("data-" + k, String(v));
    status.setAttribute("data-rows", String(diff.count));
    drawTable(diff.columns, diff.rows, diff.count, $("diff-result"), "diff-table");
    await chartVersions(bucket, frame, [from, to]);
  } catch (e) {
    status.textContent = "";
    showError(e);
  }
}

// The first numeric column of each version over the first time column.
async function chartVersions(bucket, frame, versions) {
  const time = frame.columns.find((c) => isTime(c.type));
  const value = frame.columns.find((c) => isNumber(c.type));
  if (!time || !value) return lineChart($("diff-chart"), []);
  const table = (bucket.name === null ? "" : quoteIdent(bucket.name) + ".") + quoteIdent(frame.name);
  const lines = [];
  for (const v of versions) {
    const sql = `select ${quoteIdent(time.name)}, ${quoteIdent(value.name)} from ${table} AT (VERSION => ${v}) ` +
      `order by ${quoteIdent(time.name)} limit ${CHART_ROWS}`;
    const { rows } = await queryRows(sql, CHART_ROWS);
    lines.push({ label: `v${v} ${value.name}`, points: points(rows, time.name, value.name) });
  }
  lineChart($("diff-chart"), lines);
}

// ---- queries -----------------------------------------------------------

function queryRequest(format) {
  return {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ sql: $("sql").value, format }),
  };
}

// Reads an NDJSON body as it arrives: keeps the first rows, counts all.
async function readRows(response, keep) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const rows = [];
  let count = 0;
  let pending = "";
  for (;;) {
    const { value, done } = await reader.read();
    pending += decoder.decode(value || new Uint8Array(), { stream: !done });
    const lines = pending.split("\n");
    pending = done ? "" : lines.pop();
    for (const line of lines) {
      if (line === "") continue;
      if (rows.length < keep) rows.push(JSON.parse(line));
      count++;
    }
    if (done) return { rows, count };
  }
}

const isTime = (type) => /^(Timestamp|Date)/.test(type);
const isNumber = (type) => /^(U?Int|Float|Decimal)/.test(type);

async function run() {
  clearError();
  const status = $("status");
  status.textContent = "running…";
  status.removeAttribute("data-rows");
  const started = performance.now();
  try {
    const response = await call("/api/query", queryRequest("ndjson"));
    const columns = JSON.parse(decodeURIComponent(response.headers.get("shoots-schema") || "[]"));
    const { rows, count } = await readRows(response, Math.max(SHOWN_ROWS, CHART_ROWS));
    const seconds = (performance.now() - started) / 1000;
    status.textContent = `${count.toLocaleString("en")} row${count === 1 ? "" : "s"} · ${seconds.toFixed(3)} s`;
    status.setAttribute("data-rows", String(count));
    drawTable(columns, rows.slice(0, SHOWN_ROWS), count);
    drawChart(columns, rows);
  } catch (e) {
    status.textContent = "";
    $("result").replaceChildren();
    $("chart").hidden = true;
    showError(e);
  }
}

function cell(value, type) {
  if (value === null || value === undefined) return el("td", { class: "null" }, "null");
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  return el("td", isNumber(type) ? { class: "num" } : {}, text);
}

function drawTable(columns, rows, count, target = $("result"), id = "result-table") {
  const table = el("table", { id });
  table.append(el("tr", {}, ...columns.map((c) => el("th", { title: c.type }, c.name))));
  for (const row of rows) table.append(el("tr", {}, ...columns.map((c) => cell(row[c.name], c.type))));
  const parts = [table];
  if (count > rows.length) parts.push(el("p", { class: "note" }, `showing the first ${rows.length} of ${count.toLocaleString("en")} rows`));
  target.replaceChildren(...parts);
}

// A line per numeric column over the first time column, when there are both.
function drawChart(columns, rows) {
  const time = columns.find((c) => isTime(c.type));
  const series = columns.filter((c) => isNumber(c.type)).slice(0, CHART_SERIES);
  const lines = time ? series.map((s) => ({ label: s.name, points: points(rows.slice(0, CHART_ROWS), time.name, s.name) })) : [];
  lineChart($("chart"), lines);
}

// [time, value] of each row where both are there, in time order.
function points(rows, time, column) {
  return rows
    .map((r) => [Date.parse(r[time]), Number(r[column])])
    .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
    .sort((a, b) => a[0] - b[0]);
}

// Lines of [time, value] points, one colour each; hidden with fewer than 2 points.
function lineChart(chart, lines) {
  const all = lines.flatMap((l) => l.points);
  if (lines.length === 0 || all.length < 2) {
    chart.hidden = true;
    chart.replaceChildren();
    return;
  }
  const [W, H, L, R, T, B] = [960, 280, 64, 16, 12, 40];
  const xs = all.map((p) => p[0]);
  const values = all.map((p) => p[1]);
  const [x0, x1raw] = [Math.min(...xs), Math.max(...xs)];
  const x1 = x1raw === x0 ? x0 + 1 : x1raw;
  let [y0, y1] = [Math.min(...values), Math.max(...values)];
  if (y0 === y1) { y0 -= 1; y1 += 1; }
  const sx = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const sy = (y) => T + (1 - (y - y0) / (y1 - y0)) * (H - T - B);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "chart of " + lines.map((l) => l.label).join(", ") });
  root.append(svg("line", { class: "axis", x1: L, y1: H - B, x2: W - R, y2: H - B }));
  root.append(svg("line", { class: "axis", x1: L, y1: T, x2: L, y2: H - B }));
  const label = (text, attrs, color) => {
    const t = svg("text", attrs);
    t.textContent = text;
    if (color) t.style.fill = color;
    root.append(t);
  };
  label(String(+y1.toPrecision(6)), { x: L - 6, y: T + 10, "text-anchor": "end" });
  label(String(+y0.toPrecision(6)), { x: L - 6, y: H - B, "text-anchor": "end" });
  label(new Date(x0).toISOString().replace(".000Z", "Z"), { x: L, y: H - B + 16 });
  label(new Date(x1).toISOString().replace(".000Z", "Z"), { x: W - R, y: H - B + 16, "text-anchor": "end" });
  lines.forEach((line, i) => {
    const path = line.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" ");
    root.append(svg("polyline", { points: path, fill: "none", stroke: COLORS[i % COLORS.length], "stroke-width": 1.5, "data-series": line.label }));
    label("— " + line.label, { x: L + 8 + i * 160, y: H - 6 }, COLORS[i % COLORS.length]);
  });
  chart.replaceChildren(root);
  chart.hidden = false;
}

async function download(format) {
  clearError();
  try {
    const response = await call("/api/query", queryRequest(format));
    const blob = await response.blob();
    const link = el("a", { href: URL.createObjectURL(blob), download: "result." + format });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  } catch (e) {
    showError(e);
  }
}

// ---- start -------------------------------------------------------------

async function start() {
  $("login").hidden = true;
  $("app").hidden = false;
  $("forget").hidden = !sessionStorage.getItem(TOKEN_KEY);
  try {
    const health = await json("/health");
    $("daemon").textContent = `${location.host} · version ${health.version}`;
    await loadTree();
  } catch (e) {
    showError(e);
  }
}

$("sql").addEventListener("keydown", (e) => {
  if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
    e.preventDefault();
    run();
  }
});
$("run").addEventListener("click", run);
$("diff-run").addEventListener("click", runDiff);
$("download-csv").addEventListener("click", () => download("csv"));
$("download-parquet").addEventListener("click", () => download("parquet"));
$("login-form").addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
  $("token").value = "";
  start();
});
$("forget").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  location.reload();
});
start();
