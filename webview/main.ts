// Entry of the report UI. Inside VS Code it talks to the host over postMessage; in the stand-alone HTML
// report (no acquireVsCodeApi) it reads the payload embedded in <script type="application/json">.
import type { FromWebviewMessage, ToWebviewMessage, ViewPayload, WebviewState } from '../src/shared/protocol';
import { h } from './dom';
import { onThemeChange } from './theme';
import { ReportView } from './view';
import { CompareView } from './compare-view';

interface VsCodeApi {
  postMessage(message: FromWebviewMessage): void;
  getState(): WebviewState | undefined;
  setState(state: WebviewState): void;
}
declare const acquireVsCodeApi: (() => VsCodeApi) | undefined;

const root = document.getElementById('app')!;

if (typeof acquireVsCodeApi === 'function') {
  const vscode = acquireVsCodeApi();
  const view = new ReportView(root, { post: (m) => vscode.postMessage(m), saveState: (s) => vscode.setState(s) });
  let running: string | undefined;
  // The Compare Reports panel runs the same script and is sent `compare` instead of `show`.
  let compare: CompareView | undefined;
  root.appendChild(h('p', { class: 'empty', id: 'waiting' }, 'Waiting for a report…'));
  window.addEventListener('message', (event: MessageEvent<ToWebviewMessage>) => {
    const m = event.data;
    switch (m.type) {
      case 'show':
        view.show(m.payload, vscode.getState());
        view.setRunning(running);
        break;
      case 'running': {
        // Not "ready" while a run is going: the next `show` brings the new report.
        document.body.dataset.ready = 'false';
        const p = m.progress;
        running = p ? `${m.label}: ${p.phase} ${p.done}/${p.total} images · ${p.imagesPerSecond.toFixed(1)} images/s` : `${m.label}…`;
        view.setRunning(running);
        break;
      }
      case 'idle':
        running = undefined;
        view.setRunning(undefined);
        // A failed run leaves the previous report on screen, drawn.
        if (view.hasReport) document.body.dataset.ready = 'true';
        break;
      case 'chartImageRequest':
        vscode.postMessage({ type: 'chartImageResponse', requestId: m.requestId, dataUrl: view.chartImage(m.chart) });
        break;
      case 'operatingPoint':
        view.showOperatingPoint(m.requestId, m.point, m.error);
        break;
      case 'compare':
        compare ??= new CompareView(root, (x) => vscode.postMessage(x));
        compare.show(m.payload);
        break;
    }
  });
  onThemeChange(() => (compare ? compare.redraw() : view.redraw()));
  vscode.postMessage({ type: 'ready' });
} else {
  const data = document.getElementById('oodlens-data');
  const payload = JSON.parse(data?.textContent ?? 'null') as ViewPayload | null;
  const view = new ReportView(root, { saveState: () => undefined });
  if (payload) view.show(payload, undefined);
  else root.appendChild(h('p', { class: 'empty' }, 'This file holds no report.'));
}
