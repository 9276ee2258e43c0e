import { test } from 'node:test';
import assert from 'node:assert/strict';
import { embedJson, escapeHtml, inlineRawText, renderHtmlReport } from '../../src/engine/report/html';
import type { ViewPayload } from '../../src/shared/protocol';
import { panelCsp, panelHtml } from '../../src/vscode/panelHtml';
import { loadFixture } from '../helpers/report-fixture';

const assets = { script: 'console.log("</script><script>alert(1)</script>"); /* <!-- */', css: 'body{} </style><b>x</b>' };

function embeddedPayload(html: string): ViewPayload {
  const m = /<script type="application\/json" id="oodlens-data">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m, 'payload script present');
  return JSON.parse(m[1]) as ViewPayload;
}

test('escapeHtml escapes the five HTML specials', () => {
  assert.equal(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
});

test('embedded JSON cannot close its script element and round-trips', () => {
  const value = { path: '</script><img src=x onerror=alert(1)>', s: '<!-- \u2028' };
  const text = embedJson(value);
  assert.equal(text.includes('<'), false);
  assert.deepEqual(JSON.parse(text), value);
});

test('inlined bundle and CSS cannot end their element early', () => {
  assert.equal(/<\/script/i.test(inlineRawText('a</SCRIPT>b', 'script')), false);
  assert.equal(inlineRawText('x<!--y', 'script').includes('<!--'), false);
  assert.equal(/<\/style/i.test(inlineRawText('a</style>', 'style')), false);
});

test('the HTML report is one offline file: CSP with a nonce, no URL to fetch, the report embedded', () => {
  const report = loadFixture();
  const html = renderHtmlReport(report, assets, { nonce: 'abc123', origin: 'demo <x>' });
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; img-src data: blob:; style-src &#39;nonce-abc123&#39;; script-src &#39;nonce-abc123&#39;">/);
  assert.equal(/unsafe-(inline|eval)/.test(html), false);
  assert.equal(/\s(src|href)=/.test(html), false, 'nothing loaded from elsewhere');
  assert.match(html, /<title>OOD Lens report · demo &lt;x&gt;<\/title>/);
  assert.equal((html.match(/<\/script>/g) ?? []).length, 2, 'only the two real script elements close');
  assert.equal((html.match(/<\/style>/g) ?? []).length, 1);
  const payload = embeddedPayload(html);
  assert.equal(payload.report.sampleCount, report.samples.length);
  assert.equal(payload.report.splits[0].skipped[0].path, '/data/demo/id/cat/broken<script>.png');
  assert.equal(payload.origin, 'demo <x>');
  assert.ok(payload.gallery && payload.gallery.items.every((i) => i.src === undefined), 'no file URLs in a portable file');
});

test('the panel CSP allows only the webview source and the nonce', () => {
  assert.equal(panelCsp('vscode-resource:', 'N0'),
    "default-src 'none'; img-src vscode-resource: data: blob:; style-src vscode-resource:; script-src 'nonce-N0'; font-src vscode-resource:");
  const html = panelHtml({ cspSource: 'https://x.vscode-cdn.net', nonce: 'N0', scriptUri: 'https://x/w.js?a=1&b=2', styleUri: 'https://x/r.css' });
  assert.match(html, /<script nonce="N0" src="https:\/\/x\/w\.js\?a=1&amp;b=2"><\/script>/);
  assert.equal(/unsafe-/.test(html), false);
  assert.equal(/style=/.test(html), false);
});
