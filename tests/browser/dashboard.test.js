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

    // 8. the yearly cycle on the province's page: eligible against
    // recognised (the decision commune's eligible wait for a decision),
    // and every unit's filing state
    const D = C.decider, PC = C.province_counts, DC = D.counts;
    const tz = doc.timezone.utc_offset_minutes;
    const fmt = (iso) => { // the node's local time, as the page writes it
      const d = new Date(Date.parse(iso) + tz * 60000), p2 = (n) => String(n).padStart(2, "0");
      return p2(d.getUTCDate()) + "/" + p2(d.getUTCMonth() + 1) + "/" + d.getUTCFullYear() + " " + p2(d.getUTCHours()) + ":" + p2(d.getUTCMinutes());
    };
    const localDay = (ms) => Math.floor((ms + tz * 60000) / 86400000); // days since 1970 in the node's zone
    const dueDay = (y) => Date.UTC(y, +C.deadline.slice(0, 2) - 1, +C.deadline.slice(3)) / 86400000;
    // what must be late, from the clock: filed after the deadline, or not filed once it has passed
    const wantLate = (y, filed, ids) => ids.filter((id) => filed[id] ? localDay(Date.parse(filed[id])) > dueDay(y)
      : localDay(Date.now()) > dueDay(y)).sort();
    const rec = () => page.evaluate(() => {
      const e = document.querySelector("[data-recognition]"), g = {};
      document.querySelectorAll("#groups tr[data-group]").forEach((r) => {
        g[r.dataset.group] = { eligible: +r.dataset.eligible, recognized: +r.dataset.recognized };
      });
      return e && { mode: e.dataset.recognition, eligible: +e.dataset.eligible, recognized: +e.dataset.recognized,
        waiting: +e.dataset.waiting, groups: g };
    });
    const filing = (pg) => pg.evaluate(() => {
      const e = document.querySelector("[data-filed-count]"), rows = {};
      document.querySelectorAll("#filings tr[data-filing-unit]").forEach((r) => {
        rows[r.dataset.filingUnit] = { state: r.dataset.state, late: r.dataset.late === "1", reopened: +r.dataset.reopened,
          at: r.dataset.filedAt, by: r.dataset.by, text: r.innerText };
      });
      return e && { filed: +e.dataset.filedCount, units: +e.dataset.filingUnits, rows,
        daysLeft: +document.querySelector("[data-days-left]").dataset.daysLeft, text: document.body.innerText };
    });
    const units = [C.province, ...Object.keys(C.communes), C.never, D.id].sort();
    let want1 = PC.eligible + 1; // the live submission above: an eligible farmer
    await page.waitForFunction((w) => { const e = document.querySelector("[data-recognition]"); return e && +e.dataset.eligible === w; },
      want1, { timeout: 5000 });
    let rc = await rec();
    doc = (await api("/v1/progress?year=" + C.year + "&depth=1")).json;
    eq(doc.recognition, "score", "the province recognises by score");
    eq(rc.mode, "score", "page: recognition by score");
    eq([rc.eligible, rc.recognized], [doc.counts.eligible, doc.counts.recognized], "page: eligible and recognised equal the API's");
    eq([rc.eligible, rc.recognized, rc.waiting], [want1, want1 - DC.eligible, DC.eligible],
      "province: eligible " + want1 + " > recognised (the decision commune's " + DC.eligible + " wait)");
    const wantGroups = {};
    for (const g of Object.keys(PC.by_group))
      wantGroups[g] = { eligible: PC.by_group[g] + (g === "farmer" ? 1 : 0),
        recognized: PC.by_group[g] - DC.by_group[g] + (g === "farmer" ? 1 : 0) };
    eq(rc.groups, wantGroups, "eligible and recognised by group (independent count)");
    eq(Object.fromEntries(Object.entries(doc.counts.by_group).map(([g, x]) => [g, { eligible: x.eligible, recognized: x.recognized }])),
      rc.groups, "by group equals the API's");
    check((await page.textContent("#recog")).includes(DC.eligible + " người đủ điều kiện chưa được công nhận"),
      "the gap is named, in Vietnamese");

    let f = await filing(page);
    eq([f.filed, f.units, Object.keys(f.rows).sort()], [0, units.length, units], "nothing filed: every unit listed, 0 filed");
    check(f.text.includes("0 trên " + units.length + " đơn vị đã chốt số liệu năm " + C.year), "“0 trên " + units.length + " đơn vị đã chốt”");
    eq(f.daysLeft, dueDay(C.year) - localDay(Date.now()), "days left to the province's deadline (" + C.deadline + ")");
    eq(Object.entries(f.rows).filter(([, r]) => r.late).map(([id]) => id).sort(), wantLate(C.year, {}, units), "late before any filing");

    const call = async (url, method, token, body) => {
      const r = await fetch(url, { method, headers: Object.assign({ Authorization: "Bearer " + token },
        body ? { "Content-Type": "application/json" } : {}), body: body ? JSON.stringify(body) : undefined });
      let j = null; try { j = await r.json(); } catch (e) { j = null; }
      return { status: r.status, json: j };
    };
    const F = "03646", fu = C.communes[F].url;
    let r1 = await call(fu + "/v1/filings/" + C.year, "POST", C.admins[F]);
    eq([r1.status, r1.json && r1.json.filed, r1.json && r1.json.by], [201, true, C.admin_label], "commune " + F + " files " + C.year);
    const filedAt = r1.json && r1.json.filed_at;
    const waitRow = (pg, id, cond, what) => pg.waitForFunction(([i, c]) => {
      const r = document.querySelector('#filings tr[data-filing-unit="' + i + '"]');
      return r && Object.keys(c).every((k) => r.dataset[k] === String(c[k]));
    }, [id, cond], { timeout: 10000 }).then(() => check(true, what), () => check(false, what + " (within 10 s)"));
    await waitRow(page, F, { state: "filed" }, "the province's page shows " + F + " filed");
    f = await filing(page);
    let cov = (await api("/v1/progress?year=" + C.year + "&depth=1")).json.coverage;
    eq([f.rows[F].at, f.rows[F].by], [cov.filed[F], cov.filed_by[F]], "the row's time and filer are the API's");
    eq([f.rows[F].at, f.rows[F].by], [filedAt, C.admin_label],
      "filed: when, and by whom (the commune admin token's label, carried up in the report)");
    check(f.rows[F].text.includes(fmt(filedAt)) && f.rows[F].text.includes(C.admin_label) && f.rows[F].text.includes("Đã chốt"),
      "the row shows “Đã chốt”, " + fmt(filedAt) + " and the filer");
    eq(f.filed, 1, "1 unit filed");
    check(f.text.includes("1 trên " + units.length + " đơn vị đã chốt số liệu năm " + C.year), "“1 trên " + units.length + " đơn vị đã chốt”");
    eq(Object.entries(f.rows).filter(([, r]) => r.state === "not_filed").map(([id]) => id).sort(), units.filter((u) => u !== F), "the others: not filed");
    eq(Object.entries(f.rows).filter(([, r]) => r.late).map(([id]) => id).sort(), wantLate(C.year, { [F]: filedAt }, units), "late, from the clock");
    doc = (await api("/v1/progress?year=" + C.year + "&depth=1")).json;
    eq(Object.keys(doc.coverage.filed || {}), [F], "the API agrees: coverage.filed");
    eq([...(doc.coverage.late || [])].sort(), wantLate(C.year, { [F]: filedAt }, units), "the API agrees: coverage.late");

    // reopened (admin, at the commune): not filed, marked reopened; filed again
    r1 = await call(fu + "/v1/filings/" + C.year, "DELETE", C.admins[F]);
    eq([r1.status, r1.json && r1.json.filed, r1.json && r1.json.reopened], [200, false, 1], "commune " + F + " reopens " + C.year);
    await waitRow(page, F, { state: "not_filed", reopened: 1 }, "the province's page shows " + F + " reopened, not filed");
    check((await filing(page)).rows[F].text.includes("Mở lại 1 lần"), "“Mở lại 1 lần”");
    r1 = await call(fu + "/v1/filings/" + C.year, "POST", C.admins[F]);
    eq(r1.status, 201, "filed again");
    await waitRow(page, F, { state: "filed", reopened: 1 }, "filed again, still marked reopened once");
    await page.locator("#filing").screenshot({ path: path.join(C.screenshots, "dashboard-filing.png") });

    // 2025: its deadline has passed; a commune files it now, late
    const L5 = "03664";
    r1 = await call(C.communes[L5].url + "/v1/filings/2025", "POST", C.admins[L5]);
    eq(r1.status, 201, "commune " + L5 + " files 2025");
    await page.selectOption("#year", "2025");
    await waitRow(page, L5, { state: "filed" }, "2025 on the province's page: " + L5 + " filed");
    f = await filing(page);
    eq(Object.entries(f.rows).filter(([, r]) => r.late).map(([id]) => id).sort(), wantLate(2025, { [L5]: r1.json.filed_at }, units),
      "2025: late, from the clock (every unit: filed after the deadline or not filed)");
    check(f.rows[L5].text.includes("Trễ hạn") && f.text.includes("1 trên " + units.length + " đơn vị đã chốt số liệu năm 2025") &&
      /đã quá hạn \d+ ngày/.test(f.text), "2025: filed late, “Trễ hạn”, the deadline passed");
    await page.selectOption("#year", String(C.year));
    await waitRow(page, F, { state: "filed" }, "back to " + C.year);

    // English; tables with headers; contrast; print
    await page.click("#lang");
    await page.waitForFunction(() => document.documentElement.lang === "en");
    f = await filing(page);
    check(f.text.includes("1 of " + units.length + " units have filed " + C.year) && f.rows[F].text.includes("Filed") &&
      f.rows[F].text.includes("Reopened 1 time") && f.text.includes(DC.eligible + " eligible people are not yet recognised"),
      "English: filing and recognition");
    await page.click("#lang");
    await page.waitForFunction(() => document.documentElement.lang === "vi");
    const a11y = await page.evaluate(() => {
      const lum = (c) => {
        const m = c.match(/[\d.]+/g).map(Number);
        const ch = m.slice(0, 3).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
        return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2];
      };
      const bg = (e) => { // the first opaque background up the tree
        for (; e; e = e.parentElement) {
          const c = getComputedStyle(e).backgroundColor;
          if (c && !/rgba\(.*,\s*0\)$/.test(c) && c !== "transparent") return c;
        }
        return "rgb(255, 255, 255)";
      };
      const low = [];
      document.querySelectorAll("#recog *, #filing *, #units td, #coverage li").forEach((e) => {
        if (!e.childNodes.length || ![...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) return;
        const a = lum(getComputedStyle(e).color), b = lum(bg(e));
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        if (ratio < 4.5 && low.length < 5) low.push(e.tagName + "." + e.className + " " + ratio.toFixed(2));
      });
      const heads = ["#filings", "#groups", "#units"].map((t) =>
        [...document.querySelectorAll(t + " thead th")].every((h) => h.getAttribute("scope") === "col") &&
        document.querySelectorAll(t + " thead th").length > 0);
      return { low, heads, rowheads: document.querySelectorAll('#filings tbody th[scope="row"], #groups tbody th[scope="row"]').length };
    });
    eq(a11y.low, [], "text contrast at least 4.5:1 (WCAG AA)");
    eq(a11y.heads, [true, true, true], "tables have column headers");
    eq(a11y.rowheads, units.length + 5, "filing and group rows have row headers");
    await page.emulateMedia({ media: "print" });
    check(await page.isHidden("#print") && await page.isHidden("#lang") && await page.isVisible("#filings") &&
      await page.isVisible("#groups"), "print: the buttons hidden, the tables printed");
    const pdf = path.join(C.screenshots, "dashboard-print.pdf");
    await page.pdf({ path: pdf, format: "A4", printBackground: false });
    check(fs.statSync(pdf).size > 1000, "printed to " + pdf);
    await page.emulateMedia({ media: "screen" });

    // 9. the commune that recognises by decision, on its own page (its own
    // daemon): eligible wait for a decision; a recorded decision shows
    const udd2 = fs.mkdtempSync(path.join(os.tmpdir(), "cdht-chromium-"));
    const ctx2 = await chromium.launchPersistentContext(udd2, {
      executablePath: C.chromium, headless: true, args: ARGS,
      viewport: { width: 1280, height: 1000 }, locale: "vi-VN",
    });
    const requests2 = [];
    ctx2.on("request", (r) => requests2.push({ url: r.url(), auth: r.headers()["authorization"] || "" }));
    try {
      const dp = await ctx2.newPage();
      dp.on("pageerror", (e) => errors.push(String(e)));
      await dp.goto(D.url + "/#token=" + encodeURIComponent(D.viewer));
      await ready(dp, D.id);
      const drec = () => dp.evaluate(() => {
        const e = document.querySelector("[data-recognition]"), g = {};
        document.querySelectorAll("#groups tr[data-group]").forEach((r) => { g[r.dataset.group] = [+r.dataset.eligible, +r.dataset.recognized]; });
        return { mode: e.dataset.recognition, eligible: +e.dataset.eligible, recognized: +e.dataset.recognized, waiting: +e.dataset.waiting,
          groups: g, text: document.querySelector("#recog").innerText };
      });
      let dr = await drec();
      eq([dr.mode, dr.eligible, dr.recognized, dr.waiting], ["decision", DC.eligible, 0, DC.eligible],
        "decision mode: " + DC.eligible + " eligible, none recognised, all waiting");
      eq(dr.groups, Object.fromEntries(Object.entries(DC.by_group).map(([g, n]) => [g, [n, 0]])), "decision mode: by group");
      check(dr.text.includes(DC.eligible + " người đủ điều kiện đang chờ quyết định công nhận"), "“… đang chờ quyết định công nhận”");
      const dd = (await call(D.url + "/v1/progress?year=" + C.year + "&depth=0", "GET", D.viewer)).json;
      eq([dd.recognition, dd.counts.eligible, dd.counts.recognized], ["decision", dr.eligible, dr.recognized], "decision mode: the API agrees");
      const pick = D.eligible.slice(0, 3);
      const r2 = await call(D.url + "/v1/decisions", "POST", D.clerk, { year: C.year, number: "45/QĐ-UBND", date: C.year + "-11-20",
        authority: "UBND " + D.name, title: "citizen", person_ids: pick.map((x) => x[0]) });
      eq([r2.status, r2.json && r2.json.count], [201, 3], "a decision recognises 3 of them");
      await dp.waitForFunction(() => +document.querySelector("[data-recognition]").dataset.recognized === 3, null, { timeout: 5000 })
        .then(() => check(true, "the commune's page shows them recognised"), () => check(false, "the commune's page shows them recognised (5 s)"));
      dr = await drec();
      const wg = Object.fromEntries(Object.entries(DC.by_group).map(([g, n]) => [g, [n, pick.filter((x) => x[1] === g).length]]));
      eq([dr.eligible, dr.recognized, dr.waiting, dr.groups], [DC.eligible, 3, DC.eligible - 3, wg], "after the decision: waiting " + (DC.eligible - 3));
      await dp.screenshot({ path: path.join(C.screenshots, "dashboard-decision.png"), fullPage: false });
      await page.waitForFunction((w) => +document.querySelector("[data-recognition]").dataset.waiting === w, DC.eligible - 3, { timeout: 10000 })
        .then(() => check(true, "the province's page: " + (DC.eligible - 3) + " still wait"), () => check(false, "the province's page follows the decision (10 s)"));
      rc = await rec();
      eq([rc.eligible, rc.recognized], [want1, want1 - DC.eligible + 3], "the province: recognised grew by 3");
      check(requests2.every((q) => q.url.startsWith(D.url + "/") && !q.url.includes(D.viewer)) &&
        requests2.filter((q) => q.url.includes("/v1/")).every((q) => q.auth === "Bearer " + D.viewer), "the commune's page: its own node, its token");
    } finally {
      await ctx2.close();
      fs.rmSync(udd2, { recursive: true, force: true });
    }

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
