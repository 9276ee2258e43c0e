// Debian's Chromium driven by playwright-core (no browser download). The flags keep it off the network:
// without them it keeps trying Google's hosts, which this machine refuses.
import { chromium, type Browser, type Page } from 'playwright-core';
import { chromiumPath } from './paths';

const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
}

export interface ConsoleEntry {
  type: string;
  text: string;
  url: string;
}

/** Records console errors and uncaught exceptions of every frame, webviews included. */
export function recordErrors(page: Page): ConsoleEntry[] {
  const entries: ConsoleEntry[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') entries.push({ type: 'console', text: msg.text(), url: msg.location().url });
  });
  page.on('pageerror', (err) => entries.push({ type: 'pageerror', text: String(err.stack ?? err), url: '' }));
  return entries;
}

/** Webview documents are served from VS Code's webview "pre" folder or its resource origin. */
export function isWebviewEntry(e: ConsoleEntry): boolean {
  return /\/webview\/browser\/pre\/|vscode-resource|vscode-webview/.test(e.url) || /webview/i.test(e.text);
}
