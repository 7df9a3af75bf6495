/*  tscache's built-in page (served by the gateway at /, docs/ui.md).

    Two views behind the hash: #/series/ID?from=&to=&measure= plots one
    series (history solid, forecast dashed, the baseline marked) from
    GET /v1/series with max_points sized to the plot's width, so a
    zoomed-out range comes as buckets; #/pipeline shows the broker's
    counts and workers (GET /v1/stats, polled), the dead-letter queue
    with redrive and purge, and the registered ids with their
    freshness. Every call carries the API key the page asked for once,
    kept in sessionStorage under tscache.key (never in a URL or a
    cookie). No library, no external URL: the page works offline. */
"use strict";

const KEY = "tscache.key";
const $ = (sel) => document.querySelector(sel);
const PAD = { l: 56, r: 12, t: 12, b: 28 };
const HOUR = 3600e3, DAY = 24 * HOUR;
//  The range a series opens with: a day either side of now.
const defaultFrom = () => Date.now() - DAY;
const defaultTo = () => Date.now() + DAY;
let W = 800, H = 360;           //  the plot's size in CSS pixels (viewBox)

//  Sizes the plot's viewBox to its box, so that text stays its size at
//  any width.
function sizePlot() {
  const svg = $("#chart");
  W = Math.max(200, Math.round(svg.clientWidth || 800));
  H = Math.max(160, Math.round(svg.clientHeight || 360));
  svg.setAttribute("viewBox", "0 0 " + W + " " + H);
}

const state = {
  pollGen: 0, idsGen: 0,        //  the pipeline poll, the ids load
  dlqText: "",                  //  the DLQ as last drawn
  readOnly: false,
  seq: 0,                       //  the newest series query
  timer: null,                  //  the pipeline view's poll
  series: null,                 //  the last answer drawn
  ids: [], idsNext: null,       //  registered ids shown, the next page
  sort: "id", sortUp: true,
};

//  -------------------------------------------------------------------
//  The API

class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail || code || ("HTTP " + status));
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  const key = sessionStorage.getItem(KEY);
  if (!key) {
    showLogin("");
    throw new ApiError(401, "unauthorized", "no key given");
  }
  //  no-cache: the browser revalidates (the gateway answers 304 when
  //  nothing changed) instead of drawing an answer it kept.
  const init = { method, cache: "no-cache", headers: { "x-security-token": key } };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  let data = null;
  const text = await res.text();
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (res.status === 401) {
    sessionStorage.removeItem(KEY);
    state.key = null;
    $("#whoami").textContent = "";
    showLogin("The gateway refused this key: check it and try again.");
    throw new ApiError(401, "unauthorized", "key refused");
  }
  if (res.status === 403) {
    setReadOnly(true);
    throw new ApiError(403, "forbidden",
                       "this key may only read: " + ((data && data.detail) || ""));
  }
  if (!res.ok && res.status !== 202)
    throw new ApiError(res.status, data && data.error, data && data.detail);
  return { status: res.status, data };
}

function setReadOnly(on) {
  state.readOnly = on;
  for (const b of document.querySelectorAll("[data-write], #fetch-now")) {
    b.disabled = on;
    b.title = on ? "this key may only read" : "";
  }
}

//  -------------------------------------------------------------------
//  Login

function showLogin(message) {
  stopPoll();
  for (const v of document.querySelectorAll(".view")) v.hidden = true;
  $("#login").hidden = false;
  $("#signout").hidden = true;
  $("#login-error").textContent = message || "";
  $("#key").focus();
}

//  The key's name and role (GET /v1/key): a read key sees the buttons
//  that change things disabled.
async function loadKey() {
  const { data } = await api("GET", "/v1/key");
  state.key = data;
  setReadOnly(data.role !== "admin");
  $("#whoami").textContent = "key " + data.name + " (" + data.role + ")";
}

$("#login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const key = $("#key").value.trim();
  if (!key) return;
  sessionStorage.setItem(KEY, key);
  $("#key").value = "";
  try {
    await loadKey();
    route();
  } catch (e) {
    if (e.status !== 401) $("#login-error").textContent = e.message;
  }
});

$("#signout").addEventListener("click", () => {
  sessionStorage.removeItem(KEY);
  state.key = null;
  $("#whoami").textContent = "";
  showLogin("");
});

//  -------------------------------------------------------------------
//  Times

const pad2 = (n) => String(n).padStart(2, "0");

function utcText(ms) {
  const d = new Date(ms);
  return d.getUTCFullYear() + "-" + pad2(d.getUTCMonth() + 1) + "-" +
    pad2(d.getUTCDate()) + " " + pad2(d.getUTCHours()) + ":" +
    pad2(d.getUTCMinutes()) + " UTC";
}

function localText(ms) {
  return new Date(ms).toLocaleString();
}

//  The value of a datetime-local input read as UTC, or NaN.
function inputMs(input) {
  return input.value ? Date.parse(input.value + ":00Z") : NaN;
}

function setInput(input, ms) {
  const d = new Date(ms);
  input.value = d.getUTCFullYear() + "-" + pad2(d.getUTCMonth() + 1) + "-" +
    pad2(d.getUTCDate()) + "T" + pad2(d.getUTCHours()) + ":" +
    pad2(d.getUTCMinutes());
}

function ago(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 90) return s + " s ago";
  if (s < 5400) return Math.round(s / 60) + " min ago";
  if (s < 129600) return Math.round(s / 3600) + " h ago";
  return Math.round(s / 86400) + " d ago";
}

//  -------------------------------------------------------------------
//  Router

function parseHash() {
  const h = location.hash.replace(/^#/, "") || "/series";
  const [path, query] = h.split("?");
  const parts = path.split("/").filter(Boolean);
  let id = "";
  try { id = parts[1] ? decodeURIComponent(parts[1]) : ""; } catch (e) { id = ""; }
  return { view: parts[0] || "series", id, params: new URLSearchParams(query || "") };
}

function route() {
  if (!sessionStorage.getItem(KEY)) return showLogin("");
  if (!state.key) {
    loadKey().then(route).catch((e) => {
      if (e.status !== 401)
        showLogin("The gateway did not answer as expected: " + e.message +
                  ". Reload the page to try again.");
    });
    return;
  }
  $("#login").hidden = true;
  $("#signout").hidden = false;
  const r = parseHash();
  const view = r.view === "pipeline" ? "pipeline" : "series";
  for (const v of document.querySelectorAll(".view")) v.hidden = v.id !== view;
  for (const [name, sel] of [["series", "#nav-series"], ["pipeline", "#nav-pipeline"]])
    if (name === view) $(sel).setAttribute("aria-current", "page");
    else $(sel).removeAttribute("aria-current");
  if (view === "series") {
    stopPoll();
    showSeries(r);
  } else {
    startPoll();
  }
}

window.addEventListener("hashchange", route);

//  -------------------------------------------------------------------
//  Series view

function seriesHash(id, from, to, measure) {
  const q = new URLSearchParams({ from: String(from), to: String(to) });
  if (measure) q.set("measure", measure);
  return "#/series/" + encodeURIComponent(id) + "?" + q.toString();
}

//  The registry's ids that start with prefix, at most 50, as the id
//  field's choices: a page of GET /v1/ids from just before the prefix
//  (ids sort bytewise; "z" is the largest character an id may hold).
const ID_CHARS = "-.0123456789:ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

function idsBefore(prefix) {
  if (!prefix) return "";
  const at = ID_CHARS.indexOf(prefix.slice(-1));
  if (at <= 0) return prefix.slice(0, -1);
  const head = prefix.slice(0, -1) + ID_CHARS[at - 1];
  return head + "z".repeat(Math.max(0, 128 - head.length));
}

async function loadIdChoices(prefix) {
  const q = new URLSearchParams({ limit: "50" });
  const after = idsBefore(prefix || "");
  if (after) q.set("after", after);
  try {
    const { data } = await api("GET", "/v1/ids?" + q);
    const ids = data.ids.filter((id) => id.startsWith(prefix || ""));
    $("#series-ids").replaceChildren(...ids.map((id) => {
      const o = document.createElement("option");
      o.value = id;
      return o;
    }));
    if (!prefix && ids.length) $("#series-id").placeholder = ids[0];
  } catch (e) { /* shown where it matters: the query */ }
}

let idsTimer = null;
$("#series-id").addEventListener("input", () => {
  clearTimeout(idsTimer);
  idsTimer = setTimeout(() => loadIdChoices($("#series-id").value.trim()), 200);
});

async function showSeries(r) {
  if (!$("#series-ids").childElementCount) loadIdChoices("");
  const from = Number(r.params.get("from")) || defaultFrom();
  const to = Number(r.params.get("to")) || defaultTo();
  setInput($("#series-from"), from);
  setInput($("#series-to"), to);
  if (!r.id) {
    drawEmpty("Pick an id to plot.");
    return;
  }
  $("#series-id").value = r.id;
  const measure = r.params.get("measure") || "";
  await querySeries(r.id, from, to, measure);
}

function plotWidthPx() {
  return Math.max(100, Math.round($("#chart").getBoundingClientRect().width ||
                                  W));
}

//  Queries the series and draws it. Only the newest query draws: an
//  answer that comes after a later query was sent is dropped. A 202 (the
//  id is being fetched, read-through) is asked again after its
//  retry_after_ms, a few times.
async function querySeries(id, from, to, measure, tries) {
  const seq = ++state.seq;
  if (!state.series || state.series.id !== id) fillMeasures(null, measure);
  state.series = { id, from, to, measure, data: null };
  $("#series-error").textContent = "";
  $("#series-note").textContent = "loading …";
  $("#fresh").textContent = "";
  const q = new URLSearchParams({ from: String(from), to: String(to),
                                  max_points: String(plotWidthPx()) });
  if (measure) q.set("measure", measure);
  try {
    const { status, data } = await api("GET", "/v1/series/" +
                                       encodeURIComponent(id) + "?" + q);
    if (seq !== state.seq) return;
    showFreshness(data);
    if (status === 202) {
      drawEmpty("No data yet.");
      const n = tries || 0;
      if (n >= 5) {
        $("#series-note").textContent = "not fetched yet: try Fetch now";
        return;
      }
      $("#series-note").textContent = "not fetched yet: being fetched …";
      const wait = Math.min(10000, Math.max(500, data.retry_after_ms || 1000));
      setTimeout(() => {
        if (seq === state.seq) querySeries(id, from, to, measure, n + 1);
      }, wait);
      return;
    }
    state.series.data = data;
    fillMeasures(data, measure);
    drawSeries(data, from, to, measure);
    const n = data.points.length;
    $("#series-note").textContent = n + " points" +
      (data.step_ms ? ", step " + stepText(data.step_ms) : "");
  } catch (e) {
    if (seq !== state.seq) return;
    $("#series-note").textContent = "";
    if (e.status !== 401) $("#series-error").textContent = e.message;
    drawEmpty(e.status === 404 ? "Unknown id." : "No answer.");
  }
}

function stepText(ms) {
  if (ms % 86400000 === 0) return ms / 86400000 + " d";
  if (ms % 3600000 === 0) return ms / 3600000 + " h";
  if (ms % 60000 === 0) return ms / 60000 + " min";
  return ms + " ms";
}

//  The measure choices of the id shown: "" (the first, by name) and
//  each measure its answers held. data null: a new id, none yet.
function fillMeasures(data, chosen) {
  const sel = $("#series-measure");
  if (!data) {
    sel.replaceChildren(sel.options[0]);
  } else {
    const have = [...sel.options].map((o) => o.value).filter(Boolean);
    for (const m of [...new Set(data.points.map((p) => p.measure))].sort())
      if (!have.includes(m)) {
        const o = document.createElement("option");
        o.value = m;
        o.textContent = m;
        sel.appendChild(o);
      }
  }
  if (chosen && ![...sel.options].some((o) => o.value === chosen)) {
    const o = document.createElement("option");
    o.value = o.textContent = chosen;
    sel.appendChild(o);
  }
  sel.value = chosen || "";
}

//  The answer's freshness (fetched_ms, stale, last_error {at_ms, kind,
//  detail}: the Series schema of docs/openapi.yaml).
function showFreshness(data) {
  const b = $("#fresh");
  b.className = "badge";
  const good = data.fetched_ms ? "fetched " + ago(data.fetched_ms)
                               : "never fetched";
  const err = data.last_error;
  if (err) {
    b.textContent = good + "; failed " + (err.at_ms ? ago(err.at_ms) : "") +
      ": " + (err.kind || "") + " " + (err.detail || "");
    b.classList.add("failing");
  } else {
    b.textContent = (data.stale || !data.fetched_ms ? "stale, " : "fresh, ") + good;
    b.classList.add(data.stale || !data.fetched_ms ? "stale" : "fresh");
  }
  b.title = data.fetched_at ? "fetched at " + data.fetched_at : "";
}

function svgEl(name, attrs, text) {
  const e = document.createElementNS("http://www.w3.org/2000/svg", name);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}

function drawEmpty(message) {
  sizePlot();
  state.plot = null;
  const svg = $("#chart");
  svg.replaceChildren(svgEl("text", { x: W / 2, y: H / 2, "text-anchor": "middle",
                                       class: "empty" }, message));
  svg.dataset.history = "0";
  svg.dataset.forecast = "0";
  delete svg.dataset.baseline;
}

//  Time ticks between from and to, about n of them, on round times.
function timeTicks(from, to, n) {
  const steps = [60e3, 300e3, 900e3, 1800e3, HOUR, 3 * HOUR, 6 * HOUR,
                 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 30 * DAY];
  const step = steps.find((s) => (to - from) / s <= n) || steps[steps.length - 1];
  const out = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) out.push(t);
  return out;
}

//  Nice ticks between lo and hi, about n of them.
function ticks(lo, hi, n) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push(v);
  return out;
}

function drawSeries(data, from, to, measure) {
  sizePlot();
  const svg = $("#chart");
  const pts = data.points.filter((p) => p.value !== null &&
                                        (!measure || p.measure === measure));
  if (!pts.length) return drawEmpty("No points in this range.");
  //  One measure at a time: the first by name unless one is chosen.
  const name = measure || [...new Set(pts.map((p) => p.measure))].sort()[0];
  const mine = pts.filter((p) => p.measure === name);
  let lo = Math.min(...mine.map((p) => p.value));
  let hi = Math.max(...mine.map((p) => p.value));
  if (lo === hi) { lo -= 1; hi += 1; }
  const span = hi - lo;
  lo -= span * 0.05; hi += span * 0.05;
  const x = (t) => PAD.l + (t - from) / (to - from) * (W - PAD.l - PAD.r);
  const y = (v) => H - PAD.b - (v - lo) / (hi - lo) * (H - PAD.t - PAD.b);
  const nodes = [];
  nodes.push(svgEl("line", { x1: PAD.l, y1: H - PAD.b, x2: W - PAD.r,
                             y2: H - PAD.b, class: "axis" }));
  for (const v of ticks(lo, hi, 5)) {
    nodes.push(svgEl("line", { x1: PAD.l, y1: y(v), x2: W - PAD.r, y2: y(v),
                               class: "axis", "stroke-opacity": "0.4" }));
    nodes.push(svgEl("text", { x: PAD.l - 6, y: y(v) + 4, "text-anchor": "end",
                               class: "grid-label" }, String(+v.toPrecision(6))));
  }
  for (const t of timeTicks(from, to, Math.max(2, Math.floor(W / 160)))) {
    nodes.push(svgEl("text", { x: x(t), y: H - 8, "text-anchor": "middle",
                               class: "grid-label" }, utcText(t).slice(5, 16)));
  }
  nodes.push(svgEl("text", { x: PAD.l + 6, y: PAD.t + 12, class: "grid-label",
                             id: "plot-measure" }, name));
  const parts = { history: [], forecast: [] };
  for (const p of mine) parts[p.source === "forecast" ? "forecast" : "history"].push(p);
  for (const part of ["history", "forecast"]) {
    const list = parts[part];
    if (!list.length) continue;
    nodes.push(svgEl("polyline", {
      class: part, "data-part": part,
      points: list.map((p) => x(p.time).toFixed(1) + "," + y(p.value).toFixed(1)).join(" "),
    }));
    const g = svgEl("g", { class: "points", "data-part": part });
    for (const p of list)
      g.appendChild(svgEl("circle", { cx: x(p.time).toFixed(1),
                                      cy: y(p.value).toFixed(1), r: 1.8,
                                      class: "pt-" + part,
                                      "data-time": p.time }));
    nodes.push(g);
  }
  if (data.baseline !== null && data.baseline !== undefined) {
    const bx = x(data.baseline);
    nodes.push(svgEl("line", { x1: bx, y1: PAD.t, x2: bx, y2: H - PAD.b,
                               class: "baseline", id: "baseline",
                               "data-time": data.baseline }));
    nodes.push(svgEl("text", { x: bx + 4, y: PAD.t + 24,
                               class: "baseline-label" }, "baseline"));
  }
  svg.replaceChildren(...nodes);
  svg.dataset.history = String(parts.history.length);
  svg.dataset.forecast = String(parts.forecast.length);
  svg.dataset.measure = name;
  svg.dataset.from = String(from);
  svg.dataset.to = String(to);
  if (data.baseline !== null && data.baseline !== undefined)
    svg.dataset.baseline = String(data.baseline);
  else
    delete svg.dataset.baseline;
  state.plot = { from, to, x, mine };
}

//  Hover: the nearest point's time (UTC and local) and value.
$("#chart").addEventListener("pointermove", (ev) => {
  if (drag) return dragMove(ev);
  const tip = $("#tip");
  if (!state.plot || !state.plot.mine.length) { tip.hidden = true; return; }
  const box = $("#chart").getBoundingClientRect();
  const vx = svgX(ev);
  let best = null, bestD = Infinity;
  for (const p of state.plot.mine) {
    const d = Math.abs(state.plot.x(p.time) - vx);
    if (d < bestD) { bestD = d; best = p; }
  }
  if (!best || bestD > 20) { tip.hidden = true; return; }
  tip.textContent = utcText(best.time) + " · " + localText(best.time) + " · " +
    best.measure + " " + best.value + " (" + best.source + ")";
  tip.hidden = false;
  const left = Math.min(ev.clientX - box.left + 12, box.width - tip.offsetWidth - 4);
  tip.style.left = Math.max(0, left) + "px";
  tip.style.top = (ev.clientY - box.top + 12) + "px";
});
$("#chart").addEventListener("pointerleave", () => { $("#tip").hidden = true; });

//  Drag to zoom: the range under the drag, queried again with a step
//  sized to the plot (max_points).
let drag = null;

//  The pointer's x in the plot's own units, whatever its size on screen.
function svgX(ev) {
  const svg = $("#chart");
  const pt = svg.createSVGPoint();
  pt.x = ev.clientX;
  pt.y = ev.clientY;
  return pt.matrixTransform(svg.getScreenCTM().inverse()).x;
}

$("#chart").addEventListener("pointerdown", (ev) => {
  if (!state.plot || ev.button !== 0) return;
  drag = { x0: svgX(ev), rect: svgEl("rect", { class: "zoom", y: PAD.t,
                                                height: H - PAD.t - PAD.b,
                                                x: svgX(ev), width: 0 }) };
  $("#chart").appendChild(drag.rect);
  $("#chart").setPointerCapture(ev.pointerId);
});

function dragMove(ev) {
  const x1 = svgX(ev);
  drag.rect.setAttribute("x", Math.min(drag.x0, x1));
  drag.rect.setAttribute("width", Math.abs(x1 - drag.x0));
}

function dragCancel() {
  if (drag) drag.rect.remove();
  drag = null;
}
$("#chart").addEventListener("pointercancel", dragCancel);
$("#chart").addEventListener("lostpointercapture", () => setTimeout(dragCancel, 0));

$("#chart").addEventListener("pointerup", (ev) => {
  if (!drag) return;
  const x0 = Math.min(drag.x0, svgX(ev)), x1 = Math.max(drag.x0, svgX(ev));
  drag.rect.remove();
  drag = null;
  if (x1 - x0 < 5) return;
  const { from, to } = state.plot;
  const t = (x) => Math.round(from + (x - PAD.l) / (W - PAD.l - PAD.r) * (to - from));
  const s = state.series;
  if (!s) return;
  location.hash = seriesHash(s.id, Math.max(from, t(x0)), Math.min(to, t(x1)),
                             s.measure);
});

$("#series-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const id = $("#series-id").value.trim();
  if (!id) return;
  const from = inputMs($("#series-from")), to = inputMs($("#series-to"));
  if (!(from < to)) {
    $("#series-error").textContent = "From must be before to.";
    return;
  }
  const hash = seriesHash(id, from, to, $("#series-measure").value);
  if (location.hash === hash) route(); else location.hash = hash;
});

$("#series-measure").addEventListener("change", () => {
  const s = state.series;
  if (s && s.id === $("#series-id").value.trim()) location.hash = seriesHash(s.id, s.from, s.to, $("#series-measure").value);
});

for (const b of document.querySelectorAll("[data-range]"))
  b.addEventListener("click", () => {
    const span = { "6h": 6 * HOUR, "24h": DAY, "7d": 7 * DAY }[b.dataset.range];
    const now = Date.now();
    const id = $("#series-id").value.trim();
    setInput($("#series-from"), now - span / 2);
    setInput($("#series-to"), now + span / 2);
    if (id) location.hash = seriesHash(id, Math.round(now - span / 2),
                                       Math.round(now + span / 2),
                                       $("#series-measure").value);
  });

//  Fetch now: a priority hydrate, then its job (GET /v1/jobs?jobs=N)
//  until it is done, shown as it goes (queued, waiting to retry, being
//  fetched), then the plot again. A job that dead-letters says why.
const pause = (ms) => new Promise((r) => setTimeout(r, ms));
const JOB_WORDS = { queued: "queued", delayed: "waiting to retry",
                    leased: "being fetched" };

$("#fetch-now").addEventListener("click", async () => {
  const r = parseHash();
  const s = state.series && state.series.id === $("#series-id").value.trim()
    ? state.series
    : { id: $("#series-id").value.trim(), from: inputMs($("#series-from")),
        to: inputMs($("#series-to")), measure: $("#series-measure").value };
  if (!s.id) return;
  const btn = $("#fetch-now");
  const note = $("#series-note");
  btn.disabled = true;
  try {
    note.textContent = "fetch queued …";
    const { data } = await api("POST", "/v1/hydrate", { ids: [s.id], priority: true });
    const job = (data.jobs || [])[0];
    const deadline = Date.now() + 60000;
    //  done, or unknown: no longer in the queue and not dead (docs/http-api.md).
    for (let st = {}; job && st.state !== "done" && st.state !== "unknown";) {
      if (Date.now() > deadline) throw new Error("no fetch ended within 60 s");
      await pause(300);
      st = ((await api("GET", "/v1/jobs?jobs=" + job)).data.jobs || [])[0] || {};
      if (st.state === "dead")
        throw new Error("the fetch failed for good (dead-lettered): " + st.error);
      note.textContent = "fetch " + (JOB_WORDS[st.state] || st.state) +
        (st.state === "delayed" && st.error ? " (" + st.error + ")" : "") + " …";
    }
    note.textContent = "fetched";
    await querySeries(s.id, s.from || Number(r.params.get("from")) || defaultFrom(),
                      s.to || Number(r.params.get("to")) || defaultTo(),
                      s.measure || "");
  } catch (e) {
    if (e.status !== 401) $("#series-error").textContent = e.message;
  } finally {
    btn.disabled = state.readOnly;
  }
});

//  -------------------------------------------------------------------
//  Pipeline view

//  The pipeline view's poll: one refresh after the other ends, 2 s
//  apart (a broker slow to answer never has two in flight); the ids'
//  statuses every fifth time.
function startPoll() {
  stopPoll();
  const gen = ++state.pollGen;
  let n = 0;
  const tick = async () => {
    await refreshPipeline(n++ % 5 === 0);
    if (gen === state.pollGen) state.timer = setTimeout(tick, 2000);
  };
  tick();
}

function stopPoll() {
  state.pollGen++;
  if (state.timer) clearTimeout(state.timer);
  state.timer = null;
}

//  An action's failure, kept until the next action (the poll does not
//  clear it).
function actionError(e) {
  if (e && e.status !== 401) $("#action-error").textContent = e.message;
}

function cell(tr, text) {
  const td = document.createElement("td");
  td.textContent = text;
  tr.appendChild(td);
  return td;
}

function button(text, onclick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.dataset.write = "";
  b.disabled = state.readOnly;
  b.addEventListener("click", onclick);
  return b;
}

//  The broker's figures (stats, DLQ: forwarded to the broker) and the
//  registry's ids (the gateway's store), each with its own error line.
async function refreshPipeline(ids) {
  try {
    const { data: s } = await api("GET", "/v1/stats");
    const age = s.oldest_age_ms ? ago(Date.now() - s.oldest_age_ms).replace(" ago", "") : "-";
    const values = { queued: s.queued, delayed: s.delayed, leased: s.leased,
                     dlq: s.dlq, oldest: age, done: s.done, failed: s.failed,
                     retried: s.retried };
    //  The cards are in the page from the start: only their numbers
    //  change, so nothing moves.
    for (const card of document.querySelectorAll("#counts .card"))
      card.querySelector(".n").textContent = String(values[card.dataset.count]);
    $("#counts").dataset.stats = JSON.stringify(s);
    $("#workers tbody").replaceChildren(...(s.workers || []).map((w) => {
      const tr = document.createElement("tr");
      cell(tr, w.name); cell(tr, String(w.credit)); cell(tr, String(w.leased));
      return tr;
    }));
    await refreshDlq();
    $("#pipeline-error").textContent = "";
  } catch (e) {
    if (e.status !== 401) $("#pipeline-error").textContent = "broker: " + e.message;
  }
  if (!ids) return;
  try {
    await loadIds(true);
    $("#ids-error").textContent = "";
  } catch (e) {
    if (e.status !== 401) $("#ids-error").textContent = e.message;
  }
}

async function refreshDlq() {
  const { data } = await api("GET", "/v1/dlq");
  //  Drawn again only when it changed: a focused button keeps its focus.
  const text = JSON.stringify(data.jobs);
  if (text === state.dlqText) return;
  state.dlqText = text;
  $("#dlq tbody").replaceChildren(...data.jobs.map((j) => {
    const tr = document.createElement("tr");
    tr.dataset.job = String(j.job);
    cell(tr, String(j.job));
    cell(tr, j.ids.join(", "));
    cell(tr, String(j.receives));
    cell(tr, utcText(j.dead_at));
    cell(tr, j.error);
    const td = cell(tr, "");
    td.appendChild(button("Redrive", () =>
      redrive({ jobs: [j.job] }, "job " + j.job + " (" + j.ids.join(", ") + ")")));
    return tr;
  }));
}

//  which: {ids: [...]}, {jobs: [...]} or {} (every entry).
async function redrive(which, what) {
  if (!confirm("Redrive " + what + "?")) return;
  $("#action-error").textContent = "";
  try {
    const { data } = await api("POST", "/v1/dlq/redrive", which);
    await refreshDlq();
    return data;
  } catch (e) {
    actionError(e);
  }
}

$("#dlq-redrive-all").addEventListener("click", () => redrive({}, "every dead-lettered job"));
$("#dlq-by-id").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const id = $("#dlq-id").value.trim();
  if (id) redrive({ ids: [id] }, "the dead-lettered jobs of " + id);
});
$("#dlq-purge").addEventListener("click", async () => {
  if (!confirm("Delete every dead-lettered job for good?")) return;
  $("#action-error").textContent = "";
  try {
    await api("DELETE", "/v1/dlq");
    await refreshDlq();
  } catch (e) {
    actionError(e);
  }
});

//  Registered ids, a page of 100 at a time, each with its fetch status
//  (fetch=true: one request for the page).
async function loadIds(first) {
  //  Only the newest load draws (two may overlap: the poll and Add).
  const gen = ++state.idsGen;
  const q = new URLSearchParams({ limit: "100", fetch: "true" });
  if (!first && state.idsNext) q.set("after", state.idsNext);
  const { data } = await api("GET", "/v1/ids?" + q);
  const rows = data.ids.map((id, i) => {
    const st = (data.fetches || [])[i] || {};
    return { id, source: (data.sources || [])[i] || "",
             fetched: st.fetched_at || "", stale: !!st.stale,
             error: st.last_error
               ? (st.last_error.kind || "") + " " + (st.last_error.detail || "") : "" };
  });
  if (gen !== state.idsGen) return;
  state.ids = (first ? [] : state.ids).concat(rows);
  state.idsNext = data.next;
  $("#ids-more").hidden = !data.next;
  drawIds();
}

function drawIds() {
  const f = $("#ids-filter").value.trim().toLowerCase();
  const k = state.sort, up = state.sortUp ? 1 : -1;
  const rows = state.ids.filter((r) => !f || r.id.toLowerCase().includes(f))
    .sort((a, b) => (a[k] < b[k] ? -1 : a[k] > b[k] ? 1 : 0) * up);
  for (const b of document.querySelectorAll("[data-sort]"))
    b.closest("th").setAttribute("aria-sort", b.dataset.sort !== k ? "none"
                                 : state.sortUp ? "ascending" : "descending");
  $("#ids tbody").replaceChildren(...rows.map((r) => {
    const tr = document.createElement("tr");
    tr.dataset.id = r.id;
    const a = document.createElement("a");
    a.href = seriesHash(r.id, defaultFrom(), defaultTo(), "");
    a.textContent = r.id;
    cell(tr, "").appendChild(a);
    cell(tr, r.source);
    cell(tr, (r.fetched ? ago(Date.parse(r.fetched)) : "never") +
         (r.stale ? " (stale)" : ""));
    cell(tr, r.error);
    cell(tr, "").appendChild(button("Remove", async () => {
      if (!confirm("Remove " + r.id + " from the registry, with its data?")) return;
      $("#action-error").textContent = "";
      try {
        await api("DELETE", "/v1/ids/" + encodeURIComponent(r.id));
        state.ids = state.ids.filter((x) => x.id !== r.id);
        drawIds();
      } catch (e) {
        actionError(e);
      }
    }));
    return tr;
  }));
}

$("#ids-filter").addEventListener("input", drawIds);
$("#ids-more").addEventListener("click", () => loadIds(false).catch(actionError));
for (const b of document.querySelectorAll("[data-sort]"))
  b.addEventListener("click", () => {
    state.sortUp = state.sort === b.dataset.sort ? !state.sortUp : true;
    state.sort = b.dataset.sort;
    drawIds();
  });
$("#ids-add").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const ids = $("#ids-new").value.split(/[\s,]+/).filter(Boolean);
  if (!ids.length) return;
  $("#action-error").textContent = "";
  try {
    await api("POST", "/v1/ids", { ids });
    $("#ids-new").value = "";
    await loadIds(true);
  } catch (e) {
    actionError(e);
  }
});


//  A new width draws the same answer again at the new size.
let resizeTimer = null;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    const s = state.series;
    if (s && s.data && !$("#series").hidden) drawSeries(s.data, s.from, s.to, s.measure);
  }, 150);
});

route();
