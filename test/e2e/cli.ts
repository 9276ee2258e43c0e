// The project's CLI, run on the same inputs as the panel to cross-check what the panel shows.
import { readFileSync } from 'node:fs';
import { cliJs } from './paths';
import { run } from './proc';
import type { Report } from '../../src/engine/report/types';

/** The JSON report's contract, as CI scripts read it. */
export type CliReport = Pick<Report, 'ood' | 'calibration' | 'partial'>;

export async function cliScore(opts: { model: string; id: string; ood: string[]; calib?: string; json: string; html?: string }): Promise<CliReport> {
  const args = [cliJs, 'score', '--model', opts.model, '--id', opts.id];
  for (const o of opts.ood) args.push('--ood', o);
  if (opts.calib) args.push('--calib', opts.calib);
  args.push('--json', opts.json);
  if (opts.html) args.push('--html', opts.html);
  await run(process.execPath, [...args, '--quiet'], { timeoutMs: 300_000 });
  return JSON.parse(readFileSync(opts.json, 'utf8')) as CliReport;
}

/** The panel shows metrics to 3 decimals. */
export function fixed3(x: number): string {
  return x.toFixed(3);
}
