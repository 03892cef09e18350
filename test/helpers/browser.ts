/**
 * Opens a report file in a real headless browser: Debian's chromium driven by playwright-core (no browser
 * download). Any request that is not the file itself is refused and recorded, so a report that needs the network
 * fails the test. `chromiumPath()` is undefined when no chromium is installed (tests skip, saying so).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

export function chromiumPath(): string | undefined {
  return ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
}

export interface PageCheck {
  consoleErrors: string[];
  pageErrors: string[];
  /** URLs other than the report itself that the page tried to load. */
  externalRequests: string[];
  /** The events table of each scenario: data-at and data-kind per row, in document order. */
  scenarios: { name: string; outcome: string; rows: { at: string; kind: string }[]; marks: number }[];
}

export async function checkReportInBrowser(file: string, screenshot: string): Promise<PageCheck> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('no chromium installed');
  // Running as root (CI) needs --no-sandbox.
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const check: PageCheck = { consoleErrors: [], pageErrors: [], externalRequests: [], scenarios: [] };
    page.on('console', (m) => {
      if (m.type() === 'error') check.consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => check.pageErrors.push(e.message));
    const url = pathToFileURL(file).href;
    await page.route('**/*', async (route) => {
      if (route.request().url() === url) return route.continue();
      check.externalRequests.push(route.request().url());
      return route.abort();
    });
    await page.goto(url, { waitUntil: 'load' });
    // Evaluated as page source (this project compiles without the DOM types).
    check.scenarios = (await page.evaluate(`[...document.querySelectorAll('section.scenario')].map((s) => ({
      name: s.getAttribute('data-scenario') || '',
      outcome: s.getAttribute('data-outcome') || '',
      rows: [...s.querySelectorAll('table.events tbody tr')].map((r) => ({
        at: r.getAttribute('data-at') || '',
        kind: r.getAttribute('data-kind') || '',
      })),
      marks: s.querySelectorAll('svg [data-ev]').length,
    }))`)) as PageCheck['scenarios'];
    // Open the first scenario's event table so the screenshot shows it too.
    await page.evaluate(
      `(() => { const d = document.querySelector('section.scenario details'); if (d) d.open = true; })()`,
    );
    await mkdir(dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    return check;
  } finally {
    await browser.close();
  }
}
