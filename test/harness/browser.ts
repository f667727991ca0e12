// Headless Chromium (Debian's, driven by playwright-core) for the dashboard
// tests and benchmark, and `ozy dashboard` as a child process.
import { chromium, type Browser, type Page } from 'playwright-core';
import { waitFor } from './wait';
import { startOzy, type OzyProcess } from './ozy-process';

export const CHROMIUM = process.env.OZY_CHROMIUM ?? '/usr/bin/chromium';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM });
}

/** `ozy dashboard` on a free loopback port; resolves with it and its base URL. */
export async function startDashboard(etcd: string): Promise<{ proc: OzyProcess; url: string }> {
  const proc = startOzy(['dashboard', '--etcd', etcd, '--listen', '127.0.0.1:0']);
  const address = await proc.address('dashboard listening');
  return { proc, url: `http://${address}/` };
}

/**
 * Polls `expression` in the page until it is true. Not page.waitForFunction:
 * that evaluates a string with eval(), which the page's CSP forbids (as it should).
 */
export async function pageUntil(page: Page, expression: string, timeoutMs = 20_000): Promise<void> {
  await waitFor(`the page to show ${expression}`, async () => (await page.evaluate<boolean>(expression)) === true, { timeoutMs, intervalMs: 50 });
}
