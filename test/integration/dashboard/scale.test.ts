// The dashboard at 5,000 accepted jobs (a real etcd written through the
// store, no agents), in headless Chromium: the page renders one page of
// jobs, never all of them; filtering and paging happen on the server; an
// etcd change shows without a reload. Times are the benchmark's business
// (`node dist/bench/run.js dashboard`), not asserted here.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ClusterStore } from '../../../src/store';
import { seedCluster, seededJobName, type SeededCluster } from '../../harness/dashboard-seed';
import { startEtcd, type EtcdServer } from '../../harness/etcd';
import type { OzyProcess } from '../../harness/ozy-process';
import { launchBrowser, pageUntil, startDashboard } from '../../harness/browser';

const JOBS = 5000;

describe('ozy dashboard at 5,000 jobs, in headless Chromium', () => {
  let etcd: EtcdServer;
  let store: ClusterStore;
  let seeded: SeededCluster;
  let dash: { proc: OzyProcess; url: string };
  let browser: Browser;
  let page: Page;

  before(async () => {
    etcd = await startEtcd();
    store = ClusterStore.connect({ endpoints: [etcd.endpoint] });
    seeded = await seedCluster(store, { jobs: JOBS, env: [{ name: 'X', value: 'seeded-env-value-77' }] });
    dash = await startDashboard(etcd.endpoint);
    browser = await launchBrowser();
    page = await browser.newPage();
  });
  after(async () => {
    await browser?.close();
    await dash?.proc.stop();
    await store?.close();
    await etcd?.stop();
  });

  const rows = (): Promise<string[]> => page.evaluate<string[]>(`[...document.querySelectorAll('#jobs tbody tr[data-job]')].map((tr) => tr.dataset.job)`);
  const text = (sel: string, want: string): string => `document.querySelector(${JSON.stringify(sel)})?.textContent === ${JSON.stringify(want)}`;

  test('the page renders one page of the 5,000 jobs, with the total', async () => {
    await page.goto(dash.url);
    await page.locator('#jobs tbody tr[data-job]').first().waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('#jobs-count').textContent(), `(${JOBS})`);
    assert.deepEqual(await rows(), seeded.jobNames.slice(0, 50));
    assert.match((await page.locator('#jobs-pager .range').textContent()) ?? '', /^1–50 of 5000$/);
    // The DOM holds one page, not 5,000 rows.
    assert.ok((await page.evaluate<number>(`document.querySelectorAll('tr').length`)) < 300);
  });

  test('paging and filtering', async () => {
    await page.locator('#jobs-pager button', { hasText: 'next' }).click();
    await pageUntil(page, text('#jobs-pager .range', '51–100 of 5000'));
    assert.deepEqual(await rows(), seeded.jobNames.slice(50, 100));

    await page.locator('#job-q').fill('job-0004');
    await pageUntil(page, text('#jobs-count', '(10)'));
    assert.deepEqual(await rows(), Array.from({ length: 10 }, (_, i) => seededJobName(40 + i)));

    await page.locator('#job-q').fill('');
    await page.locator('#job-state').selectOption('degraded');
    // One in 50 unhealthy and one in 50 starting: 200 jobs not all healthy.
    await pageUntil(page, text('#jobs-count', '(200)'));
    assert.equal((await rows()).length, 50);
    assert.equal((await rows())[0], seededJobName(7));
    if (process.env.OZY_DASHBOARD_SCREENSHOTS) {
      await page.setViewportSize({ width: 1300, height: 900 });
      await page.evaluate('window.scrollTo(0, 0)');
      await page.screenshot({ path: path.join(process.env.OZY_DASHBOARD_SCREENSHOTS, 'dashboard-5000-jobs.png') });
    }
  });

  test('an etcd change shows without a reload', async () => {
    await page.locator('#job-state').selectOption('');
    await pageUntil(page, text('#jobs-count', `(${JOBS})`));
    // job-00007's instance becomes healthy: one degraded job fewer.
    const session = seeded.nodes[7]!;
    await store.putInstanceStatus(session, { instance: `${seededJobName(7)}-0`, job: seededJobName(7), node: session.node, specHash: (await store.readJob(seededJobName(7)))!.specHash, state: 'healthy', restarts: 0, containers: {}, updatedAt: new Date().toISOString() });
    await pageUntil(page, text('#jobs tr[data-job="job-00007"] td:nth-child(3)', '1/1'), 20_000);
    const summary = (await page.locator('#summary').textContent()) ?? '';
    assert.match(summary, /199 degraded/);
  });

  test('no environment value in any API answer', async () => {
    for (const p of ['jobs?limit=500', 'instances?limit=500', 'nodes', 'summary']) {
      const body = await (await fetch(`${dash.url}api/${p}`)).text();
      assert.ok(!body.includes('seeded-env-value-77'), p);
    }
  });
});
