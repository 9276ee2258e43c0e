// One scenario = one fresh code-server with the packaged extension, one Chromium page on it, one fixture
// workspace. withVsCode owns all of it and tears it down, with a screenshot, whatever the body does.
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, recordErrors, type ConsoleEntry } from './browser';
import { outputDir } from './paths';
import { startCodeServer, type CodeServer } from './server';
import { ensureInstalledExtension } from './vsix';
import { openWorkbench } from './workbench';

export interface Session {
  page: Page;
  server: CodeServer;
  workspace: string;
  /** Scratch folder outside the workspace, removed afterwards. */
  scratch: string;
  /** This scenario's folder under test-output/e2e/. */
  out: string;
  errors: ConsoleEntry[];
  screenshot(name: string): Promise<void>;
}

export interface SessionOptions {
  /** Fills the (empty) workspace folder before code-server opens it. */
  setup?: (workspace: string) => void | Promise<void>;
  settings?: Record<string, unknown>;
  /** The body's budget; kept below the test's timeout so teardown always runs. */
  budgetMs?: number;
}

export async function withVsCode(name: string, opts: SessionOptions, body: (s: Session) => Promise<void>): Promise<void> {
  const out = join(outputDir, name);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const extensionsDir = await ensureInstalledExtension();
  const scratch = mkdtempSync(join(tmpdir(), `oodlens-e2e-${name}-`));
  const workspace = join(scratch, 'workspace');
  mkdirSync(workspace);
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let session: Session | undefined;
  try {
    await opts.setup?.(workspace);
    server = await startCodeServer({ workspace, extensionsDir, scratch, logFile: join(out, 'code-server.log'), settings: opts.settings });
    browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    const errors = recordErrors(page);
    const shot = (n: string) => page.screenshot({ path: join(out, `${n}.png`) }).then(() => undefined);
    session = { page, server, workspace, scratch, out, errors, screenshot: shot };
    await openWorkbench(page, server.url, workspace);
    await withDeadline(body(session), opts.budgetMs ?? 300_000, name);
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
    rmSync(scratch, { recursive: true, force: true });
  }
}

function withDeadline<T>(work: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`scenario ${name} ran past its ${ms} ms budget`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** node:test options for a scenario: its timeout leaves room for startup and teardown. */
export function scenarioTimeout(budgetMs = 300_000): { timeout: number } {
  return { timeout: budgetMs + 240_000 };
}
