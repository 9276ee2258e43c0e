// The stand-alone HTML report: one file with the webview bundle, the CSS and the report inlined, drawn by the
// same code as the VS Code panel. No network: the CSP allows only the inline script and style carrying the nonce.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Report } from './types';
import type { GateResult } from '../gates';
import { selectGallery } from '../../shared/gallery';
import { toViewReport, type ViewPayload } from '../../shared/protocol';

export interface HtmlAssets {
  /** dist/webview.js */
  script: string;
  /** media/report.css */
  css: string;
}

export interface HtmlReportOptions {
  gates?: GateResult[];
  /** Shown in the title and header, e.g. "oodlens.json" or a dataset folder. */
  origin?: string;
  nonce?: string;
  /** Gallery sample path → PNG data URI (thumbnails.ts); other values are ignored. */
  thumbnails?: ReadonlyMap<string, string>;
}

/** `root` is the package (or installed extension) folder holding dist/ and media/. */
export function loadHtmlAssets(root: string): HtmlAssets {
  return {
    script: readFileSync(join(root, 'dist', 'webview.js'), 'utf8'),
    css: readFileSync(join(root, 'media', 'report.css'), 'utf8'),
  };
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON inside <script type="application/json">: escaping `<` keeps `</script>` and `<!--` in strings inert. */
export function embedJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Raw text of an inline <script>/<style>: only a closing tag or a comment opener could end it early. */
export function inlineRawText(text: string, tag: 'script' | 'style'): string {
  return text.replace(new RegExp(`</(${tag})`, 'gi'), '<\\/$1').replace(/<!--/g, '<\\!--');
}

const PNG_DATA_URI = /^data:image\/png;base64,[A-Za-z0-9+/=]+$/;

export function renderHtmlReport(report: Report, assets: HtmlAssets, options: HtmlReportOptions = {}): string {
  const nonce = options.nonce ?? randomBytes(16).toString('base64');
  const origin = options.origin ?? 'report';
  const gallery = selectGallery(report);
  for (const item of gallery?.items ?? []) {
    const src = options.thumbnails?.get(item.path);
    if (src && PNG_DATA_URI.test(src)) item.src = src;
  }
  const payload: ViewPayload = { report: toViewReport(report, false), gallery, gates: options.gates ?? [], origin };
  const csp = `default-src 'none'; img-src data: blob:; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ood-lens ${escapeHtml(report.tool.version)}">
<title>OOD Lens report · ${escapeHtml(origin)}</title>
<style nonce="${nonce}">${inlineRawText(assets.css, 'style')}</style>
</head>
<body class="standalone">
<main id="app"></main>
<script type="application/json" id="oodlens-data">${embedJson(payload)}</script>
<script nonce="${nonce}">${inlineRawText(assets.script, 'script')}</script>
</body>
</html>
`;
}
