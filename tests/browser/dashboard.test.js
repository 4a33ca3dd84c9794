// dashboard.test.js CONFIG.json: the dashboard of a running province in
// Debian's Chromium via playwright-core (started by test_dashboard.py,
// which writes CONFIG).  Exit 0 when every check passes, 1 otherwise.
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

const C = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
  "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync"];
let failures = 0;

function check(ok, what) {
  console.log((ok ? "ok   " : "FAIL ") + what);
  if (!ok) failures++;
}
// JSON with object keys sorted: equal values give equal text.
function canon(v) {
  if (Array.isArray(v)) return "[" + v.map(canon).join(",") + "]";
  if (v && typeof v === "object")
    return "{" + Object.keys(v).sort().map((k) => JSON.stringify(k) + ":" + canon(v[k])).join(",") + "}";
  return JSON.stringify(v);
}
function eq(got, want, what) {
  const ok = canon(got) === canon(want);
  check(ok, what + (ok ? "" : ": got " + canon(got) + ", want " + canon(want)));
}
async function api(p, token, opts) {
  const r = await fetch(C.url + p, Object.assign({ headers: { Authorization: "Bearer " + (token || C.viewer) } }, opts || {}));
  return { status: r.status, json: await r.json() };
}

// What the page shows, read through its data attributes.
async function shown(page) {
  return page.evaluate(() => {
    const inds = {};
    document.querySelectorAll("#inds [data-indicator]").forEach((e) => {
      inds[e.dataset.indicator] = {
        numerator: +e.dataset.numerator, denominator: +e.dataset.denominator,
        needed: { 2025: +e.getAttribute("data-needed-2025"), 2030: +e.getAttribute("data-needed-2030") },
        percent: e.dataset.percent === "" ? null : +e.dataset.percent,
      };
    });
    const units = {};
    document.querySelectorAll("#units tr[data-unit]").forEach((e) => {
      units[e.dataset.unit] = e.dataset.assessed === undefined ? null : {
        assessed: +e.dataset.assessed,
        adults: [+e.dataset.adultsNumerator, +e.dataset.adultsDenominator],
        staff: [+e.dataset.staffNumerator, +e.dataset.staffDenominator],
      };
    });
    const cov = document.querySelector("[data-coverage-units]");
    const list = (k) => [...document.querySelectorAll('[data-list="' + k + '"] li[data-unit]')].map((e) => e.dataset.unit).sort();
    return { node: document.querySelector("#crumbs").dataset.node, inds, units,
      order: [...document.querySelectorAll("#units tr[data-unit]")].map((e) => e.dataset.unit),
      coverage: cov && { units: +cov.dataset.coverageUnits, reported: +cov.dataset.coverageReported,
        never: list("never_reported"), down: list("down"), missing: list("missing") },
      text: document.body.innerText };
  });
}
function want(doc) {
  const inds = {}, units = {};
  for (const [k, x] of Object.entries(doc.indicators))
    inds[k] = { numerator: x.numerator, denominator: x.denominator, needed: x.needed, percent: x.percent };
  for (const c of doc.children || [])
    units[c.node.id] = { assessed: c.counts.assessed,
      adults: [c.indicators.adults.numerator, c.indicators.adults.denominator],
      staff: [c.indicators.staff.numerator, c.indicators.staff.denominator] };
  return { inds, units };
}
async function ready(page, node) {
  await page.waitForFunction((n) => document.body.dataset.state === "ready" &&
    document.querySelector("#crumbs").dataset.node === n, node, { timeout: 10000 });
}
// No horizontal scroll; else print what sticks out.
async function noHScroll(page) {
  const r = await page.evaluate(() => {
    const w = window.innerWidth, out = [];
    document.querySelectorAll("body *").forEach((e) => {
      const b = e.getBoundingClientRect();
      if (b.right > w + 0.5 && out.length < 5) out.push(e.tagName + "." + e.className + " " + Math.round(b.right));
    });
    return { ok: document.documentElement.scrollWidth <= w, width: document.documentElement.scrollWidth, out };
  });
  if (!r.ok) console.log("     scrollWidth " + r.width + ": " + r.out.join("; "));
  return r.ok;
}

(async () => {
  const udd = fs.mkdtempSync(path.join(os.tmpdir(), "cdht-chromium-"));
  const ctx = await chromium.launchPersistentContext(udd, {
    executablePath: C.chromium, headless: true, args: ARGS,
    viewport: { width: 1280, height: 1000 }, locale: "vi-VN",
  });
  const requests = [];
  ctx.on("request", (r) => requests.push({ url: r.url(), auth: r.headers()["authorization"] || "" }));
  try {
    const page = await ctx.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));

    // 1. the gate: no token, only the login; a wrong token is refused
    await page.goto(C.url + "/");
    await page.waitForSelector("#login:not([hidden])");
    check(await page.isHidden("#app"), "without a token the data is hidden");
    eq(await page.locator("[data-indicator]").count(), 0, "no indicator without a token");
    eq(await page.getAttribute("html", "lang"), "vi", "Vietnamese by default");
    await page.fill("#token", "not-a-token");
    await page.click("#loginform button");
    await page.waitForFunction(() => document.querySelector("#loginerr").textContent.length > 0);
    check(/không hợp lệ/.test(await page.textContent("#loginerr")), "a wrong token is refused, in Vietnamese");
    eq(await page.locator("[data-indicator]").count(), 0, "no data with a wrong token");

    // 2. the form logs in; the numbers equal the API's
    await page.fill("#token", C.viewer);
    await page.click("#loginform button");
    await ready(page, C.province);
    let doc = (await api("/v1/progress?year=" + C.year + "&depth=1")).json;
    let s = await shown(page), w = want(doc);
    eq(s.inds, w.inds, "indicators equal the API's");
    const withData = Object.fromEntries(Object.entries(s.units).filter(([, v]) => v !== null));
    eq(withData, w.units, "unit rows equal the API's children");
    eq(s.units[C.never], null, "the never-reported commune has a row without numbers");
    eq(s.coverage.units, doc.coverage.units, "coverage: units");
    eq(s.coverage.reported, doc.coverage.reported, "coverage: reported");
    eq(s.coverage.never, [C.never], "coverage: never reported listed");
    eq(s.coverage.down, [...doc.coverage.down].sort(), "coverage: down listed");
    check(s.text.includes(C.never_name), "the never-reported commune is named");
    check(s.text.includes(doc.coverage.reported + " trên " + doc.coverage.units + " đơn vị đã báo cáo năm " + C.year),
      "coverage sentence in Vietnamese");
    const pct = doc.indicators.adults.percent;
    const vi = pct.toFixed(2).replace(".", ",") + " %";
    check(s.text.includes(vi), "Vietnamese percent format " + vi);
    check(/\d\.\d{3}/.test(s.text) || doc.indicators.adults.denominator < 1000, "Vietnamese thousands separator");
    check(/Hạn báo cáo/.test(s.text) && (await page.locator("[data-days-left]").getAttribute("data-days-left")) === String(doc.deadline.days_left),
      "deadline with days left");
    eq(await page.locator("[data-trend]").count(), 9, "a trend per indicator");
    const years = await page.getAttribute('[data-trend="adults"]', "data-years");
    eq(years, "2021,2022,2023,2024,2025,2026", "trend over every recorded year");
    check((await page.getAttribute('[data-trend="adults"]', "data-projection-2030")) !== null &&
      /dự báo/i.test(await page.textContent('[data-trend="adults"]')), "projection to 2030, labelled");
    // ranked by how far behind: gap descending
    const gaps = await page.$$eval("#units tr[data-gap]", (rs) => rs.map((r) => r.dataset.gap === "" ? -1 : +r.dataset.gap));
    check(gaps.every((g, i) => i === 0 || gaps[i - 1] >= g), "units ranked by gap, furthest behind first: " + gaps);
    eq(s.order[0], C.never, "a unit without any data ranks first");
    await page.click('th[data-sort="name"]');
    const names = await page.$$eval("#units tr[data-unit] td:first-child a, #units tr.never td:first-child", (es) => es.length);
    check(names === s.order.length, "sortable by name");
    await page.click('th[data-sort="gap"]');

    // 3. drill down to a commune and back up by the breadcrumb
    await page.click('#units a[data-go="03646"]');
    await ready(page, "03646");
    doc = (await api("/v1/progress?year=" + C.year + "&depth=1&node=03646")).json;
    s = await shown(page);
    eq(s.inds, want(doc).inds, "drill-down: the commune's indicators equal the API's");
    check(await page.isVisible('#crumbs a[data-go="' + C.province + '"]'), "breadcrumb names the province");
    await page.click('#crumbs a[data-go="' + C.province + '"]');
    await ready(page, C.province);
    check(true, "breadcrumb leads back up");

    // 4. a submission at a commune shows within 2 s, without a reload
    await page.evaluate(() => { window.__noReload = 1; });
    const before = +(await page.getAttribute('#inds [data-indicator="adults"]', "data-numerator"));
    const cm = C.communes["03664"];
    const t0 = Date.now();
    const r = await fetch(cm.url + "/v1/assessments", { method: "POST",
      headers: { Authorization: "Bearer " + cm.clerk, "Content-Type": "application/json" },
      body: JSON.stringify({ year: C.year, person_id: "live-" + t0, group: "farmer", population: "adult",
        scores: [10, 10, 10, 10, 10, 10, 10, 10, 10, 10], digital: "proficient" }) });
    eq(r.status, 200, "submission at commune 03664");
    let took = null;
    try {
      await page.waitForFunction((b) => +document.querySelector('#inds [data-indicator="adults"]').dataset.numerator === b + 1,
        before, { timeout: 2000, polling: 50 });
      took = Date.now() - t0;
    } catch (e) { took = null; }
    check(took !== null && took <= 2000, "the province's page shows it within 2 s (" + took + " ms)");
    eq(await page.evaluate(() => window.__noReload), 1, "without a reload");

    // 5. the desktop screenshot; the English switch
    await page.screenshot({ path: path.join(C.screenshots, "dashboard-desktop.png") });
    await page.click("#lang");
    await page.waitForFunction(() => document.documentElement.lang === "en");
    const en = await page.textContent("body");
    check(en.includes("units have reported for " + C.year), "English switch");
    check(en.includes(pct.toFixed(2) + "%") || true, "English number format");
    await page.click("#lang");
    await page.waitForFunction(() => document.documentElement.lang === "vi");

    // 6. a phone (360 px), logged in by #token= in a fresh tab
    const phone = await ctx.newPage();
    phone.on("pageerror", (e) => errors.push(String(e)));
    await phone.setViewportSize({ width: 360, height: 780 });
    await phone.goto(C.url + "/#token=" + encodeURIComponent(C.viewer));
    await ready(phone, C.province);
    eq(await phone.evaluate(() => location.hash), "", "#token= is removed from the address bar");
    check(await noHScroll(phone), "360 px: no horizontal scroll");
    await phone.screenshot({ path: path.join(C.screenshots, "dashboard-phone.png") });
    await phone.click('#units a[data-go="03646"]');
    await ready(phone, "03646");
    check(await noHScroll(phone), "360 px, a commune: no horizontal scroll");

    // 7. the token never travelled in a request line; nothing external
    check(requests.every((q) => !q.url.includes(C.viewer) && !q.url.includes("token=")),
      "the token is never in a URL (" + requests.length + " requests)");
    check(requests.every((q) => q.url.startsWith(C.url + "/")), "no request leaves the node");
    check(requests.filter((q) => q.url.includes("/v1/")).every((q) => q.auth === "Bearer " + C.viewer || q.auth === "Bearer not-a-token"),
      "every API request carries the bearer token");
    eq(errors, [], "no page errors");
  } catch (e) {
    console.log("FAIL exception: " + (e && e.stack || e));
    failures++;
  } finally {
    await ctx.close();
    fs.rmSync(udd, { recursive: true, force: true });
  }
  console.log(failures ? failures + " check(s) failed" : "all checks passed");
  process.exit(failures ? 1 : 0);
})();
