import type { AttackRow, FinetuneReport, Report } from '../engine/report/types';
import type { GateResult } from '../engine/gates';

/** Folder and class names reach a terminal: control characters (escape sequences) are shown as \uXXXX. */
const safe = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const f3 = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(3) : '—');

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/**
 * Selective prediction (fd-shifts' AURC and friends) and, at the first α, each conformal method's coverage / mean
 * set size, in one table per model and labelled split.
 */
function trustTable(report: Report): string | null {
  const sel = report.selective ?? [];
  if (sel.length === 0) return null;
  const conf = report.conformal ?? [];
  const alpha = conf[0]?.alpha;
  const methods = ['lac', 'aps', 'raps', 'lac_classwise'] as const;
  const cell = (model: string, split: string, m: string) => {
    const r = conf.find((c) => c.model === model && c.split === split && c.method === m && c.alpha === alpha);
    return r ? `${f3(r.coverage)}/${r.mean_set_size.toFixed(2)}` : '—';
  };
  const head = ['model', 'split', 'AURC', 'E-AURC', 'AUGRC', 'risk@95%', ...(alpha === undefined ? [] : methods.map((m) => `${m} cov/size α=${alpha}`))];
  return table(head, sel.map((r) => [r.model, r.split, f3(r.aurc), f3(r.eaurc), f3(r.augrc), f3(r.risk_at_95_coverage), ...(alpha === undefined ? [] : methods.map((m) => cell(r.model, r.split, m)))]));
}

/** The calibrator comparison per model: uncalibrated, then each calibrator (fitted on calib, measured on ID). */
function calibratorsTable(report: Report): string | null {
  const rows = report.calibrators ?? [];
  if (rows.length === 0) return null;
  const cells = (m: { accuracy: number; ece: number; smece: number; nll: number; brier: number }) => [f3(m.accuracy), f3(m.ece), f3(m.smece), f3(m.nll), f3(m.brier)];
  const lines: string[][] = [];
  for (const model of new Set(rows.map((r) => r.model))) {
    const mine = rows.filter((r) => r.model === model);
    lines.push([model, 'none', ...cells(mine[0].before)]);
    for (const r of mine) lines.push([model, `${r.method}${r.topLabel ? '*' : ''}`, ...cells(r.after)]);
  }
  return [`Calibrators fitted on "${rows[0].fittedOn}", measured on "${rows[0].evaluatedOn}" (* top-label: prediction kept)`,
    table(['model', 'calibrator', 'accuracy', 'ECE', 'smECE', 'NLL', 'Brier'], lines)].join('\n');
}

/** The summary printed on stdout: the same rows as the report, 3 decimals. */
export function summary(report: Report, gates: GateResult[] = []): string {
  const out: string[] = [];
  const models = report.models.map((m) => `${m.name} (${m.executionProvider})`).join(', ');
  out.push(`OOD Lens ${report.partial ? '— PARTIAL (cancelled) ' : ''}· ${models} · ${(report.durationMs / 1000).toFixed(1)} s`);
  out.push(`Splits: ${report.splits.map((s) => `${s.name} [${s.role}] ${s.count}${s.skipped.length ? ` (+${s.skipped.length} skipped)` : ''}`).join(' · ')}`);
  out.push('Scores: higher = more OOD · AUROC/AUPR-Out: OOD positive · FPR95: OOD accepted at the threshold keeping 95% of ID');
  if (report.ood.length) {
    out.push('');
    out.push(table(
      ['model', 'ood split', 'score', 'AUROC', 'AUPR-In', 'AUPR-Out', 'FPR95', 'threshold'],
      report.ood.map((r) => [r.model, r.split, r.score, f3(r.auroc), f3(r.aupr_in), f3(r.aupr_out), f3(r.fpr95), f3(r.fpr95_threshold)]),
    ));
  }
  if (report.calibration.length) {
    out.push('');
    const rows: string[][] = [];
    for (const r of report.calibration) {
      rows.push([r.model, r.split, 'before', f3(r.accuracy), f3(r.ece), f3(r.smece), f3(r.ece_debiased), f3(r.mce), f3(r.nll), f3(r.brier), '']);
      const s = r.scaled as Record<string, unknown> | null;
      if (s) rows.push([r.model, r.split, 'after', f3(s.accuracy), f3(s.ece), f3(s.smece), f3(s.ece_debiased), f3(s.mce), f3(s.nll), f3(s.brier), f3(r.temperature)]);
    }
    // smECE: relplot's kernel estimate; dECE: Kumar et al.'s debiased l2 error over 15 equal-mass bins (README, Conventions).
    out.push(table(['model', 'split', 'stage', 'accuracy', 'ECE', 'smECE', 'dECE', 'MCE', 'NLL', 'Brier', 'T'], rows));
  }
  const calibrators = calibratorsTable(report);
  if (calibrators) out.push('', calibrators);
  const trust = trustTable(report);
  if (trust) out.push('', trust);
  const ens = report.ensemble as { klRule?: { split: string; n: number; kl: number; disagree: number; either: number }[] } | undefined;
  if (ens?.klRule?.length) {
    out.push('');
    out.push(table(['ensemble rule', 'split', 'n', 'KL>10×ID', 'disagree', 'either'],
      ens.klRule.map((r) => ['flagged', r.split, String(r.n), String(r.kl), String(r.disagree), String(r.either)])));
  }
  for (const a of report.attack ?? []) out.push('', attackTable(a));
  for (const w of report.warnings) out.push(`warning: ${w}`);
  for (const g of gates) out.push(`${g.passed ? 'gate ok    ' : 'gate FAILED'} ${g.message}`);
  return out.join('\n').split('\n').map(safe).join('\n');
}

/** An attack split: the search's success, then per model the fraction of its inputs each score flags. */
function attackTable(a: AttackRow): string {
  const models = [...new Set(a.flagged.map((f) => f.model))];
  const rule = a.ensembleRule ? ` · ensemble rule (KL > 10× ID or disagree) flags ${a.ensembleRule.either}/${a.ensembleRule.n}` : '';
  return [
    `Attack "${a.split}" on ${a.member}: ${a.success}/${a.count} reached max softmax ≥ ${a.target} (${a.stepsUsed} of ${a.steps} steps, ${a.evaluations} evaluations, ${a.seconds.toFixed(1)} s)${rule}`,
    table(['model', 'flagged at the deployment threshold'], models.map((m) => [m, a.flagged.filter((f) => f.model === m).map((f) => `${f.score} ${f3(f.fraction)}`).join(' · ')])),
  ].join('\n');
}

/** `ood-lens finetune`: the fitted loss, then every split before → after. */
export function finetuneSummary(f: FinetuneReport): string {
  const ba = (a: number | null, b: number | null) => (a === null && b === null ? '—' : `${f3(a)} → ${f3(b)}`);
  const head = `Energy fine-tuning of ${f.model}'s last layer on "${f.fittedOn}" (${f.nLabelled} labelled) with outliers ${f.outliers.source} (${f.outliers.count}): ` +
    `λ ${f.lambda}, T ${f.T}, l2 ${f.l2}, m_in ${f3(f.mIn)}, m_out ${f3(f.mOut)} · loss ${f3(f.loss.before.total)} → ${f3(f.loss.after.total)} in ${f.iterations} L-BFGS iterations${f.converged ? '' : ' (not converged)'} · ‖ΔW‖/‖W‖ ${f3(f.weightChange)}`;
  return [head, table(['split', 'role', 'n', 'accuracy', 'ECE', 'energy AUROC', 'energy FPR95', 'mean energy'],
    f.splits.map((r) => [r.split, r.role, String(r.n), ba(r.before.accuracy, r.after.accuracy), ba(r.before.ece, r.after.ece), ba(r.before.auroc, r.after.auroc), ba(r.before.fpr95, r.after.fpr95), ba(r.before.meanEnergy, r.after.meanEnergy)]))]
    .join('\n').split('\n').map(safe).join('\n');
}
