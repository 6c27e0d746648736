#!/usr/bin/env node
// End-to-end tests of the built dashboard in Debian's Chromium (playwright-core)
// against a real running stack: `outlayer dev` serving dist/ and its
// config.json at DASHBOARD_URL. Every request the browser makes is held to
// loopback addresses. Screenshots go to test-results/.
//
//   DASHBOARD_URL=http://127.0.0.1:8090/ npm run e2e

import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const OUT = join(here, '..', 'test-results');
const BASE = process.env.DASHBOARD_URL;
if (!BASE) {
  console.error('DASHBOARD_URL is not set (the address `outlayer dev --dashboard-dir` prints)');
  process.exit(2);
}
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SETTLE_MS = Number(process.env.E2E_SETTLE_MS ?? 240_000);
const only = process.env.E2E_ONLY ? new RegExp(process.env.E2E_ONLY) : null;

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });

// ---- a small harness: named steps, each passes or fails; one summary line.
const results = [];
async function test(name, fn) {
  if (only && !only.test(name)) return;
  const started = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)\n     ${String(e?.stack ?? e).split('\n').slice(0, 6).join('\n     ')}`);
    await shot(`FAILED-${name.replace(/[^a-z0-9]+/gi, '-')}`).catch(() => {});
  }
}
function assert(cond, message) {
  if (!cond) throw new Error(message);
}
function eq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

// ---- services, read directly (the same addresses the page uses).
const config = await (await fetch(new URL('config.json', BASE))).json();
function loopback(url) {
  const { hostname } = new URL(url);
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]' || hostname.startsWith('127.');
}
for (const u of [BASE, config.rpc_url, config.coordinator_url]) assert(loopback(u), `not a loopback address: ${u}`);
assert(config.network === 'local', `config.network is ${config.network}; the e2e runs against outlayer dev`);
const example = config.examples.find((e) => JSON.stringify(e.source).includes('examples/secrets-env'));
assert(example, 'config.examples has no examples/secrets-env');
const alice = config.dev_accounts.find((a) => a.account_id.startsWith('alice.'))?.account_id;
const bob = config.dev_accounts.find((a) => a.account_id.startsWith('bob.'))?.account_id;
assert(alice && bob, 'config.dev_accounts lacks alice and bob');

async function coordinator(path) {
  const r = await fetch(config.coordinator_url + path);
  assert(r.ok, `${path}: HTTP ${r.status}`);
  return r.json();
}
async function rpc(method, params) {
  const r = await fetch(config.rpc_url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 'e2e', method, params }),
  });
  const body = await r.json();
  if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result;
}
async function view(method, args) {
  const result = await rpc('query', {
    request_type: 'call_function',
    finality: 'final',
    account_id: config.contract_id,
    method_name: method,
    args_base64: Buffer.from(JSON.stringify(args)).toString('base64'),
  });
  return JSON.parse(Buffer.from(result.result).toString());
}
async function freePort() {
  return new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}
const YOCTO = 10n ** 24n;
/** Every `… NEAR` amount in a text, in yoctoNEAR. */
function amounts(text) {
  return [...text.matchAll(/(\d+(?:\.\d{1,24})?) NEAR/g)].map((m) => parseNear(`${m[1]} NEAR`));
}
const sum = (xs) => xs.reduce((a, b) => a + b, 0n);
function parseNear(text) {
  const m = /^(\d+)(?:\.(\d{1,24}))? NEAR$/.exec(text.trim());
  assert(m, `not a NEAR amount: ${text}`);
  return BigInt(m[1]) * YOCTO + BigInt((m[2] ?? '').padEnd(24, '0'));
}

// ---- the browser: Debian's Chromium, a fresh profile, loopback only.
const profile = mkdtempSync(join(tmpdir(), 'outlayer-e2e-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
  viewport: { width: 1366, height: 900 },
});
const offLoopback = [];
await context.route('**/*', (route) => {
  const url = route.request().url();
  if (url.startsWith('data:') || url.startsWith('blob:') || loopback(url)) return route.continue();
  offLoopback.push(url);
  return route.abort('blockedbyclient');
});
const page = context.pages()[0] ?? (await context.newPage());
const consoleErrors = [];
page.on('pageerror', (e) => consoleErrors.push(String(e)));
page.on('console', (m) => {
  if (m.type() === 'error' && /Content Security Policy/.test(m.text())) consoleErrors.push(m.text());
});

async function shot(name) {
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
}
async function go(hash) {
  await page.goto(new URL(`#/${hash}`, BASE).toString());
  await page.waitForSelector('main h1');
}
const axeReport = [];
async function accessible(name) {
  // Evaluated over the DevTools protocol: the page's own CSP forbids inline scripts.
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help }));
  });
  axeReport.push({ page: name, violations: result });
  const critical = result.filter((v) => v.impact === 'critical');
  assert(critical.length === 0, `critical accessibility violations on ${name}: ${JSON.stringify(critical)}`);
}
/** Waits until the element's whole text (whitespace normalised) is exactly `text`. */
async function waitText(selector, text, timeout = 30_000) {
  try {
    await page.waitForFunction(
      ([sel, want]) => [...document.querySelectorAll(sel)].some((e) => e.textContent.replace(/\s+/g, ' ').trim() === want),
      [selector, text],
      { timeout },
    );
  } catch (e) {
    const seen = await page.$$eval(selector, (els) => els.map((e) => e.textContent.trim()));
    throw new Error(`${selector} never read ${JSON.stringify(text)}; it reads ${JSON.stringify(seen)}`);
  }
}
async function actAs(account) {
  await page.selectOption('header select', account);
}

/** Fills the playground for examples/secrets-env and sends; returns the settlement as the page shows it. */
async function playground({ account, profile: secretsProfile = '', owner = '', input = '' }) {
  await go('playground');
  await actAs(account);
  await page.selectOption('#pg-source', { label: example.name });
  await page.selectOption('#pg-format', 'Json');
  await page.fill('#pg-profile', secretsProfile);
  await page.fill('#pg-owner', owner);
  await page.fill('#pg-input', input);
  return sendAndSettle(account);
}

/** Sends what the playground holds as `account`; returns the settlement as the page shows it. */
async function sendAndSettle(account) {
  await page.waitForSelector('[data-testid=estimate-parts]');
  const estimateText = await page.textContent('[data-testid=estimate] strong');
  const estimateParts = amounts(await page.textContent('[data-testid=estimate-parts]'));
  // A request sent before on this page stays shown until this one starts.
  const before = (await page.$('#run-h a')) ? await page.textContent('#run-h a') : null;
  await page.getByRole('button', { name: new RegExp(`^Send request as ${account.replace(/\./g, '\\.')}$`) }).click();
  await page.waitForFunction(
    (previous) => {
      const link = document.querySelector('#run-h a');
      return document.querySelector('[data-testid=settlement]') !== null && link !== null && link.textContent !== previous;
    },
    before,
    { timeout: SETTLE_MS },
  );
  const text = async (id) => (await page.textContent(`[data-testid=${id}]`))?.trim() ?? '';
  const requestLink = await page.textContent('#run-h a');
  const chargeParts = (await page.$('[data-testid=charge-parts]')) ? amounts(await page.textContent('[data-testid=charge-parts]')) : null;
  return {
    estimateParts,
    chargeParts,
    estimate: parseNear(estimateText),
    requestId: Number(requestLink.replace('#', '')),
    tx: (await page.textContent('.run code'))?.trim(),
    result: await text('result'),
    output: (await page.$('[data-testid=output]')) ? await text('output') : null,
    failure: (await page.$('[data-testid=failure]')) ? await text('failure') : null,
    paid: parseNear(await text('paid')),
    charged: parseNear(await text('charged')),
    refunded: parseNear(await text('refunded')),
  };
}

/** The execution_completed event of a transaction, read from the chain here. */
async function completedOnChain(tx, sender) {
  const outcome = await rpc('tx', { tx_hash: tx, sender_account_id: sender, wait_until: 'FINAL' });
  for (const o of outcome.receipts_outcome) {
    for (const line of o.outcome.logs) {
      if (line.startsWith('EVENT_JSON:') && line.includes('"execution_completed"')) return JSON.parse(line.slice(11)).data[0];
    }
  }
  throw new Error(`no execution_completed in ${tx}`);
}

const INPUT = 'hello from the dashboard';
const maxCost = await view('estimate_execution_cost', {
  resource_limits: { max_instructions: 1_000_000_000, max_memory_mb: 128, max_execution_seconds: 60 },
  input_bytes: Buffer.byteLength(INPUT),
});
const SECRET_VALUE = 'dashboard-secret-e2e-42';
const PROFILE = `e2e${Date.now() % 100000}`;

const HELLO_JS = readFileSync(join(here, '..', '..', 'examples', 'js', 'hello.js'), 'utf8');
const sha256Hex = (text) => createHash('sha256').update(text, 'utf8').digest('hex');
const DEFAULT_LIMITS = { max_instructions: 1_000_000_000, max_memory_mb: 128, max_execution_seconds: 60 };

/** Fills the playground with inline JavaScript (an example's name, or code typed in) and sends it. */
async function playgroundJs({ account, example: scriptExample, code, input = '', profile: secretsProfile = '', owner = '' }) {
  await go('playground');
  await actAs(account);
  await page.selectOption('#pg-source', { label: 'JavaScript (inline)' });
  if (scriptExample) await page.selectOption('#pg-js-example', { label: scriptExample });
  else await page.fill('#pg-js', code);
  await page.selectOption('#pg-format', 'Json');
  await page.fill('#pg-profile', secretsProfile);
  await page.fill('#pg-owner', owner);
  await page.fill('#pg-input', input);
  return sendAndSettle(account);
}

// ---- the tests
await test('the overview shows the coordinator and contract numbers', async () => {
  await go('');
  await page.waitForSelector('[data-testid=workers-active]');
  await page.waitForSelector('[data-testid=chain-total]');
  const stats = await coordinator('/public/stats');
  const chainStats = await view('get_stats', {});
  assert(stats.workers_active >= 1, 'no active worker in the stack');
  eq(await page.textContent('[data-testid=workers-active]'), String(stats.workers_active), 'active workers');
  eq(await page.textContent('[data-testid=requests-total]'), stats.requests_total.toLocaleString('en-US'), 'coordinator requests');
  eq(await page.textContent('[data-testid=chain-total]'), chainStats.total_requests.toLocaleString('en-US'), 'contract requests');
  assert((await page.$('[data-testid=health-banner]')) === null, 'the health banner shows on a healthy stack');
  await shot('overview-fresh');
  await accessible('overview');
});

let plain;
await test('a playground request reaches settled and shows its output, charge and exact refund', async () => {
  plain = await playground({ account: alice, input: INPUT });
  eq(plain.result, 'success', 'result');
  eq(plain.estimate, BigInt(maxCost), 'the estimate shown is the contract estimate');
  eq(plain.estimateParts.length, 5, 'the estimate is split in base, instructions, time, build, input storage');
  eq(sum(plain.estimateParts), BigInt(maxCost), 'the parts of the estimate add up to it');
  eq(plain.estimateParts[4], BigInt(Buffer.byteLength(INPUT)) * 10n ** 19n, 'input storage at 10^19 yoctoNEAR a byte');
  eq(plain.paid, BigInt(maxCost), 'paid the estimate');
  const output = JSON.parse(plain.output);
  eq(JSON.stringify(output.secrets), '[]', 'no secrets without a profile');
  eq(output.context.sender_id, alice, 'the program saw the sender');
  eq(output.context.request_id, plain.requestId, 'the program saw the request id');
  const onChain = await completedOnChain(plain.tx, alice);
  eq(onChain.success, true, 'settled as a success on chain');
  eq(plain.charged, BigInt(onChain.charged), 'charge shown = charge on chain');
  eq(plain.refunded, BigInt(onChain.refunded), 'refund shown = refund on chain');
  eq(plain.charged + plain.refunded, plain.paid, 'charged + refunded = paid');
  assert(plain.chargeParts, 'the charge is split into its parts');
  eq(sum(plain.chargeParts), plain.charged, 'the parts of the charge add up to it');
  const pricing = (await view('get_config', {})).pricing;
  eq(plain.chargeParts[0], BigInt(pricing.base_fee), 'the base fee');
  eq(plain.chargeParts[1], (BigInt(onChain.resources_used.instructions) * BigInt(pricing.per_million_instructions)) / 1_000_000n, 'instructions at the contract price');
  assert(plain.refunded > 0n && plain.charged > 0n, 'both a charge and a refund');
  await page.waitForSelector('.steps li.current:text("Settled")');
  await shot('playground-settled');
  await accessible('playground');
});

await test('the playground refuses before paying what the contract would refuse, with its messages', async () => {
  await go('playground');
  await actAs(alice);
  const source = JSON.parse(JSON.stringify(example.source));
  source.GitPackage.commit = '-x';
  await page.fill('#pg-code', JSON.stringify(source));
  await waitText(
    '[data-testid=source-status]',
    'invalid code_source: commit "-x" is neither a full commit hash nor a branch or tag name (1-255 of A-Z a-z 0-9 - _ . / +, not starting with - / or .)',
  );
  assert(await page.isDisabled('button[type=submit]'), 'send is disabled');
  await page.selectOption('#pg-source', { label: example.name });
  await page.waitForSelector('[data-testid=estimate] strong');
  assert(!(await page.isDisabled('button[type=submit]')), 'send is enabled again');
  // The estimate comes from the contract: its refusal is shown as it says it.
  const cap = (await view('get_config', {})).max_limits.max_instructions;
  await page.getByLabel('Instructions').fill(String(cap + 1));
  await waitText('[data-testid=estimate]', `Estimate refused: invalid resource_limits: max_instructions ${cap + 1} is above the cap ${cap}`);
  assert(await page.isDisabled('button[type=submit]'), 'send is disabled above the cap');
  await page.fill('#pg-profile', 'bad.profile');
  await waitText('[data-testid=problems] li', 'invalid secrets_ref: profile name "bad.profile" must be 1-64 characters of [A-Za-z0-9_-]');
  await shot('playground-refused-before-paying');
});

await test('the execution detail shows the timeline, result and settlement of that request', async () => {
  assert(plain, 'needs the playground request');
  await go(`executions/${plain.requestId}`);
  await page.waitForSelector('[data-testid=settled]');
  const settled = await page.textContent('[data-testid=settled]');
  assert(settled.includes('success'), `settled line: ${settled}`);
  await page.waitForSelector('[data-testid=run-step]:has-text("Run completed")');
  const body = await page.textContent('main');
  assert(body.includes('Build completed') || body.includes('Build: none'), 'the build step is shown');
  assert(body.includes('Run completed'), 'the run step is shown');
  assert(body.includes(plain.tx), 'the transaction is shown');
  // The coordinator's view of the request: its transaction, worker and times.
  const detail = await coordinator(`/public/requests/${plain.requestId}`);
  eq(detail.timeline.requested.transaction_hash, plain.tx, 'the coordinator knows the request transaction');
  eq(detail.status, 'completed', 'the coordinator status');
  const run = await page.textContent('[data-testid=run-step]');
  assert(run.includes(detail.timeline.run.worker_id), `the run step names its worker: ${run}`);
  assert(/waited .*, took /.test(run), `the run step shows queue wait and run time: ${run}`);
  // The worker reported its resolve transaction, the monitor the settlement,
  // exactly as the contract's execution_completed has it.
  const onChain = await completedOnChain(plain.tx, alice);
  let full = detail;
  for (let i = 0; i < 50 && !full.timeline.settled; i++) {
    await new Promise((r) => setTimeout(r, 200));
    full = await coordinator(`/public/requests/${plain.requestId}`);
  }
  assert(full.timeline.resolve && /^[1-9A-HJ-NP-Za-km-z]{32,44}$/.test(full.timeline.resolve.tx_hash), 'the resolve transaction is recorded');
  eq(JSON.stringify(full.timeline.settled && [full.timeline.settled.success, full.timeline.settled.charged, full.timeline.settled.refunded]),
    JSON.stringify([onChain.success, onChain.charged, onChain.refunded]), 'the recorded settlement is the contract\'s');
  // The settlement beside the coordinator's status, with the time it was recorded.
  eq(full.status, 'completed', 'the coordinator status stays the jobs\' view');
  eq(full.settled_success, true, 'settled_success');
  assert(full.settled_at_ms >= full.created_at_ms, `settled_at_ms ${full.settled_at_ms} after created_at_ms ${full.created_at_ms}`);
  await page.waitForSelector(`[data-testid=resolve-step]:has-text("${full.timeline.resolve.tx_hash}")`);
  await waitText('[data-testid=request-status]', 'settled (success)');
  await page.waitForSelector('[data-testid=settled]:has-text("after the request")');
  await shot('execution-detail');
  await accessible('execution detail');
  await go('executions');
  const link = `a[href="#/executions/${plain.requestId}"]`;
  const row = `[data-testid=execution-row] ${link}`;
  await page.waitForSelector(row);
  eq(
    (await page.locator('[data-testid=execution-row]', { has: page.locator(link) }).locator('[data-testid=execution-status]').textContent()).trim(),
    'settled (success)',
    'the list shows the request settled',
  );
  // The status filter is what the list shows: settled requests are not
  // "completed" (finished by the workers, waiting for the contract).
  /** Picks a status and waits for the coordinator's answer to the query it makes. */
  const byStatus = async (status, query) => {
    const answered = page.waitForResponse((r) => r.url().includes(`/public/requests?${query}&`) && r.ok());
    await page.getByLabel('Status').selectOption(status);
    await answered;
    await page.waitForFunction(() => document.querySelector('main .loading') === null);
  };
  await byStatus('failed', 'status=failed&settled=false');
  assert((await page.$(row)) === null, 'the failed filter hides a settled success');
  await byStatus('completed', 'status=completed&settled=false');
  assert((await page.$(row)) === null, 'the completed filter hides a settled request');
  await byStatus('settled (failure)', 'settled=failure');
  assert((await page.$(row)) === null, 'the settled (failure) filter hides a success');
  await byStatus('settled (success)', 'settled=success');
  await page.waitForSelector(row);
  const shown = await page.$$eval('[data-testid=execution-status]', (els) => [...new Set(els.map((e) => e.textContent.trim()))]);
  eq(JSON.stringify(shown), JSON.stringify(['settled (success)']), 'the settled (success) filter lists settled successes only');
  await shot('executions');
  await accessible('executions');
  await page.getByLabel('Status').selectOption('');
});

await test('the workers page lists the stack worker with its heartbeat and jobs', async () => {
  const workers = await coordinator('/public/workers');
  await go('workers');
  await page.waitForSelector('[data-testid=worker-row]');
  const rows = await page.$$eval('[data-testid=worker-row] th', (ths) => ths.map((t) => t.textContent));
  eq(JSON.stringify(rows.sort()), JSON.stringify(workers.map((w) => w.worker_id).sort()), 'workers listed');
  const first = await page.textContent('[data-testid=worker-row]');
  assert(/ago|just now/.test(first), `heartbeat shown: ${first}`);
  // All-time counts from the coordinator, not a window of recent jobs.
  assert(workers.some((w) => w.jobs_completed >= 1), 'a worker completed jobs');
  const expected = workers.map((w) => String(w.jobs_completed)).sort().join(',');
  await page.waitForFunction(
    (want) => [...document.querySelectorAll('[data-testid=worker-completed]')].map((t) => t.textContent).sort().join(',') === want,
    expected,
  );
  await shot('workers');
  await accessible('workers');
});

await test('the form refuses reserved names and invalid conditions as the contract does', async () => {
  await go('secrets');
  await actAs(alice);
  await page.fill('#secret-name-0', 'NEAR_SENDER_ID');
  await page.waitForSelector('text="NEAR_SENDER_ID" is reserved by the runtime (NEAR_*, OUTLAYER_*, TZ, LANG)');
  assert(await page.isDisabled('#store-secrets'), 'store is disabled with a reserved name');
  await page.fill('#secret-name-0', 'API_KEY');
  await page.fill('#secret-value-0', 'x');
  await page.selectOption('#access-kind', 'Whitelist');
  await page.waitForSelector('text=invalid access condition: Whitelist needs at least one account');
  assert(await page.isDisabled('#store-secrets'), 'store is disabled with an empty whitelist');
  await page.fill('#access-accounts', 'Alice.near');
  await page.waitForSelector(`text=Whitelist account "Alice.near": the Account ID contains an invalid character 'A' at index 0`);
  await page.fill('#access-accounts', alice);
  await page.waitForSelector('text=The contract accepts this condition.');
  assert(!(await page.isDisabled('#store-secrets')), 'store is enabled once valid');
  // Nested: and(NEAR balance, not(NFT)), each rule shown where it breaks.
  await page.selectOption('#access-kind', 'Logic');
  await waitText('[data-testid=access-status]', 'invalid access condition: Logic needs at least one condition');
  await page.click('#access-add');
  await page.selectOption('#access-0-kind', 'NearBalance');
  await page.fill('#access-0-value', '1.5');
  await waitText('[data-testid=access-status]', 'NearBalance value must be a whole number (decimal digits)');
  await page.fill('#access-0-value', '1000000000000000000000000');
  await page.click('#access-add');
  await page.selectOption('#access-1-kind', 'Not');
  await page.selectOption('#access-1-0-kind', 'NftOwned');
  await page.fill('#access-1-0-contract', 'nft.test.near');
  await page.fill('#access-1-0-token', 'x'.repeat(257));
  await waitText('[data-testid=access-status]', 'invalid access condition: NftOwned token_id must be 1-256 bytes');
  assert(await page.isDisabled('#store-secrets'), 'store is disabled while the condition is invalid');
  await page.fill('#access-1-0-token', '');
  await waitText('[data-testid=access-status]', 'The contract accepts this condition.');
  await accessible('secrets form');
});

await test('a secret stored through the page is decrypted for an allowed caller and refused for another', async () => {
  await go('secrets');
  await actAs(alice);
  const repo = example.source.GitPackage.repo;
  eq(await page.inputValue('#secret-repo'), repo, 'the accessor defaults to the example repository');
  await page.fill('#secret-profile', PROFILE);
  await page.fill('#secret-name-0', 'API_KEY');
  await page.fill('#secret-value-0', SECRET_VALUE);
  await page.selectOption('#access-kind', 'Whitelist');
  await page.fill('#access-accounts', alice);
  await page.click('#store-secrets');
  await page.waitForSelector('[data-testid=store-status]:has-text("Stored profile")', { timeout: 60_000 });
  const status = await page.textContent('[data-testid=store-status]');
  // The chain holds a blob of exactly 61 + plaintext bytes and the whitelist.
  const record = await view('get_secrets', { accessor: { Repo: { repo, branch: null } }, profile: PROFILE, owner: alice });
  assert(record, 'the profile is on chain');
  const plaintext = JSON.stringify({ API_KEY: SECRET_VALUE });
  eq(Buffer.from(record.encrypted_secrets_base64, 'base64').length, 61 + plaintext.length, 'blob length');
  assert(!record.encrypted_secrets_base64.includes(Buffer.from(SECRET_VALUE).toString('base64')), 'no plaintext in the blob');
  eq(JSON.stringify(record.access), JSON.stringify({ Whitelist: { accounts: [alice] } }), 'access on chain');
  const deposit = BigInt(record.storage_deposit);
  assert(deposit > 0n, 'a storage deposit is held');
  const shown = /storage deposit (.*NEAR)\./.exec(status);
  assert(shown, `status: ${status}`);
  eq(parseNear(shown[1]), deposit, 'the deposit shown is the one the contract holds');
  await page.waitForSelector(`[data-testid=secret-row]:has-text("${PROFILE}")`);
  await shot('secrets');
  await accessible('secrets');

  const allowed = await playground({ account: alice, profile: PROFILE, owner: alice });
  eq(allowed.result, 'success', 'alice, whitelisted, gets her secret');
  const output = JSON.parse(allowed.output);
  eq(output.secrets.length, 1, 'one secret');
  eq(output.secrets[0].name, 'API_KEY', 'the program saw the secret by name');
  eq(output.secrets[0].length, SECRET_VALUE.length, 'and its value, decrypted, of the stored length');
  eq(allowed.charged + allowed.refunded, allowed.paid, 'charged + refunded = paid');

  const refused = await playground({ account: bob, profile: PROFILE, owner: alice });
  eq(refused.result, 'failed', 'bob is not whitelisted');
  assert(refused.failure.startsWith('access_denied'), `failure: ${refused.failure}`);
  const onChain = await completedOnChain(refused.tx, bob);
  eq(onChain.success, false, 'settled as a failure on chain');
  eq(refused.charged, BigInt(onChain.charged), 'charge shown = charge on chain');
  const config_ = await view('get_config', {});
  eq(refused.charged, BigInt(config_.pricing.base_fee), 'a failure costs the base fee');
  eq(refused.refunded, refused.paid - refused.charged, 'the rest is refunded');
  await shot('playground-access-denied');
  // The detail page names the category and the message.
  await go(`executions/${refused.requestId}`);
  await page.waitForSelector('[data-testid=job-error]:has-text("access_denied")');
  await page.waitForSelector(`[data-testid=settled]:has-text("failure: ${refused.failure}")`);
  await shot('execution-detail-access-denied');
});

await test('executions filter by status, account and source', async () => {
  await go('executions');
  await page.waitForSelector('[data-testid=execution-row]');
  const ids = async () => page.$$eval('[data-testid=execution-row] th a', (as) => as.map((a) => a.textContent));
  const all = await ids();
  assert(all.length >= 3, `three requests listed: ${all}`);
  await page.getByLabel('Account').fill(bob);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=execution-row]').length === 1);
  const bobs = await page.$$eval('[data-testid=execution-row] td:nth-child(3)', (tds) => tds.map((t) => t.textContent));
  eq(JSON.stringify(bobs), JSON.stringify([bob]), 'only bob\'s request');
  await page.getByLabel('Status').selectOption('completed');
  await page.waitForSelector('text=No execution matches these filters.');
  await page.getByLabel('Status').selectOption('');
  await page.getByLabel('Account').fill('');
  await page.getByLabel('Source').fill('examples/secrets-env');
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=execution-row]').length === n, all.length);
  await page.getByLabel('Source').fill('examples/echo');
  await page.waitForSelector('text=No execution matches these filters.');
  await page.getByLabel('Source').fill('');
  // The coordinator filters; a partial account is refused before asking it.
  const served = await coordinator(`/public/requests?account=${bob}`);
  eq(served.requests.length, 1, 'the coordinator finds bob\'s request');
  await page.getByLabel('Account').fill('Bob');
  await page.waitForSelector('[data-testid=account-filter-error]');
  await page.getByLabel('Account').fill('');
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=execution-row]').length === n, all.length);
});

await test('update access and delete through the page', async () => {
  await go('secrets');
  await actAs(alice);
  const row = page.locator('[data-testid=secret-row]', { hasText: PROFILE });
  await row.getByRole('button', { name: 'Edit access' }).click();
  const edit = `#edit-${PROFILE}`;
  await page.selectOption(`${edit}-kind`, 'Logic');
  await page.click(`${edit}-add`);
  await page.selectOption(`${edit}-0-kind`, 'NearBalance');
  await page.fill(`${edit}-0-value`, '1000000000000000000000000');
  await page.click(`${edit}-add`);
  await page.selectOption(`${edit}-1-kind`, 'Not');
  await page.selectOption(`${edit}-1-0-kind`, 'NftOwned');
  await page.fill(`${edit}-1-0-contract`, 'nft.test.near');
  await page.getByRole('button', { name: 'Save access' }).click();
  await page.waitForSelector(`[data-testid=secret-row]:has-text("${PROFILE}"):has-text("not (owns an NFT of nft.test.near)")`, { timeout: 60_000 });
  const repo = example.source.GitPackage.repo;
  const record = await view('get_secrets', { accessor: { Repo: { repo, branch: null } }, profile: PROFILE, owner: alice });
  eq(
    JSON.stringify(record.access),
    JSON.stringify({
      Logic: {
        operator: 'And',
        conditions: [
          { NearBalance: { operator: 'Gte', value: '1000000000000000000000000' } },
          { Not: { condition: { NftOwned: { contract: 'nft.test.near', token_id: null } } } },
        ],
      },
    }),
    'the nested condition built in the page is what the contract stored',
  );
  page.once('dialog', (d) => d.accept());
  await row.getByRole('button', { name: 'Delete' }).click();
  await page.waitForSelector(`[data-testid=secret-row]:has-text("${PROFILE}")`, { state: 'detached', timeout: 60_000 });
  eq(await view('get_secrets', { accessor: { Repo: { repo, branch: null } }, profile: PROFILE, owner: alice }), null, 'deleted on chain');
});

let jsRun;
await test('inline JavaScript (examples/js/hello.js) sent from the playground settles with its output, charge and refund', async () => {
  const hash = sha256Hex(HELLO_JS);
  const expected = BigInt(
    await view('estimate_execution_cost', { resource_limits: DEFAULT_LIMITS, input_bytes: Buffer.byteLength('NEAR') + Buffer.byteLength(HELLO_JS) }),
  );
  await go('playground');
  await actAs(alice);
  await page.selectOption('#pg-source', { label: 'JavaScript (inline)' });
  await page.selectOption('#pg-js-example', { label: 'examples/js/hello.js' });
  eq(await page.inputValue('#pg-js'), HELLO_JS, 'the editor holds this checkout\'s examples/js/hello.js');
  await page.getByLabel('JavaScript code').waitFor();
  await waitText('[data-testid=script-hash]', hash);
  // What the contract would refuse is refused here first, with its message.
  await page.fill('#pg-js', 'x'.repeat(4095));
  await waitText(
    '[data-testid=source-status]',
    'invalid code_source: code takes 4097 bytes as a JSON string, above the cap 4096; put larger scripts in a repository',
  );
  assert(await page.isDisabled('button[type=submit]'), 'send is disabled above the cap');
  await page.fill('#pg-js', 'x'.repeat(4094));
  await page.waitForSelector('[data-testid=script-hash]');
  assert(!(await page.isDisabled('button[type=submit]')), 'send is enabled at the cap');

  jsRun = await playgroundJs({ account: alice, example: 'examples/js/hello.js', input: 'NEAR' });
  eq(jsRun.result, 'success', `result (failure: ${jsRun.failure})`);
  assert(jsRun.output.includes('Hello, NEAR!'), `output: ${jsRun.output}`);
  eq(JSON.parse(jsRun.output).greeting, 'Hello, NEAR!', 'the greeting');
  // The code is paid like input: the estimate is the contract's for input + code bytes.
  eq(jsRun.estimate, expected, 'the estimate counts the code bytes');
  eq(jsRun.estimateParts.length, 5, 'the estimate is split in base, instructions, time, build, storage');
  eq(sum(jsRun.estimateParts), expected, 'the parts of the estimate add up to it');
  eq(jsRun.estimateParts[4], BigInt(4 + Buffer.byteLength(HELLO_JS)) * 10n ** 19n, 'storage of the input and the code');
  eq(jsRun.paid, expected, 'paid the estimate');
  eq(jsRun.charged + jsRun.refunded, jsRun.paid, 'charged + refunded = paid');
  assert(jsRun.charged > 0n && jsRun.refunded > 0n, 'both a charge and a refund');
  const onChain = await completedOnChain(jsRun.tx, alice);
  eq(onChain.success, true, 'settled as a success on chain');
  eq(jsRun.charged, BigInt(onChain.charged), 'charge shown = charge on chain');
  eq(jsRun.refunded, BigInt(onChain.refunded), 'refund shown = refund on chain');
  await page.waitForSelector('.steps li.current:text("Settled")');
  await shot('playground-javascript-settled');
  await accessible('playground (inline JavaScript)');

  // The detail shows the kind, the hash and the code itself.
  await go(`executions/${jsRun.requestId}`);
  await page.waitForSelector('[data-testid=source-code]');
  eq(await page.textContent('[data-testid=source-code]'), HELLO_JS, 'the code, as sent');
  eq((await page.textContent('[data-testid=source-hash]')).trim(), hash, 'its SHA-256');
  assert((await page.textContent('[data-testid=source-kind]')).includes('JavaScript (inline)'), 'its kind');
  await page.waitForSelector('[data-testid=settled]:has-text("success")');
  await shot('execution-detail-javascript');
  await accessible('execution detail (inline JavaScript)');

  // The source filter finds it by javascript:<sha256>, not by its text.
  await go('executions');
  const link = `[data-testid=execution-row] a[href="#/executions/${jsRun.requestId}"]`;
  await page.waitForSelector(link);
  await page.getByLabel('Source').fill('javascript:');
  await page.waitForSelector(link);
  const sources = await page.$$eval('[data-testid=execution-row] td:nth-child(4)', (tds) => tds.map((t) => t.textContent));
  assert(sources.length >= 1 && sources.every((t) => t.startsWith('JavaScript (inline)')), `only inline JavaScript: ${JSON.stringify(sources)}`);
  assert(sources.some((t) => t.includes(hash.slice(0, 12))), `the hash is shown: ${JSON.stringify(sources)}`);
  await page.getByLabel('Source').fill(`javascript:${hash}`);
  await page.waitForSelector(link);
  await page.getByLabel('Source').fill('Hello');
  await page.waitForSelector('text=No execution matches these filters.');
  await page.getByLabel('Source').fill('');
});

await test('a JavaScript file in a repository (examples/js/hello.js) sent from the playground reaches settled with its output and refund', async () => {
  const expected = BigInt(await view('estimate_execution_cost', { resource_limits: DEFAULT_LIMITS, input_bytes: Buffer.byteLength('NEAR') }));
  await go('playground');
  await actAs(alice);
  await page.selectOption('#pg-source', { label: 'JavaScript file in a repository' });
  // Prefilled with this checkout's examples/js/hello.js, at the commit outlayer dev offers its examples.
  eq(await page.inputValue('#pg-gs-repo'), example.source.GitPackage.repo, 'the local example repository');
  eq(await page.inputValue('#pg-gs-commit'), example.source.GitPackage.commit, 'the examples\' commit');
  eq(await page.inputValue('#pg-gs-path'), 'examples/js/hello.js', 'the script\'s path');
  await page.selectOption('#pg-format', 'Json');
  await page.fill('#pg-profile', '');
  await page.fill('#pg-owner', '');
  await page.fill('#pg-input', 'NEAR');
  const run = await sendAndSettle(alice);
  eq(run.result, 'success', `result (failure: ${run.failure})`);
  eq(JSON.parse(run.output).greeting, 'Hello, NEAR!', 'the greeting');
  // The file is read from the repository: the deposit counts the input only.
  eq(run.estimate, expected, 'the estimate counts the input only');
  eq(run.paid, expected, 'paid the estimate');
  assert(run.charged > 0n && run.refunded > 0n, 'both a charge and a refund');
  eq(run.charged + run.refunded, run.paid, 'charged + refunded = paid');
  const onChain = await completedOnChain(run.tx, alice);
  eq(onChain.success, true, 'settled as a success on chain');
  eq(run.charged, BigInt(onChain.charged), 'charge shown = charge on chain');
  eq(run.refunded, BigInt(onChain.refunded), 'refund shown = refund on chain');
  await page.waitForSelector('.steps li.current:text("Settled")');
  await shot('playground-gitscript-settled');
  await accessible('playground (JavaScript file in a repository)');

  // The detail: its kind, repository, commit and path, settled with its refund.
  await go(`executions/${run.requestId}`);
  await waitText('[data-testid=source-kind]', 'JavaScript file');
  eq((await page.textContent('[data-testid=source-repo]')).trim(), example.source.GitPackage.repo, 'its repository');
  eq((await page.textContent('[data-testid=source-path]')).trim(), 'examples/js/hello.js', 'its path');
  await waitText('[data-testid=request-status]', 'settled (success)', SETTLE_MS);
  eq(parseNear(await page.textContent('[data-testid=settled-charged]')), run.charged, 'the charge in the detail');
  const detail = await coordinator(`/public/requests/${run.requestId}`);
  eq(detail.timeline.settled.refunded, onChain.refunded, 'the recorded refund');
  assert(detail.settled_at_ms >= detail.created_at_ms, 'the settlement time is recorded');
  await shot('execution-detail-gitscript');
  await accessible('execution detail (JavaScript file in a repository)');
});

await test('secrets bound to inline JavaScript through the page are read by that script alone', async () => {
  const code = 'outlayer.output({ key: process.env.JS_KEY ?? null });\n';
  const hash = sha256Hex(code);
  const jsProfile = `jsprofile${Date.now() % 100000}`;
  const value = 'js-secret-from-the-dashboard';
  await go('secrets');
  await actAs(alice);
  await page.getByRole('radio', { name: 'Inline JavaScript' }).check();
  await page.fill('#secret-js', 'outlayer.output(1)');
  await waitText('[data-testid=accessor-status]', 'Bound to wasm 8975f37e1fad0365be6a5eb49d5c1e72f92721da7ec1b0b8f3559dc7fedaf037, the SHA-256 of this script');
  await page.fill('#secret-js', code);
  await waitText('[data-testid=accessor-status]', `Bound to wasm ${hash}, the SHA-256 of this script`);
  await page.fill('#secret-profile', jsProfile);
  await page.fill('#secret-name-0', 'JS_KEY');
  await page.fill('#secret-value-0', value);
  await page.click('#store-secrets');
  await page.waitForSelector('[data-testid=store-status]:has-text("Stored profile")', { timeout: 60_000 });
  const record = await view('get_secrets', { accessor: { WasmHash: { hash } }, profile: jsProfile, owner: alice });
  assert(record, 'the profile is on chain under the code\'s hash');
  await shot('secrets-javascript');

  const allowed = await playgroundJs({ account: alice, code, profile: jsProfile, owner: alice });
  eq(allowed.result, 'success', `result (failure: ${allowed.failure})`);
  eq(JSON.parse(allowed.output).key, value, 'the script read its secret');
  eq(allowed.charged + allowed.refunded, allowed.paid, 'charged + refunded = paid');
  // One byte more is another program: no secrets for it.
  const other = await playgroundJs({ account: alice, code: code + ' ', profile: jsProfile, owner: alice });
  assert(
    other.result === 'failed' || JSON.parse(other.output).key === null,
    `another script read the secret: request ${other.requestId} (${other.tx}; the allowed one ${allowed.requestId}, ${allowed.tx}): ${other.result}, output ${other.output}, failure ${other.failure}`,
  );
  eq(other.charged + other.refunded, other.paid, 'charged + refunded = paid');

  await go('secrets');
  await actAs(alice);
  const row = page.locator('[data-testid=secret-row]', { hasText: jsProfile });
  page.once('dialog', (d) => d.accept());
  await row.getByRole('button', { name: 'Delete' }).click();
  await page.waitForSelector(`[data-testid=secret-row]:has-text("${jsProfile}")`, { state: 'detached', timeout: 60_000 });
});

await test('the overview counts the requests made above', async () => {
  await go('');
  const stats = await coordinator('/public/stats');
  assert(stats.requests_total >= 1, 'the coordinator counted requests');
  await page.waitForFunction(
    (n) => document.querySelector('[data-testid=requests-total]')?.textContent === n,
    stats.requests_total.toLocaleString('en-US'),
  );
  const instructions = Number((await page.textContent('[data-testid=instructions-used]')).replace(/,/g, ''));
  assert(instructions > 0, 'instructions used are shown');
  const now = await coordinator('/public/stats');
  assert(instructions <= now.instructions_total && instructions >= stats.instructions_total, 'instructions are the coordinator total');
  eq(
    Object.values(now.failures_by_category).reduce((a, b) => a + b, 0),
    now.requests_failed,
    'failures by category add up to the failed requests',
  );
  // Recent requests: how many settled, their request → settlement latency
  // (all of them here were settled with the time recorded), the outcome mix.
  const listed = (await coordinator('/public/requests?limit=200')).requests;
  const settled = listed.filter((r) => r.settled_success != null);
  assert(settled.length >= 3, `settled requests: ${settled.length}`);
  assert(settled.every((r) => r.settled_at_ms >= r.created_at_ms), 'every settlement has its time');
  await waitText('[data-testid=recent-settled]', `${settled.length} of ${listed.length}`);
  assert(/^\d+(\.\d)? (ms|s|min)$/.test(await page.textContent('[data-testid=median-settlement]')), 'a median request → settlement time');
  /** A chart's bars, from the table beside it: {label: value}. */
  const chart = async (caption) =>
    page.$$eval(
      'table.visually-hidden',
      (tables, want) => {
        const table = tables.find((t) => t.querySelector('caption')?.textContent === want);
        if (!table) throw new Error(`no chart "${want}"`);
        return Object.fromEntries([...table.querySelectorAll('tr')].map((tr) => [tr.querySelector('th').textContent, Number.parseInt(tr.querySelector('td').textContent, 10)]));
      },
      caption,
    );
  const latency = await chart('Latency from request to settlement');
  eq(Object.values(latency).reduce((a, b) => a + b, 0), settled.length, 'the latency chart counts every settled request');
  const mix = await chart('Outcome mix: settled (success, failure), not settled yet (completed, failed, running)');
  eq(mix.success, settled.filter((r) => r.settled_success).length, 'settled successes in the outcome mix');
  eq(mix.failure, settled.filter((r) => r.settled_success === false).length, 'settled failures in the outcome mix');
  eq(Object.values(mix).reduce((a, b) => a + b, 0), listed.length, 'the outcome mix counts every request');
  const perMinute = await chart('Requests per minute (last 30 minutes)');
  const recent = listed.filter((r) => r.created_at_ms >= Date.now() - 29 * 60_000).length;
  assert(Object.values(perMinute).reduce((a, b) => a + b, 0) >= recent, 'requests per minute counts the recent requests');
  await shot('overview');
});

async function withConfig(patch, fn) {
  const errorPage = await context.newPage();
  await errorPage.route('**/config.json', (route) => route.fulfill({ json: { ...config, ...patch } }));
  try {
    await fn(errorPage);
  } finally {
    await errorPage.close();
  }
}

await test('an error state appears when the coordinator is unreachable', async () => {
  const closed = `http://127.0.0.1:${await freePort()}`;
  await withConfig({ coordinator_url: closed }, async (p) => {
    await p.goto(new URL('#/', BASE).toString());
    await p.waitForSelector('[data-testid=error-coordinator]');
    const text = await p.textContent('[data-testid=error-coordinator]');
    assert(text.includes('Coordinator unreachable') && text.includes(closed), `error box: ${text}`);
    await p.waitForSelector(`[data-testid=health-banner]:has-text("${closed}")`);
    // The chain still answers: its numbers are shown.
    await p.waitForSelector('[data-testid=chain-total]');
    await p.screenshot({ path: join(OUT, 'error-coordinator-down.png'), fullPage: true });
    await p.goto(new URL('#/workers', BASE).toString());
    await p.waitForSelector('[data-testid=error-coordinator]');
  });
});

await test('an error state appears when the chain is unreachable', async () => {
  const closed = `http://127.0.0.1:${await freePort()}`;
  await withConfig({ rpc_url: closed }, async (p) => {
    await p.goto(new URL('#/', BASE).toString());
    await p.waitForSelector('[data-testid=error-chain]', { timeout: 30_000 });
    const text = await p.textContent('[data-testid=error-chain]');
    assert(text.includes('Chain unreachable') && text.includes(closed), `error box: ${text}`);
    await p.waitForSelector('[data-testid=workers-active]');
    await p.screenshot({ path: join(OUT, 'error-chain-down.png'), fullPage: true });
  });
});

await test('on testnet the page offers a wallet and never the development keys', async () => {
  await withConfig({ network: 'testnet' }, async (p) => {
    const errors = [];
    p.on('pageerror', (e) => errors.push(String(e)));
    await p.goto(new URL('#/playground', BASE).toString());
    await p.getByRole('button', { name: 'Connect wallet' }).waitFor();
    assert((await p.$('header select')) === null, 'no development account picker');
    await p.waitForSelector('text=Connect a wallet (top right) to send requests.');
    assert(await p.isDisabled('button[type=submit]'), 'sending is disabled without a wallet');
    // Reading still works without a wallet.
    await p.goto(new URL('#/', BASE).toString());
    await p.waitForSelector('[data-testid=workers-active]');
    eq(JSON.stringify(errors), '[]', 'page errors');
    await p.screenshot({ path: join(OUT, 'testnet-no-wallet.png'), fullPage: true });
  });
});

await test('the pages are usable from the keyboard', async () => {
  await go('');
  await page.keyboard.press('Tab');
  eq(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content', 'first stop');
  await page.keyboard.press('Tab');
  eq(await page.evaluate(() => document.activeElement?.textContent), 'Overview', 'then the navigation');
  for (let i = 0; i < 4; i++) await page.keyboard.press('Tab');
  eq(await page.evaluate(() => document.activeElement?.textContent), 'Playground', 'the last page link');
  await page.keyboard.press('Enter');
  await page.waitForSelector('main h1:text("Playground")');
});

writeFileSync(join(OUT, 'axe.json'), JSON.stringify(axeReport, null, 2));
await context.close();
rmSync(profile, { recursive: true, force: true });

await test('no request left loopback, no page error was thrown, no content security policy was violated', async () => {
  eq(JSON.stringify(offLoopback), '[]', 'requests off loopback');
  eq(JSON.stringify(consoleErrors), '[]', 'uncaught page errors');
});
await new Promise((r) => setTimeout(r, 10));
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`\ndashboard-e2e: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
