#!/usr/bin/env node
// End-to-end walk through `ittai serve` in headless Chromium, as a public health nurse
// would click it: 抽出目的 → 抽出条件 (threshold changed, count updated) → 対象者一覧
// (xlsx downloaded) → one person's page → a support record (支援記録) added there.
// The Rust test tests/it/serve.rs runs this against a server on a copy of sample_data and
// checks RESULT.json against `ittai run` and the dataset the record was appended to.
//
// Usage:
//   node tests/e2e/serve.mjs --url http://127.0.0.1:PORT/ --out RESULT.json
//        [--screenshots DIR] [--downloads DIR] [--timeout SECONDS]
//
//   --screenshots DIR  1280×800 screenshots of every page visited: home.png, purpose.png,
//                      conditions.png, list.png, person.png, indicators.png (docs/images).
//   --downloads DIR    where the downloaded xlsx is saved (default: a new directory under
//                      the system temp directory, mode 0700).
//   --timeout SECONDS  timeout of each wait (default 120).
//
// Browser: $CHROMIUM, else chromium / chromium-browser / google-chrome on PATH, else
// /usr/bin/chromium; driven by playwright-core (npm ci --prefix tests/e2e), which downloads
// no browser of its own.
//
// RESULT.json: {count, listed_ids, xlsx, person, max_drugs, support_added, date,
//               page_errors}. Exit status 0 on success; 1 with "serve.mjs: step …" on
// stderr when a step fails (RESULT.json is then not written); 2 on bad arguments.

import { existsSync, mkdirSync, mkdtempSync, chmodSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';

const RULE = 'R03';
const THRESHOLD = '20';
const PROGRAMME = 'medication';
const APPROACH = 'phone';

function usage(msg) {
  if (msg) console.error(`serve.mjs: ${msg}`);
  console.error('usage: node tests/e2e/serve.mjs --url http://127.0.0.1:PORT/ --out RESULT.json [--screenshots DIR] [--downloads DIR] [--timeout SECONDS]');
  process.exit(2);
}

function parseArgs(argv) {
  const a = { timeout: 120 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    const need = () => {
      if (v === undefined || v.startsWith('--')) usage(`${k} needs a value`);
      i++;
      return v;
    };
    switch (k) {
      case '--url': a.url = need(); break;
      case '--out': a.out = need(); break;
      case '--screenshots': a.screenshots = need(); break;
      case '--downloads': a.downloads = need(); break;
      case '--timeout': a.timeout = Number(need()); break;
      case '-h': case '--help': usage(); break;
      default: usage(`unknown argument ${k}`);
    }
  }
  if (!a.url) usage('--url is required');
  if (!a.out) usage('--out is required');
  if (!(a.timeout > 0)) usage('--timeout must be a positive number of seconds');
  try {
    const u = new URL(a.url);
    if (u.protocol !== 'http:') usage(`--url ${a.url}: expected http://127.0.0.1:PORT/`);
  } catch {
    usage(`--url ${a.url} is not a URL`);
  }
  if (!a.url.endsWith('/')) a.url += '/';
  return a;
}

function findChromium() {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    for (const dir of (process.env.PATH || '').split(delimiter)) {
      if (dir && existsSync(join(dir, name))) return join(dir, name);
    }
  }
  return '/usr/bin/chromium';
}

/** Today in the local time zone, YYYY-MM-DD (what a date input shows). */
function today() {
  const d = new Date();
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** The ways a page may show a date: 2026-11-21, 2026/11/21, 2026年11月21日 (with or without zeros). */
function dateForms(iso) {
  const [y, m, d] = iso.split('-');
  const mm = String(Number(m));
  const dd = String(Number(d));
  return [iso, `${y}/${m}/${d}`, `${y}/${mm}/${dd}`, `${y}年${m}月${d}日`, `${y}年${mm}月${dd}日`];
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const args = parseArgs(process.argv.slice(2));
const out = resolve(args.out);
const timeoutMs = Math.round(args.timeout * 1000);
// Nothing stale is left behind for the caller to read if this run fails.
rmSync(out, { force: true });

// The playwright-core import comes after the argument check, so a missing `npm ci` is
// reported as such.
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  console.error(`serve.mjs: playwright-core is not installed (run: npm ci --prefix tests/e2e): ${e.message}`);
  process.exit(1);
}

// A whole-run watchdog on top of the per-wait timeouts: the caller never hangs.
const watchdog = setTimeout(() => {
  console.error(`serve.mjs: gave up after ${Math.round((timeoutMs * 8) / 1000)} s in all`);
  process.exit(1);
}, timeoutMs * 8);
watchdog.unref();

const executablePath = findChromium();
if (!existsSync(executablePath)) {
  console.error(`serve.mjs: chromium not found at ${executablePath} (apt-get install chromium fonts-noto-cjk, or set CHROMIUM)`);
  process.exit(1);
}

let browser;
let page;
let current = 'start';
const pageErrors = [];

/** Runs one step; on failure names the step, the page and what went wrong. */
async function step(name, fn) {
  current = name;
  try {
    return await fn();
  } catch (e) {
    const where = page ? ` (page: ${page.url()})` : '';
    const err = new Error(`step ${name} failed${where}: ${e && e.message ? e.message.split('\n')[0] : e}`);
    err.stepFailure = true;
    throw err;
  }
}

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

/** Opens `path` (relative to --url) and checks the status. */
async function open(path) {
  const url = new URL(path.replace(/^\//, ''), args.url).href;
  const resp = await page.goto(url, { waitUntil: 'load' });
  check(resp, `no response for ${url}`);
  check(resp.status() < 400, `GET ${url} answered ${resp.status()}: ${(await resp.text()).slice(0, 300)}`);
  return resp;
}

async function shot(name) {
  if (!args.screenshots) return;
  await page.evaluate(() => document.fonts.ready);
  const path = join(resolve(args.screenshots), name);
  await page.screenshot({ path, fullPage: false });
  console.log(`screenshot: ${path}`);
}

const pathOf = (u) => new URL(u).pathname;

try {
  browser = await chromium.launch({
    executablePath,
    headless: true,
    timeout: timeoutMs,
    // --no-sandbox: CI runs as root. The rest: no background connections on a closed
    // network (they only slow Chromium down there).
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
    locale: 'ja-JP',
  });
  page = await context.newPage();
  page.setDefaultTimeout(timeoutMs);
  page.setDefaultNavigationTimeout(timeoutMs);
  page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
  if (args.screenshots) mkdirSync(resolve(args.screenshots), { recursive: true });

  await step('home (/)', async () => {
    await open('/');
    await shot('home.png');
  });

  // a. 抽出目的: the card of R03 (服薬（多剤）).
  await step(`a (/purpose → card a[data-rule="${RULE}"])`, async () => {
    await open('/purpose');
    const card = page.locator(`a[data-rule="${RULE}"]`);
    await card.first().waitFor({ state: 'visible' });
    await shot('purpose.png');
    await card.first().click();
    await page.waitForURL((u) => u.pathname === `/rules/${RULE}`, { waitUntil: 'load' });
  });

  // b. 抽出条件: threshold 20, then the count the page fetched for it.
  const count = await step(`b (/rules/${RULE}: threshold=${THRESHOLD} → #count[data-count])`, async () => {
    const input = page.locator('#params-form input[name="threshold"]');
    await input.waitFor({ state: 'visible' });
    await page.locator('#count').waitFor({ state: 'attached' });
    // Count requests in flight, so "settled" means the last answer has been shown.
    let pending = 0;
    const isCount = (req) => pathOf(req.url()) === `/rules/${RULE}/count`;
    page.on('request', (r) => { if (isCount(r)) pending++; });
    const done = (r) => { if (isCount(r)) pending = Math.max(0, pending - 1); };
    page.on('requestfinished', done);
    page.on('requestfailed', done);
    const answered = page.waitForResponse((r) => {
      if (!isCount(r.request())) return false;
      const t = new URL(r.url()).searchParams.get('threshold');
      return t === null || t === THRESHOLD;
    });
    await input.fill(THRESHOLD);
    await input.dispatchEvent('input');
    await input.dispatchEvent('change');
    const resp = await answered;
    check(resp.status() < 400, `GET ${resp.url()} answered ${resp.status()}: ${(await resp.text()).slice(0, 300)}`);
    try {
      await resp.json();
    } catch (e) {
      throw new Error(`GET ${resp.url()} did not answer JSON: ${e.message}`);
    }
    // Settled: no count request in flight and data-count an integer, unchanged for 600 ms.
    const deadline = Date.now() + timeoutMs;
    let last = null;
    let stableSince = 0;
    for (;;) {
      const v = await page.locator('#count').getAttribute('data-count');
      const now = Date.now();
      if (v !== last || pending > 0 || !/^\d+$/.test(v ?? '')) {
        last = v;
        stableSince = now;
      } else if (now - stableSince >= 600) {
        break;
      }
      check(now < deadline, `#count data-count did not settle on an integer (last: ${JSON.stringify(last)}, requests in flight: ${pending})`);
      await sleep(100);
    }
    const value = await input.inputValue();
    check(value === THRESHOLD, `input[name="threshold"] holds ${JSON.stringify(value)}, not ${THRESHOLD}`);
    await shot('conditions.png');
    return Number(last);
  });

  // c. 対象者一覧: the listed ids and the xlsx download.
  const { listedIds, firstId, xlsx } = await step(`c (#to-list → /rules/${RULE}/list, #dl-xlsx)`, async () => {
    await page.locator('#to-list').click();
    await page.waitForURL((u) => u.pathname === `/rules/${RULE}/list`, { waitUntil: 'load' });
    await page.locator('#list').waitFor({ state: 'attached' });
    const ids = await page.locator('tr[data-person]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-person')));
    check(ids.every((id) => id), 'a tr[data-person] has an empty data-person');
    check(new Set(ids).size === ids.length, `a person is listed twice: ${ids.filter((x, i) => ids.indexOf(x) !== i).slice(0, 5).join(', ')}`);
    check(ids.length > 0, `no tr[data-person] rows in #list (count on the conditions page was ${count})`);
    await shot('list.png');
    const dir = args.downloads ? resolve(args.downloads) : mkdtempSync(join(tmpdir(), 'ittai-e2e-'));
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const [dl] = await Promise.all([page.waitForEvent('download'), page.locator('#dl-xlsx').click()]);
    const failure = await dl.failure();
    check(!failure, `the xlsx download failed: ${failure}`);
    const name = dl.suggestedFilename() || `${RULE}.xlsx`;
    check(name.toLowerCase().endsWith('.xlsx'), `the download from #dl-xlsx is named ${JSON.stringify(name)}, not *.xlsx`);
    const path = join(dir, name.replace(/[/\\]/g, '_'));
    await dl.saveAs(path);
    chmodSync(path, 0o600); // a target list: readable by its owner only, like `ittai run`'s
    const head = readFileSync(path).subarray(0, 2).toString('latin1');
    check(head === 'PK', `${path} is not an xlsx (zip) file`);
    return { listedIds: [...ids].sort(), firstId: ids[0], xlsx: path };
  });

  // d. The first listed person's page, opened from its row.
  const { person, maxDrugs } = await step(`d (row link of the first person → /person/{id}, #max-drugs)`, async () => {
    const row = page.locator(`tr[data-person="${firstId.replace(/["\\]/g, '\\$&')}"]`).first();
    const link = row.locator('a[href*="/person/"]');
    await ((await link.count()) > 0 ? link.first() : row.locator('a').first()).click();
    await page.waitForURL((u) => u.pathname.startsWith('/person/'), { waitUntil: 'load' });
    const shown = decodeURIComponent(pathOf(page.url()).slice('/person/'.length));
    check(shown === firstId, `the row of ${firstId} links to the page of ${shown}`);
    const v = await page.locator('#max-drugs').getAttribute('data-value');
    check(v !== null && v.trim() !== '' && Number.isFinite(Number(v)), `#max-drugs data-value is ${JSON.stringify(v)}, not a number`);
    await shot('person.png');
    return { person: firstId, maxDrugs: Number(v) };
  });

  // e. A support record (支援記録) added through #support-form.
  const date = today();
  const supportAdded = await step(`e (#support-form → POST /person/{id}/support → #support-records)`, async () => {
    const personPath = pathOf(page.url());
    const form = page.locator('#support-form');
    await form.waitFor({ state: 'visible' });
    const csrf = await form.locator('input[name="csrf"]').getAttribute('value');
    check(csrf, '#support-form has no hidden input[name="csrf"] with a value');
    const rowsWithDate = () =>
      page.locator('#support-records').evaluate((el, forms) => {
        const rows = el.querySelectorAll('tr, li');
        const items = rows.length ? [...rows] : [el];
        return items.filter((r) => forms.some((f) => r.textContent.includes(f))).length;
      }, dateForms(date));
    const before = await rowsWithDate();
    await form.locator('select[name="programme"]').selectOption(PROGRAMME);
    await form.locator('select[name="rule_id"]').selectOption(RULE);
    await form.locator('select[name="approach"]').selectOption(APPROACH);
    await form.locator('input[name="contact_date"]').fill(date);
    await form.locator('input[name="reached"]').check();
    const posted = page.waitForResponse((r) => r.request().method() === 'POST' && pathOf(r.url()) === `${personPath}/support`);
    const loaded = page.waitForEvent('load');
    await page.locator('#support-submit').click();
    const resp = await posted;
    check(resp.status() < 400, `POST ${resp.url()} answered ${resp.status()}: ${(await resp.text().catch(() => '')).slice(0, 300)}`);
    await loaded;
    check(pathOf(page.url()) === personPath, `after the POST the browser is on ${page.url()}, not ${personPath}`);
    await page.locator('#support-records').waitFor({ state: 'attached' });
    const after = await rowsWithDate();
    check(after > before, `#support-records shows no new row dated ${date} (rows with that date: ${before} before, ${after} after)`);
    return true;
  });

  await step('indicators (/indicators)', async () => {
    await open('/indicators');
    await shot('indicators.png');
  });

  const result = {
    count,
    listed_ids: listedIds,
    xlsx,
    person,
    max_drugs: maxDrugs,
    support_added: supportAdded,
    date,
    page_errors: pageErrors,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  console.log(`serve.mjs: OK: count=${count} listed=${listedIds.length} person=${person} max_drugs=${maxDrugs} support record ${date}; wrote ${out}`);
} catch (e) {
  console.error(`serve.mjs: ${e.stepFailure ? '' : `step ${current}: `}${e.message}`);
  if (pageErrors.length) console.error(`serve.mjs: errors in the pages' scripts:\n  ${pageErrors.join('\n  ')}`);
  if (page) {
    const path = `${out}.failure.png`;
    await page.screenshot({ path }).then(() => console.error(`serve.mjs: screenshot of the failure: ${path}`), () => {});
  }
  process.exitCode = 1;
} finally {
  if (browser) await browser.close().catch(() => {});
}
