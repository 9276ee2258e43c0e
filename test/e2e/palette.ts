// The command palette and the quick inputs commands open (picks, VS Code's own file dialog). Every step
// waits on a condition; lost focus is retried.
import type { Locator, Page } from 'playwright-core';

const quickInput = '.quick-input-widget';

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
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
      // F1 goes nowhere while a webview has focus: give it back to the workbench (the side bar's title).
      await page.locator('.part.sidebar .composite.title').click().catch(() => undefined);
    }
  }
}

/** Runs a command from the palette by its title, clicking its row so a neighbour can't run instead. */
export async function runCommand(page: Page, title: string): Promise<void> {
  const rows = await paletteRows(page, `>${title}`, new RegExp(`^${escapeRegExp(title)}$`));
  await rows.first().click();
}

/** Picks the row labelled exactly `label` in the open quick pick, typing it to filter the list. */
export async function pickItem(page: Page, label: string): Promise<void> {
  const input = page.locator(`${quickInput} input`);
  await input.waitFor({ state: 'visible', timeout: 30_000 });
  await input.fill(label);
  const rows = page.locator(`${quickInput} .monaco-list-row`).filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(label)}$`) }) });
  await rows.first().click({ timeout: 15_000 });
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
  /** Checked rows of a multi-select pick. */
  picked: string[];
  /** The row Enter would accept in a single-select pick. */
  active: string;
}

function readPrompt(page: Page): Promise<Prompt> {
  return page.locator(quickInput).evaluate((w) => {
    const names = (sel: string) => [...w.querySelectorAll(`${sel} .label-name`)].map((e) => (e.textContent ?? '').trim());
    const title = w.querySelector('.quick-input-title')?.textContent ?? '';
    const placeholder = w.querySelector('input')?.getAttribute('placeholder') ?? '';
    return {
      text: `${title} ${placeholder}`.trim(),
      items: names('.monaco-list-row'),
      picked: names('.monaco-list-row[aria-checked="true"]'),
      active: names('.monaco-list-row.focused')[0] ?? '',
    };
  });
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

/**
 * Answers a folder prompt of VS Code's own file dialog (a quick input taking a path): types the folder,
 * waits for the dialog to list its contents, then presses OK (Enter while it is still navigating would
 * only open the folder).
 */
export async function answerFolderDialog(page: Page, folder: string): Promise<void> {
  const widget = page.locator(quickInput);
  const input = widget.locator('input');
  await input.waitFor({ state: 'visible', timeout: 60_000 });
  const wanted = folder.endsWith('/') ? folder : `${folder}/`;
  // The dialog fills in its default folder asynchronously and can overwrite what was typed before that: type
  // until the path stays, then wait for the listing of that folder.
  for (let attempt = 0; ; attempt++) {
    await input.fill(wanted);
    await widget.locator('.monaco-list-row .label-name', { hasText: /^\.\.$/ }).waitFor({ timeout: 15_000 });
    await page.waitForTimeout(300);
    if ((await input.inputValue()) === wanted) break;
    if (attempt === 4) throw new Error(`folder dialog kept "${await input.inputValue()}" instead of ${wanted}`);
  }
  for (let attempt = 0; ; attempt++) {
    await widget.locator('.monaco-button', { hasText: /^OK$/ }).click();
    try {
      await widget.waitFor({ state: 'hidden', timeout: 5_000 });
      return;
    } catch (err) {
      if (attempt === 2) throw err;
    }
  }
}
