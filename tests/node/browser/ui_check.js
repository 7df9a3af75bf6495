/*  ui_check.js - drives the gateway's built-in page in Debian's chromium
    (headless, through the DevTools protocol with puppeteer-core) for
    tests/e2e/test_ui, which starts the pipeline and prepares the data.

      node ui_check.js '{"base": "http://127.0.0.1:PORT", "key": "KEY",
                         "id": "ID", "dead": "ID2", "shots": "DIR",
                         "chromium": "/usr/bin/chromium"}'

    "dead" is an id whose job the test has dead-lettered (the upstream
    refusing it); the test lets the upstream answer again before the page
    redrives it. Then a new tab at 360 px checks the page's accessibility
    and layout (see accessible below). Prints one JSON object:
    {"checks": [[name, ok, detail], ...]} that the test turns into
    PASS/FAIL lines; screenshots of both
    views at 1280x800 and 390x844 go to DIR. Exits 0 unless it could not
    run at all. */
"use strict";

const puppeteer = require("puppeteer-core");
const path = require("path");

const opts = JSON.parse(process.argv[2]);
const checks = [];
const check = (name, ok, detail) => checks.push([name, !!ok, ok ? "" : String(detail)]);
const PAD = { l: 56, r: 12 };

async function apiGet(p) {
  const res = await fetch(opts.base + p, { headers: { "x-security-token": opts.key } });
  return { status: res.status, data: await res.json() };
}

//  Waits for fn (in the page) to be true, up to ms; false if it never was.
async function until(page, fn, ms, ...args) {
  try {
    await page.waitForFunction(fn, { timeout: ms, polling: 50 }, ...args);
    return true;
  } catch (e) {
    return false;
  }
}

//  Records what would be an error on a view: console errors, uncaught
//  exceptions, failed requests and answers of 400 or more.
//  refused: a status expected on this page (the wrong key's 401), whose
//  answer and console line are then not errors.
function watch(page, list, refused) {
  page.on("console", (m) => {
    if (m.type() === "error" &&
        !(refused && m.text().includes("status of " + refused)))
      list.push("console: " + m.text());
  });
  page.on("pageerror", (e) => list.push("exception: " + e.message));
  page.on("requestfailed", (r) => list.push("failed: " + r.url() + " " +
                                            (r.failure() || {}).errorText));
  page.on("response", (r) => {
    if (r.status() >= 400 && r.status() !== refused) list.push(r.status() + " " + r.url());
  });
}

const WAIT = 15000;             //  a wait's bound (an ASan gateway, 2 cores)

//  The drawn points of each part, the baseline line, the plotted measure.
const drawn = (page) => page.evaluate(() => {
  const svg = document.querySelector("#chart");
  const base = document.querySelector("#baseline");
  return {
    history: svg.querySelectorAll("circle.pt-history").length,
    forecast: svg.querySelectorAll("circle.pt-forecast").length,
    measure: svg.dataset.measure || "",
    baseline: base ? Number(base.dataset.time) : null,
    baselineX: base ? Number(base.getAttribute("x1")) : null,
    width: svg.viewBox.baseVal.width,
  };
});

//  The API's answer to the series request the page made last.
function counts(answer, measure) {
  const pts = answer.points.filter((p) => p.value !== null && p.measure === measure);
  return { history: pts.filter((p) => p.source === "history").length,
           forecast: pts.filter((p) => p.source === "forecast").length };
}

async function main() {
  const browser = await puppeteer.launch({
    executablePath: opts.chromium || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--no-first-run", "--disable-extensions"],
  });
  try {
    const errors = [];
    await wrongKey(browser, errors);
    await readKey(browser, errors);
    const page = await browser.newPage();
    watch(page, errors);
    await page.setViewport({ width: 1280, height: 800 });
    await seriesView(page);
    await pipelineView(page);
    await accessible(browser, errors);
    check("no console errors, failed requests or error answers on any page",
          errors.length === 0, errors.join("; "));
  } finally {
    await browser.close();
  }
}

//  Gives the key to the page's login form once it asks.
async function signIn(page, key) {
  await until(page, () => !document.querySelector("#login").hidden, WAIT);
  await page.type("#key", key);
  await page.click("#login-form button[type=submit]");
}

async function wrongKey(browser, errors) {
  const page = await browser.newPage();
  watch(page, errors, 401);
  await page.goto(opts.base + "/", { waitUntil: "load" });
  const asked = await until(page, () => !document.querySelector("#login").hidden, WAIT);
  check("the page asks for a key first", asked);
  await page.type("#key", "not-the-key");
  await page.click("#login-form button[type=submit]");
  const refused = await until(page, () =>
    /refused/.test(document.querySelector("#login-error").textContent), WAIT);
  check("a wrong key shows a clear message", refused,
        await page.$eval("#login-error", (e) => e.textContent));
  const kept = await page.evaluate(() => sessionStorage.getItem("tscache.key"));
  check("a refused key is not kept", kept === null, kept);
  await page.close();
}

async function readKey(browser, errors) {
  const page = await browser.newPage();
  watch(page, errors);
  await page.goto(opts.base + "/#/pipeline", { waitUntil: "load" });
  await signIn(page, opts.read_key);
  const shown = await until(page, () => !!document.querySelector("#counts").dataset.stats,
                            WAIT);
  const who = await page.$eval("#whoami", (e) => e.textContent);
  const writes = await page.$$eval("#pipeline [data-write]", (bs) =>
    bs.map((b) => b.disabled));
  check("a read key sees the pipeline with every button that changes things disabled",
        shown && /read/.test(who) && writes.length >= 4 && writes.every(Boolean),
        JSON.stringify([who, writes]));
  await page.goto(opts.base + "/#/series/" + opts.id, { waitUntil: "load" });
  const fetchOff = await until(page, () => document.querySelector("#fetch-now").disabled, WAIT);
  check("and fetch now disabled", fetchOff);
  await page.close();
}

async function seriesView(page) {
  const responses = [];
  page.on("response", async (r) => {
    if (r.url().includes("/v1/series/") && r.request().method() === "GET")
      responses.push({ url: r.url(), at: Date.now() });
  });
  await page.goto(opts.base + "/", { waitUntil: "load" });
  await signIn(page, opts.key);
  const stored = await page.evaluate(() => sessionStorage.getItem("tscache.key"));
  check("the key is kept in sessionStorage under tscache.key", stored === opts.key);
  const cookies = await page.cookies();
  check("and in no cookie", cookies.length === 0, JSON.stringify(cookies));

  //  The id field offers the registry's ids that start with what is typed.
  await until(page, () => !document.querySelector("#series").hidden, WAIT);
  await page.type("#series-id", opts.dead.slice(0, 4));
  const offered = await until(page, (want) => {
    const ids = [...document.querySelectorAll("#series-ids option")].map((o) => o.value);
    return ids.length > 0 && ids.includes(want) &&
      ids.every((id) => id.startsWith(want.slice(0, 4)));
  }, WAIT, opts.dead);
  check("typing in the id field offers the registered ids that start so", offered,
        await page.$$eval("#series-ids option", (os) => os.map((o) => o.value).join(",")));
  await page.$eval("#series-id", (e) => { e.value = ""; });

  //  The deep link: 30 hours back, 18 ahead.
  const now = Date.now();
  const from = now - 30 * 3600e3, to = now + 18 * 3600e3;
  await page.goto(opts.base + "/#/series/" + opts.id + "?from=" + Math.round(from) +
                  "&to=" + Math.round(to), { waitUntil: "load" });
  const plotted = await until(page, () =>
    Number(document.querySelector("#chart").dataset.history || 0) > 0, WAIT);
  check("the deep link opens the series view and plots the id", plotted);
  const last = responses[responses.length - 1];
  check("the page's query asks for a step sized to the plot (max_points)",
        last && /max_points=\d+/.test(last.url), last && last.url);
  for (const r of responses)
    check("no key in a URL", !r.url.includes(opts.key), r.url);
  const answer = (await apiGet(last.url.replace(opts.base, ""))).data;
  let d = await drawn(page);
  const want = counts(answer, d.measure);
  check("every history point of the API's answer is drawn",
        d.history === want.history && want.history > 0, JSON.stringify([d, want]));
  check("every forecast point of the API's answer is drawn",
        d.forecast === want.forecast && want.forecast > 0, JSON.stringify([d, want]));
  check("the baseline marker is at the API's baseline", d.baseline === answer.baseline,
        JSON.stringify([d.baseline, answer.baseline]));
  const q = new URL(last.url).searchParams;
  const f = Number(q.get("from")), t = Number(q.get("to"));
  const x = PAD.l + (answer.baseline - f) / (t - f) * (d.width - PAD.l - PAD.r);
  check("and drawn where that time falls on the axis", Math.abs(d.baselineX - x) < 0.5,
        JSON.stringify([d.baselineX, x]));
  const badge = await page.$eval("#fresh", (e) => e.textContent);
  check("a freshness badge says when it was fetched", /fetched/.test(badge), badge);

  //  Hover: the nearest point's time and value.
  const box = await (await page.$("#chart")).boundingBox();
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
  const tip = await page.$eval("#tip", (e) => e.hidden ? "" : e.textContent);
  check("hovering shows a point's time (UTC and local) and value",
        /UTC/.test(tip) && /history|forecast/.test(tip), tip);

  await page.screenshot({ path: path.join(opts.shots, "ui-series-1280x800.png") });
  await page.setViewport({ width: 390, height: 844 });
  const narrow = await until(page, () => {
    const svg = document.querySelector("#chart");
    return Math.abs(svg.viewBox.baseVal.width - svg.clientWidth) < 2 &&
      svg.querySelectorAll("circle").length > 0;
  }, WAIT);
  check("at 390 px wide the plot is drawn again at its new size", narrow);
  await page.screenshot({ path: path.join(opts.shots, "ui-series-390x844.png"), fullPage: true });
  await page.setViewport({ width: 1280, height: 800 });
  await until(page, () => {
    const svg = document.querySelector("#chart");
    return Math.abs(svg.viewBox.baseVal.width - svg.clientWidth) < 2;
  }, WAIT);

  //  Drag across the middle fifth: a narrower range, queried again.
  const before = responses.length;
  const zoomAnswer = page.waitForResponse((r) => r.url().includes("/v1/series/") &&
    Number(new URL(r.url()).searchParams.get("from")) > f, { timeout: WAIT }).catch(() => null);
  const b2 = await (await page.$("#chart")).boundingBox();
  await page.mouse.move(b2.x + b2.width * 0.4, b2.y + b2.height / 2);
  await page.mouse.down();
  await page.mouse.move(b2.x + b2.width * 0.5, b2.y + b2.height / 2, { steps: 5 });
  await page.mouse.move(b2.x + b2.width * 0.6, b2.y + b2.height / 2, { steps: 5 });
  await page.mouse.up();
  const zr = await zoomAnswer;
  const z = zr ? { url: zr.url() } : null;
  const zq = z ? new URL(z.url).searchParams : null;
  const zoomed = zq && await until(page, (from) =>
    document.querySelector("#chart").dataset.from === from, WAIT, zq.get("from"));
  check("dragging across the plot queries the narrower range again, with a step",
        zoomed && responses.length > before && zq.get("max_points") &&
        Number(zq.get("to")) - Number(zq.get("from")) < (t - f) / 2,
        z && z.url);
  const zAnswer = (await apiGet(z.url.replace(opts.base, ""))).data;
  d = await drawn(page);
  const zWant = counts(zAnswer, d.measure);
  check("the zoomed plot draws every point of its answer",
        d.history + d.forecast === zWant.history + zWant.forecast &&
        d.history + d.forecast > 0, JSON.stringify([d, zWant]));

  //  Fetch now: a priority hydrate, then the plot again.
  const fetchedBefore = (await apiGet("/v1/ids/" + opts.id)).data.fetched_at;
  const hydrate = page.waitForResponse((r) => r.url().endsWith("/v1/hydrate"),
                                       { timeout: WAIT }).catch(() => null);
  //  The job's states the page saw (GET /v1/jobs), until done.
  const states = [];
  const onJobs = async (r) => {
    if (new URL(r.url()).pathname !== "/v1/jobs") return;
    try { states.push(...JSON.parse(await r.text()).jobs); } catch (e) { /* gone */ }
  };
  page.on("response", onJobs);
  await page.click("#fetch-now");
  const h = await hydrate;
  const body = h ? JSON.parse(h.request().postData() || "{}") : {};
  check("fetch now asks for a priority fetch of the id",
        h && h.status() === 202 && body.priority === true &&
        JSON.stringify(body.ids) === JSON.stringify([opts.id]),
        h && [h.status(), h.request().postData()]);
  const job = h ? (await h.json()).jobs[0] : 0;
  const hydratedAt = Date.now();
  const redrawn = await until(page, () =>
    document.querySelector("#series-note").textContent.includes("points"), 30000);
  const after = responses.filter((r) => r.at >= hydratedAt);
  const last2 = after.length ? (await apiGet(after[after.length - 1].url
                                             .replace(opts.base, ""))).data : null;
  check("and the plot is drawn again from an answer of the new fetch",
        redrawn && last2 && Date.parse(last2.fetched_at) > Date.parse(fetchedBefore),
        JSON.stringify([fetchedBefore, last2 && last2.fetched_at]));
  page.off("response", onJobs);
  check("it followed the hydrate's job until done (GET /v1/jobs)",
        job > 0 && states.length > 0 && states.every((st) => st.job === job) &&
        states[states.length - 1].state === "done", JSON.stringify([job, states]));
}

async function pipelineView(page) {
  const answers = [];             //  every stats answer the page had
  const idCalls = { pages: 0, each: 0 };  //  GET /v1/ids?..., /v1/ids/{id}
  page.on("response", async (r) => {
    const u = new URL(r.url());
    if (r.request().method() === "GET" && u.pathname === "/v1/ids"
        && u.searchParams.get("fetch") === "true")
      idCalls.pages++;
    if (r.request().method() === "GET" && u.pathname.startsWith("/v1/ids/"))
      idCalls.each++;
    if (r.url().endsWith("/v1/stats") && r.status() === 200) {
      try { answers.push(await r.text()); } catch (e) { /* gone */ }
    }
  });
  page.on("dialog", (dialog) => dialog.accept());
  await page.goto(opts.base + "/#/pipeline", { waitUntil: "load" });
  const shown = await until(page, () => !!document.querySelector("#counts").dataset.stats,
                            WAIT);
  //  What the cards show, and the stats answer they were drawn from.
  const seen = await page.evaluate(() => ({
    cards: Object.fromEntries([...document.querySelectorAll("#counts .card")]
      .map((c) => [c.dataset.count, c.querySelector(".n").textContent])),
    stats: document.querySelector("#counts").dataset.stats,
    workers: document.querySelectorAll("#workers tbody tr").length,
  }));
  const stats = shown ? JSON.parse(seen.stats) : null;
  const keys = ["queued", "delayed", "leased", "dlq", "done", "failed", "retried"];
  check("the pipeline view shows the broker's counts",
        stats && answers.some((a) => JSON.stringify(JSON.parse(a)) === JSON.stringify(stats)) &&
        keys.every((k) => seen.cards[k] === String(stats[k])),
        JSON.stringify(seen));
  check("and its workers", stats && seen.workers === stats.workers.length,
        JSON.stringify([seen.workers, stats && stats.workers]));
  const row = await until(page, (id) => [...document.querySelectorAll("#dlq tbody tr")]
    .some((r) => r.textContent.includes(id)), WAIT, opts.dead);
  check("the dead-lettered job is in the DLQ table", row);
  const ids = await until(page, (id) => {
    const tr = document.querySelector('#ids tbody tr[data-id="' + id + '"]');
    return tr && / ago/.test(tr.children[2].textContent);
  }, WAIT, opts.id);
  check("the registered ids are listed with their freshness", ids);
  check("from one request a page (GET /v1/ids?fetch=true), none per id",
        idCalls.pages >= 1 && idCalls.each === 0, JSON.stringify(idCalls));
  await page.screenshot({ path: path.join(opts.shots, "ui-pipeline-1280x800.png") });
  await page.setViewport({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(opts.shots, "ui-pipeline-390x844.png"), fullPage: true });
  await page.setViewport({ width: 1280, height: 800 });

  //  Redrive the job from its row (the confirm is accepted above).
  const deadJob = await page.evaluate((id) => Number([...document.querySelectorAll("#dlq tbody tr")]
    .find((r) => r.textContent.includes(id)).dataset.job), opts.dead);
  const sent = page.waitForRequest((r) => r.url().endsWith("/v1/dlq/redrive"),
                                   { timeout: WAIT }).catch(() => null);
  await page.evaluate((id) => {
    const tr = [...document.querySelectorAll("#dlq tbody tr")].find((r) => r.textContent.includes(id));
    tr.querySelector("button").click();
  }, opts.dead);
  const req = await sent;
  check("a row's redrive names its job", req &&
        req.postData() === JSON.stringify({ jobs: [deadJob] }), req && req.postData());
  const gone = await until(page, (id) => ![...document.querySelectorAll("#dlq tbody tr")]
    .some((r) => r.textContent.includes(id)), WAIT, opts.dead);
  check("after redrive the job leaves the DLQ table", gone);
  let fetched = null;
  for (let i = 0; i < 100 && !fetched; i++) {
    const st = (await apiGet("/v1/ids/" + opts.dead)).data;
    fetched = st.fetched_at;
    if (!fetched) await new Promise((r) => setTimeout(r, 200));
  }
  check("and is processed: the id is fetched", !!fetched);
}

//  Plain and accessible: no layout shift while a view's data loads; at
//  360 px wide nothing makes the page scroll sideways (tables scroll in
//  their own box); every control has a name a screen reader says; Tab
//  reaches the controls in order with a visible focus ring; dark when
//  the system asks for it.
async function accessible(browser, errors) {
  const page = await browser.newPage();
  watch(page, errors);
  await page.setViewport({ width: 360, height: 740 });
  await page.evaluateOnNewDocument(() => {
    window.__shift = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries())
        if (!e.hadRecentInput) window.__shift += e.value;
    }).observe({ type: "layout-shift", buffered: true });
  });
  await page.goto(opts.base + "/", { waitUntil: "load" });
  await signIn(page, opts.key);
  await until(page, () => !document.querySelector("#series").hidden, WAIT);
  for (const view of ["series/" + opts.id, "pipeline"]) {
    const name = view.split("/")[0];
    await page.goto(opts.base + "/#/" + view, { waitUntil: "load" });
    const loaded = view === "pipeline"
      ? await until(page, () => !!document.querySelector("#counts").dataset.stats &&
          document.querySelectorAll("#ids tbody tr").length > 0, WAIT)
      : await until(page, () =>
          Number(document.querySelector("#chart").dataset.history || 0) > 0, WAIT);
    await new Promise((r) => setTimeout(r, 300));
    const shift = await page.evaluate(() => window.__shift);
    check("the " + name + " view loads its data without layout shift " +
          "(cumulative layout shift under 0.1)", loaded && shift < 0.1, shift);
    const wide = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth, view: window.innerWidth }));
    check("at 360 px wide the " + name + " view does not scroll sideways",
          wide.page <= wide.view, JSON.stringify(wide));
    const unnamed = [];
    const walk = (node) => {
      if (["button", "textbox", "combobox", "link", "checkbox", "searchbox",
           "spinbutton", "listbox"].includes(node.role) && !(node.name || "").trim())
        unnamed.push(node.role + " " + JSON.stringify(node.value || ""));
      (node.children || []).forEach(walk);
    };
    walk(await page.accessibility.snapshot({ interestingOnly: true }));
    check("every control of the " + name + " view has an accessible name",
          unnamed.length === 0, unnamed.join(", "));
  }
  //  From the top of the series view, Tab goes through the controls,
  //  each outlined while it has the focus.
  await page.goto(opts.base + "/#/series/" + opts.id, { waitUntil: "load" });
  await until(page, () =>
    Number(document.querySelector("#chart").dataset.history || 0) > 0, WAIT);
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  const reached = [];
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press("Tab");
    reached.push(await page.evaluate(() => {
      const e = document.activeElement;
      const css = getComputedStyle(e);
      return { id: e.id || e.tagName.toLowerCase() + ":" + (e.textContent || "").trim().slice(0, 20),
               body: e === document.body,
               ring: css.outlineStyle !== "none" && parseFloat(css.outlineWidth) > 0 };
    }));
  }
  const ids = reached.map((r) => r.id);
  const need = ["series-id", "series-measure", "fetch-now"];
  check("Tab reaches the series view's id, measure and fetch now, in that order",
        need.every((n) => ids.includes(n)) &&
        ids.indexOf("series-id") < ids.indexOf("series-measure") &&
        ids.indexOf("series-measure") < ids.indexOf("fetch-now"), ids.join(" "));
  //  (Past the last control the focus leaves the page: the body.)
  const noRing = reached.filter((r) => !r.body && !r.ring).map((r) => r.id);
  check("and every control it reaches shows a focus ring", noRing.length === 0,
        noRing.join(" "));
  //  Light, then dark by prefers-color-scheme.
  const background = () => page.evaluate(() => {
    const m = getComputedStyle(document.body).backgroundColor.match(/\d+(\.\d+)?/g).map(Number);
    return (0.2126 * m[0] + 0.7152 * m[1] + 0.0722 * m[2]) / 255;
  });
  await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "light" }]);
  const light = await background();
  await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "dark" }]);
  const dark = await background();
  check("light by default, dark when the system prefers it (page background luminance)",
        light > 0.7 && dark < 0.3, JSON.stringify([light, dark]));
  await page.close();
}

main().then(() => {
  process.stdout.write(JSON.stringify({ checks }) + "\n");
}).catch((e) => {
  checks.push(["the browser check ran to the end", false, e.stack || String(e)]);
  process.stdout.write(JSON.stringify({ checks }) + "\n");
});
