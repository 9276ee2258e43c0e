// One scenario = one fresh code-server with the packaged extension, one Chromium page on it, one fixture
// workspace. withVsCode owns all of it and tears it down, with a screenshot, whatever the body does.
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, recordErrors, type ConsoleEntry } from './browser';
import { outputDir } from './paths';
import { startCodeServer, type CodeServer } from './server';
import { scratchDir } from './proc';
import { ensureInstalledExtension } from './vsix';

export interface Session {
  page: Page;
  /** This scenario's folder under test-output/e2e/. */
  out: string;
  errors: ConsoleEntry[];
  screenshot(name: string): Promise<void>;
  /** Logs how long the scenario took to reach this point (stderr and timings.txt). */
  step(label: string): void;
}

export interface SessionOptions {
  /** Fills the (empty) workspace folder before code-server opens it. */
  setup?: (workspace: string) => void | Promise<void>;
}

/** A scenario body's budget: below the test's timeout, so teardown always runs. */
const budgetMs = 300_000;

export async function withVsCode(name: string, opts: SessionOptions, body: (s: Session) => Promise<void>): Promise<void> {
  const out = join(outputDir, name);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const started = Date.now();
  const step = (label: string) => {
    const line = `[e2e ${name}] ${((Date.now() - started) / 1000).toFixed(1)} s ${label}`;
    process.stderr.write(`${line}\n`);
    appendFileSync(join(out, 'timings.txt'), `${line}\n`);
  };
  const extensionsDir = await ensureInstalledExtension();
  step('extension packaged and installed');
  // The path contains "ood", as many real project paths do: the extension must judge folders by their names.
  const scratch = mkdtempSync(join(tmpdir(), `oodlens-e2e-${name}-`));
  const removeScratch = scratchDir(scratch);
  const workspace = join(scratch, 'workspace');
  mkdirSync(workspace);
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let session: Session | undefined;
  try {
    await opts.setup?.(workspace);
    server = await startCodeServer({ workspace, extensionsDir, scratch, logFile: join(out, 'code-server.log') });
    step('code-server up');
    browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    const errors = recordErrors(page);
    const shot = (n: string) => page.screenshot({ path: join(out, `${n}.png`) }).then(() => undefined);
    session = { page, out, errors, screenshot: shot, step };
    await openWorkbench(page, server.url, workspace);
    step('workbench open');
    await withDeadline(body(session), budgetMs, name);
    step('scenario done');
    await shot('final');
  } catch (err) {
    await session?.screenshot('failure').catch(() => undefined);
    throw err;
  } finally {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    // The extension host's logs tell why a command did nothing.
    const logs = join(scratch, 'user-data', 'logs');
    if (existsSync(logs)) cpSync(logs, join(out, 'logs'), { recursive: true });
    removeScratch();
    step('torn down');
  }
}

async function openWorkbench(page: Page, url: string, folder: string): Promise<void> {
  await page.goto(`${url}/?folder=${encodeURIComponent(folder)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
  await page.locator('.explorer-folders-view').waitFor({ timeout: 90_000 });
}

function withDeadline<T>(work: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`scenario ${name} ran past its ${ms} ms budget`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** node:test options for a scenario: its timeout leaves room for packaging, startup and teardown. */
export function scenarioTimeout(): { timeout: number } {
  return { timeout: budgetMs + 240_000 };
}
