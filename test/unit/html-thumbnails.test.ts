// The HTML report's galleries carry thumbnails: small PNG data URIs of the gallery's own files, capped in number and
// size, never read from outside a split folder, and names still inert text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renameSync } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { runScore } from '../../src/engine/run';
import { renderHtmlReport } from '../../src/engine/report/html';
import { galleryThumbnails, THUMBNAIL_LIMITS } from '../../src/engine/report/thumbnails';
import type { ViewPayload } from '../../src/shared/protocol';
import { buildLinearModel } from '../helpers/onnx-builder';
import { imageFolder, tempDir, weights, writeFile } from '../helpers/fixtures';

const hostile = '<img src=x onerror=alert(1)>.png';

function embeddedPayload(html: string): ViewPayload {
  const m = /<script type="application\/json" id="oodlens-data">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m, 'payload script present');
  return JSON.parse(m[1]) as ViewPayload;
}

async function scoredRun(dir: string) {
  const model = path.join(dir, 'm.onnx');
  writeFile(model, buildLinearModel({ inputShape: ['N', 3, 8, 8], W: weights(3 * 3 * 8 * 8, 5), b: [0, 0, 0], metadata: { classes: '["a","b","c"]' } }));
  // Images larger than a thumbnail (each is shrunk to 96 px on its longer side); the model sees them at 8 × 8.
  await imageFolder(path.join(dir, 'id'), ['a', 'b', 'c'], 12, 120, 160, 3);
  renameSync(path.join(dir, 'id', 'a', '000.png'), path.join(dir, 'id', 'a', hostile));
  return runScore({ models: [model], id: path.join(dir, 'id'), ood: ['noise:12'] });
}

test('HTML report galleries show PNG thumbnails of their files, capped, with names kept as text', { timeout: 120_000 }, async () => {
  const t = tempDir();
  try {
    const report = await scoredRun(t.dir);
    const thumbs = await galleryThumbnails(report, t.dir);
    const html = renderHtmlReport(report, { script: '', css: '' }, { nonce: 'n0', thumbnails: thumbs });
    const gallery = embeddedPayload(html).gallery!;
    const fileItems = gallery.items.filter((i) => !i.path.startsWith('noise:'));
    assert.ok(fileItems.length >= 8, `gallery lists ${fileItems.length} files`);
    assert.equal(thumbs.size, new Set(fileItems.map((i) => i.path)).size, 'every gallery file has a thumbnail');
    assert.ok(thumbs.size <= THUMBNAIL_LIMITS.maxCount);
    for (const item of gallery.items) {
      if (item.path.startsWith('noise:')) assert.equal(item.src, undefined, 'noise samples have no file');
      else assert.match(item.src ?? '', /^data:image\/png;base64,[A-Za-z0-9+/=]+$/);
    }
    const first = fileItems[0].src!;
    const meta = await sharp(Buffer.from(first.split(',')[1], 'base64')).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 96, 72]);
    let total = 0;
    for (const v of thumbs.values()) total += v.length;
    process.stderr.write(`thumbnails: ${thumbs.size}, ${(total / 1024).toFixed(1)} KB of data URIs\n`);

    // The hostile file name is in the gallery, as data only: nothing in the HTML parses it.
    assert.ok(report.samples.some((s) => s.path.endsWith(hostile)));
    assert.equal(html.includes('<img'), false, 'no markup from names or thumbnails in the HTML');
    assert.match(html, /content="default-src &#39;none&#39;; img-src data: blob:; style-src &#39;nonce-n0&#39;; script-src &#39;nonce-n0&#39;"/);
    assert.equal(/\s(src|href)=/.test(html), false, 'nothing loaded from elsewhere');
  } finally {
    t.cleanup();
  }
});

test('thumbnails stop at the count and size caps, and never read outside the split folders', { timeout: 120_000 }, async () => {
  const t = tempDir();
  try {
    const report = await scoredRun(t.dir);
    assert.equal((await galleryThumbnails(report, t.dir, { ...THUMBNAIL_LIMITS, maxCount: 3 })).size, 3);
    assert.equal((await galleryThumbnails(report, t.dir, { ...THUMBNAIL_LIMITS, maxBytes: 50 })).size, 0);
    const first = [...(await galleryThumbnails(report, t.dir)).values()][0];
    const pngBytes = Buffer.from(first.split(',')[1], 'base64').length;
    assert.deepEqual([...(await galleryThumbnails(report, t.dir, { ...THUMBNAIL_LIMITS, maxTotalBytes: pngBytes })).values()], [first]);
    // A report naming files elsewhere (an edited JSON) gets no thumbnails for them.
    const outside = { ...report, splits: report.splits.map((s) => (s.role === 'id' ? { ...s, source: path.join(t.dir, 'id', 'b') } : s)) };
    const thumbs = await galleryThumbnails(outside, t.dir);
    assert.ok([...thumbs.keys()].every((p) => p.includes(`${path.sep}b${path.sep}`)), 'only files under the split folder');
    assert.equal((await galleryThumbnails(report, undefined)).size, (await galleryThumbnails(report, t.dir)).size, 'absolute paths need no base folder');
  } finally {
    t.cleanup();
  }
});
