// Browser tests of the web console: the real `kasdesa serve` binary on a free port with a temporary SQLite data
// directory, data set up over the API, and headless Chromium (Debian's) driven by playwright-core through a payment
// from draft to paid, the inspector's dashboard and downloads, logout, CSRF and bad input.
//
// Run: scripts/browser-tests.sh (or `npm test` here after `cargo build`). Screenshots go to docs/screenshots/
// (KASDESA_SCREENSHOTS overrides). KASDESA_BIN overrides the binary, CHROMIUM the browser.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const BIN = process.env.KASDESA_BIN || join(repo, 'target', 'debug', 'kasdesa');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.KASDESA_SCREENSHOTS || join(repo, 'docs', 'screenshots');
const ADMIN_PASSWORD = 'admin-password-123';
const PASSWORD = 'village-password-123';
const YEAR = Number(new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Jakarta', year: 'numeric' }).format(new Date()));
const TODAY = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Jakarta' }).format(new Date());
// Today as the console writes dates (the regency's local day, WIB here): DD-MM-YYYY.
const TODAY_SHOWN = TODAY.split('-').reverse().join('-');
const DESCRIPTION = 'Pembelian semen dan pasir, jalan dusun II';

let server;
let dataDir;
let base;
let browser;
const ids = {};

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function api(method, path, { token, body, key } = {}) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (key) headers['idempotency-key'] = key;
  const r = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: r.status, json };
}

async function ok(method, path, opts, expected = [200, 201]) {
  const r = await api(method, path, opts);
  assert.ok(expected.includes(r.status), `${method} ${path} -> ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

async function login(username, password = PASSWORD) {
  return (await ok('POST', '/api/v1/auth/login', { body: { username, password } })).access_token;
}

let keyN = 0;
const key = (p) => `${p}-${Date.now()}-${++keyN}`;

async function village(regencyId, code, admin) {
  const v = await ok('POST', '/api/v1/villages', {
    token: admin,
    body: { code, name: `Desa ${code === 'SKJ' ? 'Sukajaya' : 'Mekarsari'}`, regency_id: regencyId, bank_account: '1012345678', cash_limit: '10000000.00' },
  });
  const tokens = {};
  for (const role of ['implementer', 'secretary', 'head', 'treasurer']) {
    const username = `${role}-${code.toLowerCase()}`;
    await ok('POST', '/api/v1/users', { token: admin, body: { username, password: PASSWORD, role, village_id: v.id } });
    tokens[role] = await login(username);
  }
  return { id: v.id, tokens };
}

async function adopt(v, lines) {
  await ok('PUT', `/api/v1/villages/${v.id}/budgets/${YEAR}`, { token: v.tokens.treasurer, body: { lines } });
  await ok('POST', `/api/v1/villages/${v.id}/budgets/${YEAR}/adopt`, { token: v.tokens.head });
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'kasdesa-browser-'));
  mkdirSync(SHOTS, { recursive: true });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(BIN, ['serve'], {
    cwd: repo,
    env: {
      ...process.env,
      KASDESA_BIND: `127.0.0.1:${port}`,
      KASDESA_DATA_DIR: dataDir,
      KASDESA_DATABASE_URL: '',
      KASDESA_ADMIN_PASSWORD: ADMIN_PASSWORD,
      KASDESA_WORKERS: '2',
      KASDESA_POOL_SIZE: '4',
      RUST_LOG: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let up = false;
  for (let i = 0; i < 150 && !up; i++) {
    try { up = (await fetch(`${base}/health/live`)).ok; } catch { await sleep(200); }
  }
  assert.ok(up, 'the server answers /health/live');

  // The data, over the API: a regency with two villages, officials, an inspector, a bank, budgets and money.
  const admin = await login('admin', ADMIN_PASSWORD);
  const regency = await ok('POST', '/api/v1/regencies', { token: admin, body: { code: 'KBR', name: 'Kabupaten Kubu Raya' } });
  const v1 = await village(regency.id, 'SKJ', admin);
  const v2 = await village(regency.id, 'MKS', admin);
  await ok('POST', '/api/v1/users', { token: admin, body: { username: 'inspektur', password: PASSWORD, role: 'inspector', regency_id: regency.id } });
  const client = await ok('POST', '/api/v1/bank-clients', { token: admin, body: { name: 'Bank Kalbar', village_ids: [v1.id, v2.id] } });
  ids.bank = (await ok('POST', '/api/v1/auth/token', { body: { client_id: client.client_id, client_secret: client.client_secret } })).access_token;
  await adopt(v1, [
    { account_code: '4.2.1.01', source: 'DDS', amount: '500000000.00' },
    { account_code: '5.2.1.07', activity_code: '02.03.10', activity_name: 'Rehabilitasi Jalan Desa', source: 'DDS', amount: '100000000.00' },
    { account_code: '5.2.2.01', activity_code: '01.01.04', activity_name: 'Operasional Pemerintah Desa', source: 'ADD', amount: '20000000.00' },
  ]);
  await adopt(v2, [
    { account_code: '4.2.1.01', source: 'DDS', amount: '300000000.00' },
    { account_code: '5.2.1.07', activity_code: '02.03.10', activity_name: 'Rehabilitasi Jalan Desa', source: 'DDS', amount: '80000000.00' },
  ]);
  for (const [v, amount, ref] of [[v1, '250000000.00', 'SP2D-001'], [v2, '120000000.00', 'SP2D-002']]) {
    await ok('POST', '/api/v1/bank/credits', {
      token: ids.bank, key: key('credit'),
      body: { village_id: v.id, amount, source: 'DDS', bank_reference: ref, value_date: TODAY, description: 'Penyaluran Dana Desa tahap I' },
    });
  }
  // An earlier request to the same payee for the same gross, approved over the API: the browser's payment will
  // make it a duplicate, which the inspector's anomalies show with their evidence.
  const earlier = await ok('POST', `/api/v1/villages/${v1.id}/payments`, {
    token: v1.tokens.implementer, key: key('spp'),
    body: {
      activity_code: '01.01.04', description: 'Alat tulis kantor', fiscal_year: YEAR,
      payee: { name: 'CV Maju Bersama', bank_code: '123', account_number: '1009876543' },
      lines: [{ account_code: '5.2.2.01', source: 'ADD', amount: '10000000.00', withholdings: [] }],
    },
  });
  for (const [role, action] of [['implementer', 'submit'], ['secretary', 'verify'], ['head', 'approve']]) {
    await ok('POST', `/api/v1/payments/${earlier.id}/${action}`, { token: v1.tokens[role] });
  }
  ids.v1 = v1;
  ids.v2 = v2;
  ids.admin = admin;
  ids.regency = regency.id;

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  if (browser) await browser.close().catch(() => {});
  if (server) {
    server.kill('SIGTERM');
    await Promise.race([new Promise((r) => server.once('exit', r)), sleep(5000)]);
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** A fresh browser context (its own cookies) signed in as `username`. */
async function signIn(username, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  // The console asks before a step that moves money (amount and payee): the official says yes.
  page.on('dialog', (d) => d.accept());
  await page.goto(`${base}/console/login`);
  await page.getByLabel('Nama pengguna').fill(username);
  await page.getByLabel('Kata sandi').fill(PASSWORD);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/console/login')), page.getByRole('button', { name: 'Masuk' }).click()]);
  return { context, page };
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** An Indonesian page shows its times in the regency's zone with its label (WIB here), never in UTC. */
async function assertNoUtc(page) {
  assert.doesNotMatch(await page.locator('body').innerText(), /UTC/, `${page.url()} shows no UTC`);
}

async function statusOf(page) {
  return page.locator('#payment-status').getAttribute('data-status');
}

async function actOn(page, label, action) {
  await Promise.all([
    page.waitForURL(new RegExp(`done=${action}$`)),
    page.getByRole('button', { name: label, exact: true }).click(),
  ]);
}

test('the login page is served, in Bahasa Indonesia by default and in English on request', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const r = await page.goto(`${base}/`);
  assert.equal(new URL(page.url()).pathname, '/console/login');
  assert.equal(r.status(), 200);
  const csp = r.headers()['content-security-policy'];
  assert.match(csp, /default-src 'none'/);
  await assert.doesNotReject(page.getByRole('heading', { name: 'Masuk ke Kas Desa' }).waitFor());
  await shot(page, '01-login');
  await page.getByRole('link', { name: 'English' }).click();
  await page.getByRole('heading', { name: 'Sign in to Kas Desa' }).waitFor();
  // Wrong password: a plain message, not a broken page.
  await page.getByLabel('Username').fill('implementer-skj');
  await page.getByLabel('Password').fill('wrong-password-1');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Wrong username or password.').waitFor();
  await context.close();
});

test('the drafting form proposes the withholdings of a purchase, and saves nothing until asked', async () => {
  const impl = await signIn('implementer-skj');
  await impl.page.goto(`${base}/console/payments/new`);
  await impl.page.getByLabel('Uraian', { exact: true }).fill('Semen untuk jalan dusun III');
  await impl.page.getByLabel('Kegiatan').selectOption('02.03.10');
  await impl.page.getByLabel('Nama penerima').fill('CV Maju Bersama');
  await impl.page.getByLabel('Kode bank (3 angka) atau BIC').fill('123');
  await impl.page.getByLabel('No. rekening').fill('1009876543');
  await impl.page.getByLabel('NPWP (opsional)').fill('01.234.567.8-901.000');
  await impl.page.locator('#tax_kind').selectOption('goods');
  await impl.page.getByLabel('Penyedia PKP (PPN dipungut)').check();
  await impl.page.locator('#l0_account').selectOption('5.2.1.07');
  await impl.page.locator('#l0_source').selectOption('DDS');
  await impl.page.locator('#l0_amount').fill('11.100.000');
  await impl.page.getByRole('button', { name: 'Hitung potongan pajak' }).click();
  await impl.page.locator('#taxes-proposed').waitFor();
  assert.equal(await impl.page.locator('#l0_tax0').inputValue(), 'PPN');
  assert.equal(await impl.page.locator('#l0_tax0_amount').inputValue(), '1.100.000');
  assert.equal(await impl.page.locator('#l0_tax1').inputValue(), 'PPH22');
  assert.equal(await impl.page.locator('#l0_tax1_amount').inputValue(), '150.000');
  assert.equal(await impl.page.getByLabel('Uraian', { exact: true }).inputValue(), 'Semen untuk jalan dusun III', 'what was typed is kept');
  await shot(impl.page, '12-tax-proposal');
  await impl.context.close();
});

test('a payment goes from draft to paid through every official, and the inboxes move', async () => {
  // Implementer: a bad amount first, then a request with a line and a withholding.
  const impl = await signIn('implementer-skj');
  await impl.page.goto(`${base}/console/payments/new`);
  await impl.page.getByLabel('Uraian', { exact: true }).fill(DESCRIPTION);
  await impl.page.getByLabel('Kegiatan').selectOption('02.03.10');
  await impl.page.getByLabel('Nama penerima').fill('CV Maju Bersama');
  await impl.page.getByLabel('Kode bank (3 angka) atau BIC').fill('123');
  await impl.page.getByLabel('No. rekening').fill('1009876543');
  await impl.page.getByLabel('NPWP (opsional)').fill('01.234.567.8-901.000');
  await impl.page.locator('#l0_account').selectOption('5.2.1.07');
  await impl.page.locator('#l0_source').selectOption('DDS');
  await impl.page.locator('#l0_amount').fill('abc');
  await impl.page.locator('#l0_tax0').selectOption('PPN');
  await impl.page.locator('#l0_tax0_amount').fill('1.000.000');
  const bad = impl.page.waitForResponse((r) => r.url().endsWith('/console/payments') && r.request().method() === 'POST');
  await impl.page.getByRole('button', { name: 'Simpan draf' }).click();
  assert.equal((await bad).status(), 422);
  const alert = impl.page.locator('#form-errors');
  await alert.waitFor();
  assert.match(await alert.innerText(), /bukan jumlah uang yang valid/);
  assert.equal(await impl.page.getByLabel('Uraian', { exact: true }).inputValue(), DESCRIPTION, 'what was typed is kept');
  await shot(impl.page, '02-bad-input');

  await impl.page.locator('#l0_amount').fill('10.000.000');
  await Promise.all([impl.page.waitForURL(/\/console\/payments\/[0-9a-f-]{36}\?done=created/), impl.page.getByRole('button', { name: 'Simpan draf' }).click()]);
  const paymentUrl = impl.page.url().split('?')[0];
  ids.payment = paymentUrl.split('/').pop();
  assert.equal(await statusOf(impl.page), 'draft');
  const figures = await impl.page.locator('dl.grid').innerText();
  assert.match(figures, /Rp 10\.000\.000,00/);
  assert.match(figures, /Rp 9\.000\.000,00/, 'net = gross - PPN');
  await shot(impl.page, '03-draft');
  await actOn(impl.page, 'Ajukan', 'submit');
  assert.equal(await statusOf(impl.page), 'submitted');
  await impl.page.goto(`${base}/console/inbox`);
  assert.equal(await impl.page.locator('#waiting').getByRole('link', { name: DESCRIPTION }).count(), 0, 'no longer waiting for the implementer');
  const listed = impl.page.locator('#all tr', { hasText: DESCRIPTION });
  assert.match(await listed.innerText(), new RegExp(TODAY_SHOWN), 'listed by the local day it was made');
  await assertNoUtc(impl.page);

  // Secretary, on a phone-sized screen: the inbox shows it; verify.
  const sec = await signIn('secretary-skj', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  assert.equal(new URL(sec.page.url()).pathname, '/console/inbox');
  const inSecretaryInbox = sec.page.locator('#waiting').getByRole('link', { name: DESCRIPTION });
  assert.equal(await inSecretaryInbox.count(), 1);
  await shot(sec.page, '04-inbox-phone');
  await inSecretaryInbox.click();
  await sec.page.locator('#payment-status').waitFor();
  // The secretary sees the budget line's remaining amount and the trail.
  assert.match(await sec.page.locator('#lines-h + div').innerText(), /Rp 100\.000\.000,00/);
  await actOn(sec.page, 'Verifikasi', 'verify');
  assert.equal(await statusOf(sec.page), 'verified');
  await sec.page.goto(`${base}/console/inbox`);
  assert.equal(await sec.page.locator('#waiting').getByRole('link', { name: DESCRIPTION }).count(), 0);

  // Head: approve.
  const head = await signIn('head-skj');
  await head.page.locator('#waiting').getByRole('link', { name: DESCRIPTION }).click();
  await actOn(head.page, 'Setujui', 'approve');
  assert.equal(await statusOf(head.page), 'approved');
  assert.match(await head.page.locator('#lines-h + div').innerText(), /Rp 90\.000\.000,00/, 'the approval commits the budget');
  await shot(head.page, '05-approved');

  // Treasurer: release to the bank.
  const tre = await signIn('treasurer-skj');
  await tre.page.locator('#waiting').getByRole('link', { name: DESCRIPTION }).click();
  await actOn(tre.page, 'Kirim ke bank', 'release');
  assert.equal(await statusOf(tre.page), 'released');

  // The bank pays, over the API.
  const transfers = await ok('GET', '/api/v1/bank/transfers?status=released', { token: ids.bank });
  const transfer = transfers.items.find((t) => t.payment_id === ids.payment);
  assert.ok(transfer, 'the released transfer is listed for the bank');
  assert.equal(transfer.amount, '9000000.00');
  await ok('POST', `/api/v1/bank/transfers/${transfer.id}/result`, {
    token: ids.bank, key: key('result'), body: { status: 'paid', bank_reference: 'TRF-0001', value_date: TODAY },
  });
  await tre.page.goto(paymentUrl);
  assert.equal(await statusOf(tre.page), 'paid');
  const trail = await tre.page.locator('ol.trail').innerText();
  for (const who of ['implementer-skj', 'secretary-skj', 'head-skj', 'treasurer-skj']) assert.match(trail, new RegExp(who));
  assert.match(trail, new RegExp(`${TODAY_SHOWN} \\d{2}:\\d{2} WIB`), 'the trail times are in WIB');
  assert.match(await tre.page.locator('ol.trail time').first().getAttribute('datetime'), /\+07:00$/);
  await assertNoUtc(tre.page);
  await shot(tre.page, '06-paid');
  // Printed, the page is its content: no header or navigation.
  assert.equal(await tre.page.locator('header.top').isVisible(), true);
  await tre.page.emulateMedia({ media: 'print' });
  assert.equal(await tre.page.locator('header.top').isVisible(), false, 'the header is not printed');
  assert.equal(await tre.page.locator('ol.trail').isVisible(), true, 'the trail is printed');
  await shot(tre.page, '21-print-paid-request');
  await tre.page.emulateMedia({ media: 'screen' });
  const [trailCsv] = await Promise.all([
    tre.page.waitForEvent('download'),
    tre.page.locator('a[href*="report=trail"][href$="format=csv"]').click(),
  ]);
  const trailText = readFileSync(await trailCsv.path(), 'utf8');
  assert.match(trailText, /Waktu \(WIB\)/);
  assert.match(trailText, new RegExp(`${TODAY_SHOWN} \\d{2}:\\d{2} WIB`));
  assert.doesNotMatch(trailText, /UTC/);

  await tre.page.goto(`${base}/console/budget`);
  assert.ok(await tre.page.locator('svg.bar').count() > 0);
  await shot(tre.page, '07-budget');
  await tre.page.goto(`${base}/console/books`);
  await tre.page.getByRole('heading', { name: /Buku Kas Umum/ }).waitFor();
  await assertNoUtc(tre.page);
  await shot(tre.page, '08-books');
  // The PPN withheld on the paid request is deposited from the treasurer's form.
  await tre.page.goto(`${base}/console/tax-deposits/new`);
  assert.equal(await tre.page.locator('#PPN_amount').inputValue(), '1.000.000', 'what is left is filled in');
  await tre.page.locator('#PPN_billing').fill('820261200012345');
  await shot(tre.page, '23-tax-deposit');
  await Promise.all([tre.page.waitForURL(/done=created$/), tre.page.getByRole('button', { name: 'Simpan SSP' }).click()]);
  assert.match(await tre.page.locator('#deposit-lines').innerText(), /820261200012345/);
  for (const c of [impl, sec, head, tre]) await c.context.close();
});

test('separation of duties and the API rules show as plain messages', async () => {
  // A second request: the secretary returns it with a note; the implementer sees it back in the inbox.
  const v1 = ids.v1;
  const p = await ok('POST', `/api/v1/villages/${v1.id}/payments`, {
    token: v1.tokens.implementer, key: key('spp'),
    body: {
      activity_code: '02.03.10', description: 'Upah tukang', fiscal_year: YEAR,
      payee: { name: 'Budi Santoso', bank_code: '002', account_number: '5550001112' },
      lines: [{ account_code: '5.2.1.07', source: 'DDS', amount: '200000000.00', withholdings: [] }],
    },
  });
  await ok('POST', `/api/v1/payments/${p.id}/submit`, { token: v1.tokens.implementer });
  await ok('POST', `/api/v1/payments/${p.id}/verify`, { token: v1.tokens.secretary });
  // Over the budget line: the head's approval is refused with the figures, in plain words.
  const head = await signIn('head-skj');
  await head.page.goto(`${base}/console/payments/${p.id}`);
  const refused = head.page.waitForResponse((r) => r.url().endsWith('/approve'));
  await head.page.getByRole('button', { name: 'Setujui', exact: true }).click();
  assert.equal((await refused).status(), 422);
  const alert = head.page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /Sisa anggaran tidak cukup/);
  assert.equal(await statusOf(head.page), 'verified');
  // Reject needs a note; with one, it is rejected.
  await head.page.locator('#note-reject').fill('Melebihi pagu kegiatan');
  await actOn(head.page, 'Tolak', 'reject');
  assert.equal(await statusOf(head.page), 'rejected');
  await head.context.close();
});

test('an inspector sees the dashboard, the anomalies and a village, and downloads reports', async () => {
  const ins = await signIn('inspektur');
  assert.equal(new URL(ins.page.url()).pathname, '/console/dashboard');
  const chart = ins.page.locator('svg#realisation-chart');
  await chart.waitFor();
  assert.equal(await chart.locator('rect.c-sp').count(), 2, 'one spending bar per village');
  const anomalies = ins.page.locator('#anomalies');
  assert.match(await anomalies.innerText(), /Pembayaran ganda/, 'the rule in Indonesian');
  assert.doesNotMatch(await anomalies.innerText(), /duplicate_payment|\{"/, 'no rule codes, no raw JSON');
  assert.match(await anomalies.innerText(), /123\/1009876543/, 'with the evidence');
  assert.ok(await anomalies.locator('a[href^="/console/payments/"]').count() >= 2, 'the requests are links');
  await assertNoUtc(ins.page);
  await shot(ins.page, '09-dashboard');

  const [csv] = await Promise.all([
    ins.page.waitForEvent('download'),
    ins.page.locator('a[href*="report=regency-realisation"][href$="format=csv"]').click(),
  ]);
  const csvText = readFileSync(await csv.path(), 'utf8');
  assert.match(csvText, /Rekapitulasi Realisasi APBDes/);
  assert.match(csvText, /Desa Sukajaya/);
  assert.match(csv.suggestedFilename(), /\.csv$/);

  await ins.page.getByRole('link', { name: 'Desa Sukajaya' }).first().click();
  await ins.page.locator('#chain').waitFor();
  assert.match(await ins.page.locator('#chain').innerText(), /Rantai utuh/);
  assert.match(await ins.page.locator('#pay-h + div').innerText(), new RegExp(TODAY_SHOWN), 'requests by their local day');
  await assertNoUtc(ins.page);
  await shot(ins.page, '10-village');
  const [xlsx] = await Promise.all([
    ins.page.waitForEvent('download'),
    ins.page.locator('a[href*="report=cash-book"][href*="format=xlsx"]').click(),
  ]);
  const bytes = readFileSync(await xlsx.path());
  assert.equal(bytes.subarray(0, 2).toString(), 'PK', 'an XLSX (zip) file');
  assert.match(xlsx.suggestedFilename(), /\.xlsx$/);

  // The payment's trail from the inspector's side; no action buttons for an inspector.
  await ins.page.goto(`${base}/console/payments/${ids.payment}`);
  assert.equal(await statusOf(ins.page), 'paid');
  assert.equal(await ins.page.locator('form.action').count(), 0);
  await assertNoUtc(ins.page);

  // English.
  await ins.page.goto(`${base}/console/dashboard?lang=en`);
  await ins.page.getByRole('heading', { name: /Regency dashboard/ }).waitFor();
  await shot(ins.page, '11-dashboard-en');
  await ins.page.goto(`${base}/console/dashboard?lang=id`);

  // An inspector may not open an official's page; a village outside nothing; bad input is a plain page.
  const r1 = await ins.page.goto(`${base}/console/inbox`);
  assert.equal(r1.status(), 403);
  const r2 = await ins.page.goto(`${base}/console/villages/not-a-village`);
  assert.equal(r2.status(), 404);
  const r3 = await ins.page.goto(`${base}/console/dashboard?year=abc`);
  assert.equal(r3.status(), 200);
  const r4 = await ins.page.goto(`${base}/console/download?report=cash-book&format=docx`);
  assert.equal(r4.status(), 422);
  await ins.page.getByRole('alert').waitFor();

  // Logout: the session is gone.
  await Promise.all([ins.page.waitForURL(/\/console\/login\?bye=1/), ins.page.getByRole('button', { name: 'Keluar' }).click()]);
  await ins.page.getByText('Anda sudah keluar.').waitFor();
  await ins.page.goto(`${base}/console/dashboard`);
  assert.equal(new URL(ins.page.url()).pathname, '/console/login');
  await ins.context.close();
});

test('a form without the right CSRF token is refused and changes nothing', async () => {
  const v1 = ids.v1;
  const p = await ok('POST', `/api/v1/villages/${v1.id}/payments`, {
    token: v1.tokens.implementer, key: key('spp'),
    body: {
      activity_code: '02.03.10', description: 'Sewa molen', fiscal_year: YEAR,
      payee: { name: 'UD Sumber Rejeki', bank_code: '009', account_number: '7770001112' },
      lines: [{ account_code: '5.2.1.07', source: 'DDS', amount: '1500000.00', withholdings: [] }],
    },
  });
  const impl = await signIn('implementer-skj');
  // The page's CSP forbids scripts from fetching at all, so the forged posts are sent with the context's cookies
  // (the worst case: an attacker who somehow has the session cookie sent, but not the token).
  for (const form of [{ csrf: 'forged' }, {}]) {
    const r = await impl.context.request.post(`${base}/console/payments/${p.id}/submit`, { form, maxRedirects: 0 });
    assert.equal(r.status(), 403);
    assert.match(await r.text(), /Permintaan ditolak/);
  }
  // A page of another site that posts a form here: the SameSite=Strict cookie is not sent, so nothing happens.
  await impl.page.goto('about:blank');
  await impl.page.setContent(`<form method="post" action="${base}/console/payments/${p.id}/submit"><button>go</button></form>`);
  await Promise.all([impl.page.waitForURL(/\/console\/login/), impl.page.click('button')]);
  const after = await ok('GET', `/api/v1/payments/${p.id}`, { token: v1.tokens.secretary });
  assert.equal(after.status, 'draft', 'nothing was submitted');
  // Logout needs the token too; the login form needs its own.
  const lo = await impl.context.request.post(`${base}/console/logout`, { form: {}, maxRedirects: 0 });
  assert.equal(lo.status(), 403);
  const li = await fetch(`${base}/console/login`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'username=implementer-skj&password=' + PASSWORD + '&csrf=x', redirect: 'manual',
  });
  assert.equal(li.status, 403);
  // The session cookie's attributes.
  const cookies = await impl.context.cookies();
  const session = cookies.find((c) => c.name === 'kd_session');
  assert.ok(session.httpOnly);
  assert.equal(session.sameSite, 'Strict');
  await impl.context.close();
});

test('the village year in the console: a pasted payee list, a cash payment and the SPJ of an advance', async () => {
  const v = ids.v2;
  // On a phone: one request for many payees, pasted from a spreadsheet.
  const impl = await signIn('implementer-mks', { viewport: { width: 360, height: 740 }, isMobile: true });
  await impl.page.goto(`${base}/console/payments/new`);
  // On a phone the header is one short row, and every link in it is a 44 px tap target.
  const header = await impl.page.locator('header.top').boundingBox();
  assert.ok(header.height <= 60, `the header is ${header.height} px tall`);
  for (const link of await impl.page.locator('header.top a, header.top button').all()) {
    const box = await link.boundingBox();
    if (box) assert.ok(box.height >= 44, `a header target of ${box.height} px`);
  }
  await impl.page.getByLabel('Uraian', { exact: true }).fill('Upah harian pekerja jalan, minggu I');
  // What is typed survives leaving the page (a lapsed session, a lost signal): it is there again on return.
  await impl.page.goto(`${base}/console/inbox`);
  await impl.page.goto(`${base}/console/payments/new`);
  assert.equal(await impl.page.getByLabel('Uraian', { exact: true }).inputValue(), 'Upah harian pekerja jalan, minggu I', 'kept in the browser');
  await impl.page.getByLabel('Kegiatan').selectOption('02.03.10');
  await impl.page.locator('#l0_account').selectOption('5.2.1.07');
  await impl.page.locator('#l0_source').selectOption('DDS');
  await impl.page.getByText('Banyak penerima sekaligus (tempel daftar)').click();
  await impl.page.locator('#payees_csv').fill('Ahmad\t002\t1234567890\t750.000\nSiti\t002\t9876543210\t750.000\nRudi\t002\t5554443332\t600.000');
  await shot(impl.page, '17-payee-list-phone');
  await Promise.all([impl.page.waitForURL(/done=created$/), impl.page.getByRole('button', { name: 'Simpan draf' }).click()]);
  assert.match(await impl.page.locator('body').innerText(), /Kuitansi per penerima \(3\)/);
  await impl.context.close();

  // The treasurer pays a small approved request from cash in hand, once the regency allows it.
  await ok('PATCH', `/api/v1/regencies/${ids.regency}`, { token: ids.admin, body: { cash_payment_limit: '2000000.00' } });
  await ok('POST', `/api/v1/villages/${v.id}/transactions`, {
    token: v.tokens.treasurer, key: key('wd'),
    body: { kind: 'transfer', value_date: TODAY, description: 'Tarik tunai untuk kas', entries: [
      { account_code: '1.1.1.01', side: 'debit', amount: '3000000.00' }, { account_code: '1.1.1.02', side: 'credit', amount: '3000000.00' }] },
  });
  const small = await ok('POST', `/api/v1/villages/${v.id}/payments`, {
    token: v.tokens.implementer, key: key('spp'),
    body: { activity_code: '02.03.10', description: 'Paku dan kawat', fiscal_year: YEAR,
      payee: { name: 'Toko Sinar', bank_code: '123', account_number: '1002003004' },
      lines: [{ account_code: '5.2.1.07', source: 'DDS', amount: '850000.00', withholdings: [] }] },
  });
  for (const [role, action] of [['implementer', 'submit'], ['secretary', 'verify'], ['head', 'approve']]) {
    await ok('POST', `/api/v1/payments/${small.id}/${action}`, { token: v.tokens[role] });
  }
  const tre = await signIn('treasurer-mks');
  await tre.page.goto(`${base}/console/payments/${small.id}`);
  await shot(tre.page, '18-pay-cash');
  await actOn(tre.page, 'Bayar tunai', 'pay_cash');
  assert.equal(await statusOf(tre.page), 'paid');
  await tre.context.close();

  // An advance paid by the bank; the implementer records its SPJ: 1,200,000 + 650,000 spent, 150,000 back.
  const adv = await ok('POST', `/api/v1/villages/${v.id}/payments`, {
    token: v.tokens.implementer, key: key('adv'),
    body: { kind: 'advance', activity_code: '02.03.10', description: 'Panjar swakelola drainase', fiscal_year: YEAR,
      payee: { name: 'Budi (Ketua TPK)', bank_code: '123', account_number: '2001002003' },
      lines: [{ account_code: '5.2.1.07', source: 'DDS', amount: '2000000.00' }] },
  });
  for (const [role, action] of [['implementer', 'submit'], ['secretary', 'verify'], ['head', 'approve'], ['treasurer', 'release']]) {
    await ok('POST', `/api/v1/payments/${adv.id}/${action}`, { token: v.tokens[role] });
  }
  const transfers = await ok('GET', '/api/v1/bank/transfers', { token: ids.bank });
  const t = transfers.items.find((x) => x.payment_id === adv.id);
  await ok('POST', `/api/v1/bank/transfers/${t.id}/result`, { token: ids.bank, key: key('res'), body: { status: 'paid', bank_reference: 'UM-MKS-1', value_date: TODAY } });
  const spj = await signIn('implementer-mks');
  await spj.page.goto(`${base}/console/payments/${adv.id}`);
  await spj.page.getByLabel('Dibayar kepada 1').fill('Toko Bangunan Sinar');
  await spj.page.getByLabel('Uraian 1').fill('Semen dan pasir');
  await spj.page.getByLabel('Jumlah 1').fill('1.200.000');
  await spj.page.getByLabel('Dibayar kepada 2').fill('Upah tukang');
  await spj.page.getByLabel('Jumlah 2').fill('650.000');
  await spj.page.getByLabel('Sisa dikembalikan ke rekening desa').fill('150.000');
  await shot(spj.page, '19-spj-form');
  await actOn(spj.page, 'Simpan SPJ', 'account');
  assert.equal(await statusOf(spj.page), 'accounted');
  await spj.context.close();

  // A request the secretary returned is corrected on its own form, on a phone, and is a draft again.
  const returned = await ok('POST', `/api/v1/villages/${v.id}/payments`, {
    token: v.tokens.implementer, key: key('ret'),
    body: { activity_code: '02.03.10', description: 'Semen 20 sak', fiscal_year: YEAR,
      payee: { name: 'Toko Sinar', bank_code: '123', account_number: '1002003004' },
      lines: [{ account_code: '5.2.1.07', source: 'DDS', amount: '9500000.00', withholdings: [] }] },
  });
  await ok('POST', `/api/v1/payments/${returned.id}/submit`, { token: v.tokens.implementer });
  await ok('POST', `/api/v1/payments/${returned.id}/return`, { token: v.tokens.secretary, body: { note: 'Harga melebihi penawaran: Rp 5.500.000' } });
  const fix = await signIn('implementer-mks', { viewport: { width: 360, height: 740 }, isMobile: true });
  await fix.page.goto(`${base}/console/payments/${returned.id}`);
  await fix.page.click('#edit-request');
  await fix.page.locator('#l0_amount').fill('5.500.000');
  await shot(fix.page, '20-edit-returned-phone');
  await Promise.all([
    fix.page.waitForURL(/done=edit$/),
    fix.page.getByRole('button', { name: 'Simpan perubahan', exact: true }).click(),
  ]);
  assert.equal(await statusOf(fix.page), 'draft');
  const corrected = await ok('GET', `/api/v1/payments/${returned.id}`, { token: v.tokens.implementer });
  assert.equal(corrected.gross, '5500000.00');

  // A returned request of many payees: its list, filled in, where one account number is corrected.
  const crew = await ok('POST', `/api/v1/villages/${v.id}/payments`, {
    token: v.tokens.implementer, key: key('crew'),
    body: { activity_code: '02.03.10', description: 'Upah harian pekerja jalan, minggu 1', fiscal_year: YEAR,
      receipts: [
        { payee: { name: 'Ahmad', bank_code: '002', account_number: '1234567890' },
          lines: [{ account_code: '5.2.1.07', source: 'DDS', amount: '1500000.00', withholdings: [] }] },
        { payee: { name: 'Siti Aminah', bank_code: '002', account_number: '9876543210' },
          lines: [{ account_code: '5.2.1.07', source: 'DDS', amount: '1250000.00', withholdings: [] }] },
        { payee: { name: 'Yohanes', bank_code: '009', account_number: '5550001112' },
          lines: [{ account_code: '5.2.1.07', source: 'DDS', amount: '1250000.00', withholdings: [] }] },
      ] },
  });
  await ok('POST', `/api/v1/payments/${crew.id}/submit`, { token: v.tokens.implementer });
  await ok('POST', `/api/v1/payments/${crew.id}/return`, { token: v.tokens.secretary, body: { note: 'Rekening Siti Aminah salah satu angka' } });
  await fix.page.goto(`${base}/console/payments/${crew.id}`);
  await fix.page.click('#edit-request');
  const list = fix.page.locator('#payees_csv');
  const typed = await list.inputValue();
  assert.match(typed, /^Ahmad; 002; 1234567890; 1\.500\.000\nSiti Aminah; 002; 9876543210; 1\.250\.000\n/, typed);
  await list.fill(typed.replace('9876543210', '9876543219'));
  const crewWidth = await fix.page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(crewWidth <= 360, `the list's form is ${crewWidth} px wide on a phone`);
  await shot(fix.page, '25-edit-many-payees-phone');
  await Promise.all([
    fix.page.waitForURL(/done=edit$/),
    fix.page.getByRole('button', { name: 'Simpan perubahan', exact: true }).click(),
  ]);
  const recrewed = await ok('GET', `/api/v1/payments/${crew.id}`, { token: v.tokens.implementer });
  assert.equal(recrewed.receipts[1].payee.account_number, '9876543219');
  assert.equal(recrewed.status, 'draft');
  await fix.context.close();

  // The treasurer records the village hall's rent, received in cash, on a phone.
  const cash = await signIn('treasurer-mks', { viewport: { width: 360, height: 740 }, isMobile: true });
  await cash.page.goto(`${base}/console/cash`);
  const top = await cash.page.locator('header.top').boundingBox();
  assert.ok(top.height <= 60, `the treasurer's header is ${top.height} px tall`);
  const before = await cash.page.locator('#cash-balance').innerText();
  await cash.page.getByLabel('Penerimaan (pendapatan desa)').check();
  await cash.page.getByLabel('Jumlah (Rp)').fill('750.000');
  await cash.page.getByLabel('Uraian').fill('Sewa balai desa, April');
  await cash.page.getByLabel('Rekening pendapatan').selectOption('4.1.4.01');
  await cash.page.getByLabel('Diterima di').selectOption('1.1.1.01');
  await shot(cash.page, '22-cash-receipt-phone');
  await Promise.all([cash.page.waitForURL(/done=\d+$/), cash.page.getByRole('button', { name: 'Catat', exact: true }).click()]);
  assert.match(await cash.page.locator('#cash-done').innerText(), /Tercatat sebagai transaksi nomor \d+/);
  assert.notEqual(await cash.page.locator('#cash-balance').innerText(), before, 'cash in hand grew');
  const width = await cash.page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 360, `the cash page is ${width} px wide on a phone`);
  await cash.context.close();

  // The head opens the APBDes Perubahan on a phone: every line of the adopted budget, editable, under the
  // regulation's name.
  const rev = await signIn('head-mks', { viewport: { width: 360, height: 740 }, isMobile: true });
  await rev.page.goto(`${base}/console/budget`);
  await rev.page.click('#revise-budget');
  await rev.page.getByLabel(/Dasar perubahan/).fill('Perdes 5/2026 tentang APBDes Perubahan');
  assert.equal(await rev.page.locator('#b0_account').inputValue() !== '', true, 'the lines as they stand');
  const revWidth = await rev.page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(revWidth <= 360, `the budget editor is ${revWidth} px wide on a phone`);
  await shot(rev.page, '24-budget-revision-phone');
  await rev.context.close();
});

/**
 * What an official on a cheap phone must get from every page (360×740): nothing wider than the screen, every money
 * figure on the screen without scrolling sideways, tap targets of at least 44 px, times in the regency's zone, and
 * no English status word on an Indonesian page. Returns what is wrong, so one run names every page's faults.
 */
async function phoneFaults(page) {
  return page.evaluate(() => {
    const faults = [];
    const width = window.innerWidth;
    if (document.documentElement.scrollWidth > width) faults.push(`the page is ${document.documentElement.scrollWidth} px wide`);
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const money = /Rp[\s\u00a0]?-?\(?[\d.]+(,\d\d)?/;
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!money.test(n.textContent)) continue;
      const range = document.createRange();
      range.selectNodeContents(n);
      for (const r of range.getClientRects()) {
        if (r.width > 0 && (r.right > width + 1 || r.left < -1)) {
          faults.push(`«${n.textContent.trim().slice(0, 40)}» is outside the screen (${Math.round(r.left)}–${Math.round(r.right)} px)`);
          break;
        }
      }
    }
    const targets = 'button, a.button, select, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), header.top a, textarea';
    for (const el of document.querySelectorAll(targets)) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.height > 0 && r.height < 44) {
        faults.push(`the tap target «${(el.innerText || el.name || el.id || el.tagName).trim().slice(0, 30)}» is ${Math.round(r.height)} px tall`);
      }
    }
    const text = document.body.innerText;
    if (/UTC/.test(text)) faults.push('a time in UTC');
    const english = text.match(/\b(draft|submitted|verified|approved|released|partially_paid|paid|failed|cancelled|returned|adopted|accounted)\b/i);
    if (english) faults.push(`the English status word «${english[0]}»`);
    return faults;
  });
}

test('every page of every role on a 360 px phone: readable, tappable, Indonesian; asks before money moves; the oldest request is reachable', async () => {
  const phone = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true };
  const v1 = ids.v1;
  // A submitted request, for the secretary's page and the confirmation check.
  const asked = await ok('POST', `/api/v1/villages/${v1.id}/payments`, {
    token: v1.tokens.implementer, key: key('sweep'),
    body: { activity_code: '02.03.10', description: 'Batu split 10 m3', fiscal_year: YEAR,
      payee: { name: 'UD Batu Jaya', bank_code: '123', account_number: '1001001001' },
      lines: [{ account_code: '5.2.1.07', source: 'DDS', amount: '2500000.00', withholdings: [] }] },
  });
  await ok('POST', `/api/v1/payments/${asked.id}/submit`, { token: v1.tokens.implementer });
  const pay = `/console/payments/${asked.id}`;
  const pages = {
    'implementer-skj': ['/console/inbox', '/console/payments/new', pay, '/console/budget', '/console/books'],
    'secretary-skj': ['/console/inbox', pay, '/console/budget', '/console/books'],
    'head-skj': ['/console/inbox', pay, '/console/budget', `/console/budget/edit?year=${YEAR}`, '/console/books'],
    'treasurer-skj': ['/console/inbox', pay, '/console/cash', '/console/tax-deposits/new', '/console/budget', '/console/books'],
    inspektur: ['/console/dashboard', `/console/villages/${v1.id}?year=${YEAR}`],
  };
  const faults = [];
  for (const [user, paths] of Object.entries(pages)) {
    const s = await signIn(user, phone);
    for (const path of paths) {
      const r = await s.page.goto(`${base}${path}`);
      assert.equal(r.status(), 200, `${user} ${path}`);
      for (const f of await phoneFaults(s.page)) faults.push(`${user} ${path}: ${f}`);
      const card = { '/console/budget': '26-budget-cards-phone', '/console/books': '27-books-cards-phone' }[path];
      if (user === 'treasurer-skj' && card) await shot(s.page, card);
    }
    await s.context.close();
  }
  assert.deepEqual(faults, [], faults.join('\n'));

  // Asked before money moves: saying no on the secretary's first tap changes nothing.
  const sec = await signIn('secretary-skj', phone);
  sec.page.removeAllListeners('dialog');
  let asking = '';
  sec.page.once('dialog', (d) => { asking = d.message(); d.dismiss(); });
  await sec.page.goto(`${base}${pay}`);
  await sec.page.getByRole('button', { name: 'Verifikasi', exact: true }).click();
  await sleep(300);
  assert.match(asking, /2\.500\.000/, `the question names the amount: ${asking}`);
  assert.match(asking, /UD Batu Jaya/, `and the payee: ${asking}`);
  assert.equal(await statusOf(sec.page), 'submitted', 'nothing moved on the first tap');
  assert.equal((await ok('GET', `/api/v1/payments/${asked.id}`, { token: v1.tokens.secretary })).status, 'submitted');
  await sec.context.close();

  // 125 requests in Mekarsari: the oldest is reachable from the inbox, page by page.
  const v2 = ids.v2;
  for (let i = 1; i <= 125; i++) {
    await ok('POST', `/api/v1/villages/${v2.id}/payments`, {
      token: v2.tokens.implementer, key: key(`many-${i}`),
      body: { activity_code: '02.03.10', description: `Upah harian ke-${String(i).padStart(3, '0')}`, fiscal_year: YEAR,
        payee: { name: `Pekerja ${i}`, bank_code: '123', account_number: `30000${String(i).padStart(5, '0')}` },
        lines: [{ account_code: '5.2.1.07', source: 'DDS', amount: '100000.00', withholdings: [] }] },
    });
  }
  // The secretary: drafts wait for nobody but their implementer, so they are only in the list of every request.
  const imp = await signIn('secretary-mks', phone);
  await imp.page.goto(`${base}/console/inbox`);
  let pagesTurned = 0;
  while (!(await imp.page.locator('#all').innerText()).includes('Upah harian ke-001')) {
    assert.ok(pagesTurned < 5, 'the oldest request is within a few pages');
    await Promise.all([imp.page.waitForLoadState('load'), imp.page.click('#older')]);
    pagesTurned++;
  }
  assert.ok(pagesTurned >= 2, `the oldest of 125 is past the first pages (${pagesTurned} turned)`);
  for (const f of await phoneFaults(imp.page)) assert.fail(`the inbox's last page: ${f}`);
  await imp.context.close();
});
