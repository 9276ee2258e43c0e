// What a user does in the workbench: the command palette, quick picks, the Explorer and its context
// menu, notifications, the Problems view. Every step waits on a condition; flaky focus is retried.
import type { Locator, Page } from 'playwright-core';

const quickInput = '.quick-input-widget';

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export async function openWorkbench(page: Page, url: string, folder: string): Promise<void> {
  await page.goto(`${url}/?folder=${encodeURIComponent(folder)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
  await page.locator('.explorer-folders-view').waitFor({ timeout: 90_000 });
}

/**
 * Opens the palette on `query`, retrying until some row matches `rowName` (extension commands only
 * appear once the extension host has registered them, and palette focus is occasionally lost).
 */
export async function paletteRows(page: Page, query: string, rowName: RegExp, timeoutMs = 60_000): Promise<Locator> {
  const deadline = Date.now() + timeoutMs;
  const rows = page.locator(`${quickInput} .monaco-list-row`).filter({ has: page.locator('.label-name', { hasText: rowName }) });
  for (;;) {
    try {
      await closeQuickInput(page);
      await page.keyboard.press('F1');
      const input = page.locator(`${quickInput} input`);
      await input.waitFor({ state: 'visible', timeout: 5_000 });
      await input.fill(query);
      await rows.first().waitFor({ timeout: 5_000 });
      return rows;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`palette never listed ${rowName} for "${query}": ${String(err)}`);
    }
  }
}

/** Runs a command from the palette by its title, clicking its row so a neighbour can't run instead. */
export async function runCommand(page: Page, title: string): Promise<void> {
  const rows = await paletteRows(page, `>${title}`, new RegExp(`^${escapeRegExp(title)}$`));
  await rows.first().click();
}

async function closeQuickInput(page: Page): Promise<void> {
  const widget = page.locator(quickInput);
  if (await widget.isVisible()) {
    await page.keyboard.press('Escape');
    await widget.waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => undefined);
  }
}

export interface Prompt {
  /** Title and placeholder, to tell the prompts apart. */
  text: string;
  items: string[];
  picked: string[];
}

async function readPrompt(page: Page): Promise<Prompt> {
  const widget = page.locator(quickInput);
  const title = (await widget.locator('.quick-input-title').textContent().catch(() => '')) ?? '';
  const placeholder = (await widget.locator('input').getAttribute('placeholder').catch(() => '')) ?? '';
  const rows = widget.locator('.monaco-list-row');
  const items = (await rows.locator('.label-name').allTextContents()).map((s) => s.trim());
  const picked = (await widget.locator('.monaco-list-row[aria-checked="true"] .label-name').allTextContents()).map((s) => s.trim());
  return { text: `${title} ${placeholder}`.trim(), items, picked };
}

/**
 * Accepts the next `count` quick inputs with Enter (their defaults), returning what each offered.
 * A prompt is done when the widget hides or shows a different prompt.
 */
export async function acceptPrompts(page: Page, count: number): Promise<Prompt[]> {
  const seen: Prompt[] = [];
  const widget = page.locator(quickInput);
  const input = widget.locator('input');
  for (let i = 0; i < count; i++) {
    await widget.waitFor({ state: 'visible', timeout: 60_000 });
    await widget.locator('.monaco-list-row').first().waitFor({ timeout: 30_000 });
    const prompt = await readPrompt(page);
    seen.push(prompt);
    for (let attempt = 0; attempt < 3; attempt++) {
      await input.focus();
      await page.keyboard.press('Enter');
      const moved = await page
        .waitForFunction(
          ([sel, before]) => {
            const w = document.querySelector<HTMLElement>(sel);
            if (!w || w.style.display === 'none' || w.offsetParent === null) return true;
            const title = w.querySelector('.quick-input-title')?.textContent ?? '';
            const ph = w.querySelector('input')?.getAttribute('placeholder') ?? '';
            return `${title} ${ph}`.trim() !== before;
          },
          [quickInput, prompt.text] as const,
          { timeout: 5_000 },
        )
        .then(() => true, () => false);
      if (moved) break;
    }
  }
  return seen;
}

function explorerRow(page: Page, name: string): Locator {
  return page
    .locator('.explorer-folders-view .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(name)}$`) }) })
    .first();
}

/** Expands the folders along a workspace-relative path and returns the row of its last part. */
export async function revealInExplorer(page: Page, relPath: string): Promise<Locator> {
  const parts = relPath.split('/');
  for (const [i, part] of parts.entries()) {
    const row = explorerRow(page, part);
    await row.waitFor({ timeout: 30_000 });
    if (i < parts.length - 1 && (await row.getAttribute('aria-expanded')) === 'false') {
      await row.click();
      await page.waitForFunction(
        (name) =>
          [...document.querySelectorAll('.explorer-folders-view .monaco-list-row')].some(
            (r) => r.querySelector('.label-name')?.textContent === name && r.getAttribute('aria-expanded') === 'true',
          ),
        part,
        { timeout: 10_000 },
      );
    }
  }
  return explorerRow(page, parts[parts.length - 1]);
}

/** Right-clicks an Explorer entry and picks a context-menu item by its label. */
export async function explorerContextCommand(page: Page, relPath: string, label: string): Promise<void> {
  const row = await revealInExplorer(page, relPath);
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await row.click({ button: 'right' });
      const item = page.locator('.context-view .monaco-menu .action-item').filter({ hasText: label }).first();
      await item.click({ timeout: 10_000 });
      return;
    } catch (err) {
      lastError = err;
      await page.keyboard.press('Escape');
    }
  }
  throw new Error(`context menu item "${label}" on ${relPath}: ${String(lastError)}`);
}

export function notificationToasts(page: Page): Locator {
  return page.locator('.notifications-toasts .notification-toast');
}

/** The Problems view's rows, as text. */
export async function problems(page: Page): Promise<string[]> {
  const panel = page.locator('.markers-panel');
  if (!(await panel.isVisible())) {
    await runCommand(page, 'View: Focus Problems');
    await panel.waitFor({ timeout: 15_000 });
  }
  return (await panel.locator('.monaco-list-row').allTextContents()).map((s) => s.trim());
}

/** Waits until the Problems view's rows satisfy a predicate; returns them. */
export async function waitForProblems(page: Page, predicate: (rows: string[]) => boolean, timeoutMs = 60_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let rows = await problems(page);
  while (!predicate(rows)) {
    if (Date.now() > deadline) throw new Error(`Problems view never matched; last rows:\n${rows.join('\n')}`);
    await page.waitForTimeout(500);
    rows = await problems(page);
  }
  return rows;
}
