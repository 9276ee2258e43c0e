import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFromWebview, toViewReport } from '../../src/shared/protocol';
import { loadFixture } from '../helpers/report-fixture';

test('well-formed webview messages pass validation', () => {
  assert.deepEqual(parseFromWebview({ type: 'ready' }), { type: 'ready' });
  assert.deepEqual(parseFromWebview({ type: 'revealSample', path: '/d/a.png', extra: 1 }), { type: 'revealSample', path: '/d/a.png' });
  assert.deepEqual(parseFromWebview({ type: 'exportChart', chart: 'roc', dataUrl: 'data:image/png;base64,iVBORw0K' }),
    { type: 'exportChart', chart: 'roc', dataUrl: 'data:image/png;base64,iVBORw0K' });
  assert.deepEqual(parseFromWebview({ type: 'chartImageResponse', requestId: 3, dataUrl: null }), { type: 'chartImageResponse', requestId: 3, dataUrl: null });
});

test('anything else from the webview is dropped', () => {
  for (const m of [null, 'ready', {}, { type: 'nope' }, { type: 'revealSample' }, { type: 'revealSample', path: 3 }, { type: 'revealSample', path: '' },
    { type: 'exportChart', chart: 'secret', dataUrl: 'data:image/png;base64,AA' },
    { type: 'exportChart', chart: 'roc', dataUrl: 'data:text/html;base64,AA' },
    { type: 'exportChart', chart: 'roc', dataUrl: 'file:///etc/passwd' },
    { type: 'chartImageResponse', requestId: '1', dataUrl: null }]) {
    assert.equal(parseFromWebview(m), undefined, JSON.stringify(m));
  }
});

test('the view report drops per-sample rows and packs curve points as typed arrays for postMessage', () => {
  const report = loadFixture();
  const typed = toViewReport(report, true);
  assert.equal('samples' in typed, false);
  assert.equal(typed.sampleCount, report.samples.length);
  assert.ok(typed.curves[0].roc.fpr instanceof Float64Array);
  assert.ok(typed.projections[0].points[0].x instanceof Float32Array);
  assert.deepEqual(Array.from(typed.curves[0].roc.tpr), report.curves[0].roc.tpr);
  assert.deepEqual(typed.ensembleMembers, ['convnet_a', 'convnet_b']);
  const plain = toViewReport(report, false);
  assert.ok(Array.isArray(plain.curves[0].pr.recall));
  assert.deepEqual(JSON.parse(JSON.stringify(plain)).curves[0].roc, report.curves[0].roc);
});
