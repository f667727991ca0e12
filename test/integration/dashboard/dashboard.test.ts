// `ozy dashboard` against a real 3-agent cluster (etcd, podman, git), in
// headless Chromium: the page shows the nodes, jobs and instances; a change
// merged in git and a rejection report appear without a reload; no
// environment value reaches the page or any API answer; writes are refused.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { merge, shellJob, startClusterWithAgents, type TestCluster } from '../../harness/cluster';
import type { OzyProcess } from '../../harness/ozy-process';
import { launchBrowser, pageUntil, startDashboard } from '../../harness/browser';

const ENV_VALUE = 'dash-env-value-5b7e21';
/** Set to a directory to keep screenshots of the page (how docs/img/dashboard*.png are made). */
const SHOTS = process.env.OZY_DASHBOARD_SCREENSHOTS;

function webJob(name: string, instances: number): string {
  return shellJob({
    name,
    script: "trap 'exit 0' TERM; /bin/sleep 3600 & wait",
    memory: '16M',
    cpu: '10m',
    top: [`numInstances: ${instances}`, 'stopGrace: 1s'],
    container: ['environment:', `  - {name: DASH_TOKEN, value: ${ENV_VALUE}}`],
  });
}

describe('ozy dashboard on a 3-agent cluster, in headless Chromium', () => {
  let c: TestCluster;
  let dash: { proc: OzyProcess; url: string };
  let browser: Browser;
  let page: Page;

  before(async () => {
    c = await startClusterWithAgents(['a', 'b', 'c']);
    await merge(c.user, { 'jobs/web.yaml': webJob('web', 2) }, 'web');
    dash = await startDashboard(c.etcd.endpoint);
    browser = await launchBrowser();
    page = await browser.newPage();
  });
  after(async () => {
    await browser?.close();
    await dash?.proc.stop();
    await c?.stop();
  });

  test('the page shows the nodes, the jobs and the instances', async () => {
    await page.goto(dash.url);
    for (const a of c.agents) await page.locator(`#nodes tr[data-node="${a.node}"]`).waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('#nodes tbody tr[data-node]').count(), 3);
    await page.locator('#jobs tr[data-job="web"]').waitFor({ timeout: 60_000 });
    // The instances come healthy through the live stream, no reload.
    await page.locator('#jobs tr[data-job="web"] button').click();
    await pageUntil(page, `(() => { const rows = [...document.querySelectorAll('#instances tr[data-instance]')];
        return rows.length === 2 && rows.every((r) => r.children[3]?.textContent === 'healthy'); })()`, 90_000);
    const nodes = await page.locator('#instances tr[data-instance] td:nth-child(2)').allTextContents();
    for (const n of nodes) assert.ok(c.agents.some((a) => a.node === n), `instance on ${n}`);
    assert.equal(await page.locator('#conn').textContent(), 'live');
  });

  test('a change merged in git appears without a reload', async () => {
    // A reload would lose this.
    await page.evaluate('window.stillHere = true');
    await merge(c.user, { 'jobs/api.yaml': webJob('api', 1) }, 'api');
    await page.locator('#jobs tr[data-job="api"]').waitFor({ timeout: 60_000 });
    await merge(c.user, { 'jobs/web.yaml': webJob('web', 3) }, 'web: 3 instances');
    await pageUntil(page, `document.querySelectorAll('#instances tr[data-instance]').length === 3`, 60_000);
    assert.equal(await page.evaluate('window.stillHere === true'), true);
  });

  test('a rejection report appears without a reload, as problem details linked to docs/errors.md', async () => {
    await merge(c.user, { 'jobs/huge.yaml': shellJob({ name: 'huge', script: '/bin/sleep 3600', memory: '64G', cpu: '10m' }) }, 'huge');
    const card = page.locator('#rejections article[data-rejection="huge"]');
    await card.waitFor({ timeout: 60_000 });
    const title = await card.locator('h3').textContent();
    const detail = await card.locator('p.detail').textContent();
    assert.ok(title && title.length > 0);
    assert.match(detail ?? '', /memory/i);
    const href = await card.locator('a').getAttribute('href');
    assert.match(href ?? '', /errors\.md#[a-z-]+$/);
    assert.equal(await page.evaluate('window.stillHere === true'), true);
  });

  test('no environment value in the page or any API answer', async () => {
    const html = await page.content();
    const text = await page.evaluate<string>('document.body.innerText');
    assert.ok(!html.includes(ENV_VALUE) && !text.includes(ENV_VALUE));
    for (const p of ['summary', 'nodes', 'jobs', 'instances', 'rejections', 'runs', 'instances?job=web', 'jobs?q=web']) {
      const res = await fetch(`${dash.url}api/${p}${p.includes('?') ? '&' : '?'}limit=500`);
      assert.equal(res.status, 200, p);
      const body = await res.text();
      assert.ok(!body.includes(ENV_VALUE), `/api/${p}`);
      assert.ok(!body.includes('DASH_TOKEN'), `/api/${p}`);
    }
  });

  test('writes are refused', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await fetch(`${dash.url}api/jobs`, { method });
      assert.equal(res.status, 405, method);
    }
    // From the page itself too.
    const status = await page.evaluate<number>(`fetch('/api/jobs', { method: 'POST', body: '{}' }).then((r) => r.status)`);
    assert.equal(status, 405);
    // Last: by now every section has caught up with the merges above.
    if (SHOTS) {
      await page.setViewportSize({ width: 1300, height: 900 });
      await page.screenshot({ path: path.join(SHOTS, 'dashboard.png'), fullPage: true });
    }
  });
});
