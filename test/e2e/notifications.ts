// Notifications and the Problems view: where the extension tells the user how a run went.
import type { Locator, Page } from 'playwright-core';
import { runCommand } from './palette';

export function notificationToasts(page: Page): Locator {
  return page.locator('.notifications-toasts .notification-toast');
}

/** The Problems view's rows, as text. */
async function problems(page: Page): Promise<string[]> {
  const panel = page.locator('.markers-panel');
  if (!(await panel.isVisible())) {
    // The status bar's error/warning counts toggle the Problems view.
    await page.locator('[id="status.problems"]').click();
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

/**
 * Finds the notification whose message matches. Toasts can hide before the test gets to them, so it
 * falls back to the notification center, where they stay.
 */
export async function findNotification(page: Page, message: RegExp, timeoutMs = 120_000): Promise<Locator> {
  const inToasts = notificationToasts(page).filter({ hasText: message }).first();
  const inCenter = page.locator('.notifications-center .notification-list-item').filter({ hasText: message }).first();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const item of [inToasts, inCenter]) if (await item.isVisible()) return item;
    if (Date.now() > deadline) throw new Error(`no notification matching ${message}`);
    if (!(await page.locator('.notifications-center').isVisible())) await runCommand(page, 'Notifications: Show Notifications');
    await page.waitForTimeout(500);
  }
}

export async function clickNotificationButton(page: Page, message: RegExp, button: string, timeoutMs?: number): Promise<void> {
  const item = await findNotification(page, message, timeoutMs);
  await item.locator('.monaco-button', { hasText: button }).click();
}
