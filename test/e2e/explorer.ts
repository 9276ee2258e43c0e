// The Explorer as a user sees it: expanding folders, the context menu, decoration badges.
import type { Locator, Page } from 'playwright-core';
import { escapeRegExp } from './palette';

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

/**
 * Right-clicks an Explorer entry and picks a context-menu item by its label. Menus ignore a click that
 * comes right after they open, so the pick is repeated until the menu closes. A menu without the item
 * (the right-click landed while the tree re-rendered) is closed and opened again on the entry.
 */
export async function explorerContextCommand(page: Page, relPath: string, label: string): Promise<void> {
  const menu = page.locator('.context-view .monaco-menu');
  let lastError = '';
  for (let attempt = 0; attempt < 4; attempt++) {
    const row = await revealInExplorer(page, relPath);
    if (!(await menu.isVisible())) await row.click({ button: 'right' });
    const item = menu.locator('.action-item').filter({ hasText: label }).first();
    try {
      await item.click({ timeout: 5_000 });
      await menu.waitFor({ state: 'hidden', timeout: 3_000 });
      return;
    } catch (err) {
      const shown = (await menu.locator('.action-label').allTextContents().catch(() => [])).filter(Boolean);
      lastError = `${String(err).split('\n')[0]}; menu showed [${shown.join(', ')}]`;
      if (!(await item.isVisible().catch(() => false))) await page.keyboard.press('Escape');
    }
  }
  throw new Error(`context menu item "${label}" on ${relPath}: ${lastError}`);
}

export interface ExplorerEntry {
  name: string;
  /** What the decoration draws after the label (e.g. a badge letter), '' when undecorated. */
  badge: string;
}

/** The visible children of an expanded Explorer folder, with their decoration badges. */
export async function explorerChildren(page: Page, relPath: string): Promise<ExplorerEntry[]> {
  const folder = await revealInExplorer(page, relPath);
  if ((await folder.getAttribute('aria-expanded')) === 'false') await folder.click();
  await page.waitForFunction(
    (name) => {
      const rows = [...document.querySelectorAll('.explorer-folders-view .monaco-list-row')];
      const i = rows.findIndex((r) => r.querySelector('.label-name')?.textContent === name && r.getAttribute('aria-expanded') === 'true');
      return i >= 0 && Number(rows[i + 1]?.getAttribute('aria-level')) > Number(rows[i].getAttribute('aria-level'));
    },
    relPath.split('/').pop(),
    { timeout: 15_000 },
  );
  return folder.evaluate((row) => {
    const level = Number(row.getAttribute('aria-level'));
    const out: { name: string; badge: string }[] = [];
    for (let r = row.nextElementSibling; r && Number(r.getAttribute('aria-level')) > level; r = r.nextElementSibling) {
      if (Number(r.getAttribute('aria-level')) !== level + 1) continue;
      const label = r.querySelector<HTMLElement>('.monaco-icon-label');
      const after = label ? getComputedStyle(label, '::after').content : 'none';
      out.push({
        name: r.querySelector('.label-name')?.textContent ?? '',
        badge: after === 'none' || after === 'normal' ? '' : after.replace(/^"|"$/g, ''),
      });
    }
    return out;
  });
}

