// The report's `attack` rows: how often the search fooled its member, and what each score and the ensemble rule
// flag of the attack inputs at the deployment threshold.
import type { AttackRow, Report } from '../report/types';
import type { SplitPlan } from '../run/plan';

export function attackRows(report: Report, plans: readonly SplitPlan[]): AttackRow[] {
  const rows: AttackRow[] = [];
  for (const plan of plans) {
    const r = plan.attack?.result;
    if (!r) continue;
    let success = 0, sum = 0;
    for (const c of r.confidence) {
      if (c >= r.target) success++;
      sum += c;
    }
    const n = r.confidence.length;
    const rule = report.ensemble?.klRule.find((k) => k.split === plan.name);
    rows.push({
      split: plan.name,
      source: plan.source,
      member: r.member,
      count: n,
      seed: plan.attack!.seed,
      target: r.target,
      steps: r.steps,
      stepsUsed: r.stepsUsed,
      evaluations: r.evaluations,
      seconds: r.seconds,
      cancelled: r.cancelled,
      success,
      successRate: n ? success / n : NaN,
      meanConfidence: n ? sum / n : NaN,
      flagged: report.thresholds
        .filter((t) => plan.name in t.flagged)
        .map((t) => ({ model: t.model, score: t.score, threshold: t.threshold, fittedOn: t.fittedOn, fraction: t.flagged[plan.name] })),
      ensembleRule: rule ? { n: rule.n, kl: rule.kl, disagree: rule.disagree, either: rule.either, fraction: rule.n ? rule.either / rule.n : NaN } : null,
    });
  }
  return rows;
}
