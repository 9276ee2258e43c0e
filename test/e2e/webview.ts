// The OOD Lens panel as the user sees it: its DOM two iframes deep, and what its canvases actually drew.
import type { FrameLocator, Page } from 'playwright-core';

export function panelFrame(page: Page): FrameLocator {
  // One OOD Lens panel at a time; `first` keeps a webview being torn down from making the match ambiguous.
  return page.locator('iframe.webview.ready').first().contentFrame().locator('iframe#active-frame').contentFrame();
}

/** Waits for the panel to say it has drawn everything. */
export async function waitForPanel(page: Page, timeoutMs = 180_000): Promise<FrameLocator> {
  const frame = panelFrame(page);
  await frame.locator('body[data-ready="true"]').waitFor({ timeout: timeoutMs });
  return frame;
}

export interface Ink {
  /** Pixels with any opacity. */
  painted: number;
  total: number;
  /** Mean colour of the painted pixels, 0–255. */
  mean: [number, number, number];
  /** Distinct colours among painted pixels, quantised to 4 bits a channel. */
  colours: number;
}

/** Reads a canvas's pixels in the page: proof that a chart drew, and of the colours it used. */
export async function canvasInk(frame: FrameLocator, selector: string): Promise<Ink> {
  return frame.locator(selector).evaluate((canvas: HTMLCanvasElement) => {
    const ctx = canvas.getContext('2d');
    if (!ctx || canvas.width === 0 || canvas.height === 0) return { painted: 0, total: 0, mean: [0, 0, 0], colours: 0 };
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    let painted = 0;
    const sum = [0, 0, 0];
    const colours = new Set<number>();
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] === 0) continue;
      painted++;
      sum[0] += data[i];
      sum[1] += data[i + 1];
      sum[2] += data[i + 2];
      colours.add(((data[i] >> 4) << 8) | ((data[i + 1] >> 4) << 4) | (data[i + 2] >> 4));
    }
    const mean = sum.map((s) => (painted ? s / painted : 0)) as [number, number, number];
    return { painted, total: data.length / 4, mean, colours: colours.size };
  });
}

/** A chart counts as drawn when a meaningful share of its pixels is painted with more than one colour. */
export function hasDrawn(ink: Ink, minShare = 0.01): boolean {
  return ink.total > 0 && ink.painted / ink.total >= minShare && ink.colours >= 2;
}

/** Table cells keyed by `data-*` attributes, as the panel's contract names them. */
export async function tableRows(frame: FrameLocator, tableSelector: string): Promise<Array<Record<string, string>>> {
  return frame.locator(`${tableSelector} tr[data-model]`).evaluateAll((rows) =>
    rows.map((tr) => {
      const row: Record<string, string> = { ...(tr as HTMLElement).dataset } as Record<string, string>;
      for (const td of tr.querySelectorAll<HTMLElement>('[data-metric]')) row[td.dataset.metric!] = (td.textContent ?? '').trim();
      return row;
    }),
  );
}
