/**
 * `procctl ui` in a real browser: Debian's chromium driven by playwright-core, headless, against a
 * `procctl ui` child process over a filesystem store filled by `procctl run`. Through each page:
 * the runs table and its filters, a run page with a text, a JSON and an image output, a live run
 * whose tokens appear while it runs, the deployments panel, a narrow window. Screenshots go to
 * $PROCCTL_CI_DIR/ui-screenshots (CI keeps that folder) or test-artifacts/ui-screenshots, and their
 * paths are printed.
 *
 * Skips only when chromium is absent and CI is not set (.ci/chromium.sh installs it in CI).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { FsArtifactStore } from '../../src/index.js';
import { RunCatalog } from '../../src/runs/catalog.js';
import { localPlacementStatus, type PlacementStatusProvider } from '../../src/ui/deployments.js';
import { startUiServer } from '../../src/ui/server.js';
import { cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { FIXTURES, FIXTURE_REGISTRY, PROCCTL_BIN, REPO_ROOT } from '../helpers/paths.js';

/** Where Debian's chromium package puts its binary. */
const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(process.env['PROCCTL_CI_DIR'] ?? join(REPO_ROOT, 'test-artifacts'), 'ui-screenshots');

function needChromium(t: TestContext): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env['CI']) throw new Error(`CI is set but ${CHROMIUM} is missing: .ci/run should have installed it (.ci/chromium.sh)`);
  t.skip(`no ${CHROMIUM} (apt-get install chromium, or bash .ci/chromium.sh); skipped because CI is not set`);
  return false;
}

const registry = tempDir('procctl-ui-reg-');
cpSync(FIXTURE_REGISTRY, registry, { recursive: true });
const entryFile = join(registry, 'testing-echo-v1', 'registry.yaml');
writeFileSync(entryFile, readFileSync(entryFile, 'utf8').replace(/timeout_s: 1\b/, 'timeout_s: 60'));
const cwd = tempDir('procctl-ui-');
const artifacts = join(cwd, 'artifacts');
const run = (id: string, params: Record<string, unknown>, extra: string[] = []) =>
  runCli(['run', '--ref', 'testing/echo@1', '--registry', registry, '--execution-id', id, '--artifacts', artifacts, '--inputs-json', JSON.stringify({ schema: 'v1', params }), ...extra], { cwd });

describe('procctl ui in chromium', { concurrency: false }, () => {
  let ui: ChildProcess | undefined;
  let url = '';
  let browser: Browser | undefined;
  let page: Page;
  let available = false;

  /** Polls a condition on the page, bounded: the page updates on its own timers. */
  const until = async (condition: () => Promise<boolean>, what = 'the page', ms = 15_000) => {
    const end = Date.now() + ms;
    while (!(await condition())) {
      if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const rows = (n: number) => until(async () => (await page.locator('tbody tr').count()) === n, `${n} row(s)`);

  const shot = async (name: string, t: TestContext) => {
    mkdirSync(SHOTS, { recursive: true });
    const path = join(SHOTS, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    t.diagnostic(`screenshot ${path}`);
    console.log(`screenshot ${path}`);
  };

  before(async () => {
    available = existsSync(CHROMIUM) || Boolean(process.env['CI']);
    if (!available) return;
    assert.equal((await run('ui-mixed', { outputs: [{ path: 'notes.txt', text: 'plain text, kept as it is\nsecond line\n', mime: 'text/plain' }, { path: 'data.json', text: '{"answer":42,"list":[1,2,3]}', mime: 'application/json' }], attachments: [{ $attach: 'photo' }], tokens: 4, progress: true }, ['--attach', `photo=${join(FIXTURES, 'photo.png')}`])).code, 0);
    assert.equal((await run('ui-failed', { fail: 'the processor gave up' })).code, 10);
    assert.equal((await run('ui-other', { outputs: [{ path: 'blob.bin', text: 'raw', mime: 'application/octet-stream' }] })).code, 0);
    ui = spawn(process.execPath, [PROCCTL_BIN, 'ui', '--port', '0', '--artifacts', artifacts], { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const limit = setTimeout(() => reject(new Error(`procctl ui printed no address: ${out}`)), 20_000);
      ui?.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        const found = /http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+/.exec(out);
        if (found) {
          clearTimeout(limit);
          resolve(found[0]);
        }
      });
      ui?.once('exit', (code) => reject(new Error(`procctl ui exited ${code}`)));
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  });

  after(async () => {
    await browser?.close();
    ui?.kill('SIGTERM');
  });

  test('without the token nothing is served', async (t) => {
    if (!needChromium(t)) return;
    const origin = new URL(url).origin;
    assert.equal((await fetch(`${origin}/api/runs`)).status, 401);
    assert.equal((await fetch(`${origin}/`)).status, 401);
    // A page elsewhere reaching this port through DNS rebinding sends its own host name.
    const rebound = await new Promise<number>((resolve, reject) => {
      request(`${origin}/api/runs`, { headers: { host: 'evil.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject).end();
    });
    assert.equal(rebound, 421);
  });

  test('the runs table lists every run and its filters narrow it', async (t) => {
    if (!needChromium(t)) return;
    await page.goto(url);
    assert.ok(!page.url().includes('token='), 'the token leaves the address bar');
    await page.locator('tbody tr').nth(2).waitFor();
    assert.deepEqual(await page.locator('tbody tr td.id').allTextContents(), ['ui-other', 'ui-failed', 'ui-mixed']);
    await shot('runs-table', t);
    await page.selectOption('select[name=status]', 'error');
    await rows(1);
    assert.deepEqual(await page.locator('tbody tr td.id').allTextContents(), ['ui-failed']);
    assert.match((await page.locator('tbody tr').textContent()) ?? '', /ERR_PROCESSOR_FAILED/);
    await shot('runs-filter-status-error', t);
    await page.selectOption('select[name=status]', '');
    await page.fill('input[name=error_code]', 'ERR_TIMEOUT');
    await rows(0);
    assert.match((await page.locator('p[aria-live]').textContent()) ?? '', /No runs match/);
    await page.fill('input[name=error_code]', '');
    await page.fill('input[name=ref]', 'llm/litellm');
    await rows(0);
    await page.fill('input[name=ref]', 'testing/echo@1');
    await rows(3);
    // Keyboard: "/" focuses the first filter.
    await page.locator('h1').click();
    await page.keyboard.press('/');
    assert.equal(await page.locator('input[name=ref]:focus').count(), 1);
  });

  test('a run page shows text, pretty JSON and an image, each checked against its cid', async (t) => {
    if (!needChromium(t)) return;
    await page.goto(`${new URL(url).origin}/#/run/ui-mixed`);
    await page.locator('pre[data-output="data.json"]').filter({ hasText: '"answer": 42' }).waitFor();
    assert.equal(await page.locator('pre[data-output="notes.txt"]').textContent(), 'plain text, kept as it is\nsecond line\n');
    assert.equal(await page.locator('pre[data-output="data.json"]').textContent(), JSON.stringify({ answer: 42, list: [1, 2, 3] }, null, 2));
    const image = page.locator('img[alt="output attachments/0.bin"]');
    await until(async () => (await image.evaluate((i) => (i as unknown as { naturalWidth: number }).naturalWidth)) > 0, 'the image decoded');
    await until(async () => (await page.locator('.verified').count()) === 3, 'all three outputs verified');
    assert.match((await page.locator('pre.tokens').textContent()) ?? '', /^t0 t1 t2 t3 $/);
    assert.match((await page.locator('.events').textContent()) ?? '', /\[info\] echo mock ui-mixed/);
    assert.match((await page.locator('pre[data-record="envelope"]').textContent()) ?? '', /"status": "success"/);
    assert.match((await page.locator('pre[data-record="receipt"]').textContent()) ?? '', /"duration_ms"/);
    assert.equal(await page.locator('ul[aria-label=attachments] a').count(), 1);
    const href = (await page.locator('ul[aria-label=attachments] a').getAttribute('href')) as string;
    const attachment = await page.request.get(new URL(href, url).href);
    assert.equal(attachment.status(), 200);
    assert.deepEqual(await attachment.body(), readFileSync(join(FIXTURES, 'photo.png')));
    await shot('run-page-outputs', t);
    await page.setViewportSize({ width: 360, height: 740 });
    await shot('run-page-narrow', t);
    await page.setViewportSize({ width: 1200, height: 800 });
    await page.goto(`${new URL(url).origin}/#/run/ui-other`);
    await page.locator('a', { hasText: 'Download' }).waitFor();
    assert.match((await page.locator('.output').textContent()) ?? '', /checked when downloaded/);
    await page.goto(`${new URL(url).origin}/#/run/ui-failed`);
    await page.locator('.error-box').waitFor();
    assert.match((await page.locator('.error-box').textContent()) ?? '', /ERR_PROCESSOR_FAILED: .*the processor gave up/);
    await shot('run-page-error', t);
  });

  test('a live run: the table shows it running and its tokens appear while it runs', async (t) => {
    if (!needChromium(t)) return;
    const gate = join(tempDir(), 'go');
    const live = run('ui-live', { tokens: 5, wait_for_file: gate });
    await page.goto(`${new URL(url).origin}/#/`);
    const row = page.locator('tr[data-id="ui-live"]');
    await row.waitFor({ timeout: 20_000 });
    await row.locator('.status.running').waitFor();
    await shot('runs-table-live', t);
    await row.locator('a').click();
    await page.locator('pre.tokens').filter({ hasText: 't0 t1 t2 t3 t4' }).waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('#run-status').textContent(), 'running', 'tokens are shown before the run ends');
    await shot('run-page-live-tokens', t);
    writeFileSync(gate, '');
    assert.equal((await live).code, 0);
    await page.locator('#run-status .status.success').waitFor({ timeout: 20_000 });
    await shot('run-page-live-finished', t);
    await page.goto(`${new URL(url).origin}/#/`);
    await page.locator('tr[data-id="ui-live"] .status.success').waitFor();
  });

  test('the deployments panel shows the local placement', async (t) => {
    if (!needChromium(t)) return;
    await page.goto(`${new URL(url).origin}/#/deployments`);
    await page.locator('section[aria-label="local placement"]').waitFor();
    assert.match((await page.locator('section[aria-label="local placement"]').textContent()) ?? '', /local(Nothing started\.|Name|Cannot tell)/);
    await shot('deployments', t);
  });

  test('placements plug their status providers into the panel; one that fails says so, the rest still show', async (t) => {
    if (!needChromium(t)) return;
    // What the Modal and Kubernetes placements register: a provider with their own rows.
    const remote: PlacementStatusProvider = { placement: 'kubernetes', status: async () => [{ name: 'procctl-testing-echo-v1-mock', ref: 'testing/echo@1', mode: 'mock', state: 'ready 1/1', healthy: true, endpoint: 'http://10.0.0.7:8080' }, { name: 'procctl-llm-litellm-v1-real', ref: 'llm/litellm@1', mode: 'real', state: 'CrashLoopBackOff', healthy: false }] };
    const broken: PlacementStatusProvider = { placement: 'modal', status: async () => Promise.reject(new Error('MODAL_TOKEN_ID is not set')) };
    const own = await startUiServer({ catalog: new RunCatalog(new FsArtifactStore(artifacts)), providers: [localPlacementStatus, remote, broken] });
    try {
      await page.goto(own.url); // a new server, a new token: its cookie
      await page.goto(`http://127.0.0.1:${own.port}/#/deployments`);
      const k8s = page.locator('section[aria-label="kubernetes placement"]');
      await k8s.locator('tbody tr').nth(1).waitFor();
      assert.match((await k8s.locator('tbody tr').nth(0).textContent()) ?? '', /procctl-testing-echo-v1-mock.*ready 1\/1.*healthy/);
      assert.match((await k8s.locator('tbody tr').nth(1).textContent()) ?? '', /CrashLoopBackOff.*not healthy/);
      assert.match((await page.locator('section[aria-label="modal placement"]').textContent()) ?? '', /Cannot tell: MODAL_TOKEN_ID is not set/);
      await page.locator('section[aria-label="local placement"]').waitFor();
      await shot('deployments-providers', t);
    } finally {
      await own.close();
    }
  });
});
