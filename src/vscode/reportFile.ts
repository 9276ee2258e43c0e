// Reading a saved report back (reload, Open Last Report). A file that is not a report is refused with a reason
// instead of breaking the panel.
import type { Report } from '../engine/report/types';
import { REPORT_SCHEMA_VERSION } from '../engine/report/types';

const ARRAYS = ['models', 'splits', 'samples', 'ood', 'calibration', 'curves', 'histograms', 'thresholds', 'projections', 'warnings'] as const;

export function parseReport(text: string): { report?: Report; error?: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { error: `not JSON (${(e as Error).message})` };
  }
  if (typeof value !== 'object' || value === null) return { error: 'not a JSON object' };
  const r = value as Record<string, unknown>;
  if (r.schemaVersion !== REPORT_SCHEMA_VERSION) return { error: `schemaVersion ${String(r.schemaVersion)} is not ${REPORT_SCHEMA_VERSION}` };
  const missing = ARRAYS.filter((k) => !Array.isArray(r[k]));
  if (missing.length > 0) return { error: `missing ${missing.join(', ')}` };
  return { report: value as Report };
}
