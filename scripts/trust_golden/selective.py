#!/usr/bin/python3
"""Golden values for selective prediction (risk–coverage) metrics: src/engine/metrics/selective.ts.

Written in float64 numpy from fd-shifts' definitions (IML-DKFZ/fd-shifts @ c4467ae, fd_shifts/analysis/
rc_stats_utils.py: selective_risk_stats / generalized_risk_stats; rc_stats.py: evaluate_auc with the default
interpolation="linear", aurc_optimal), independently of the TypeScript code. Every curve is computed twice — a
per-sample loop in fd-shifts' style and a vectorised np.unique version — and the two must agree before anything
is written. Higher confidence = accepted first; samples sharing a confidence are accepted or rejected together.

  curve   one point per distinct confidence t (ascending t = descending coverage): accept every sample with
          confidence >= t; coverage = k/n, selective risk = errors accepted / k, threshold = t. fd-shifts then
          appends (coverage 0, last selective risk) for the AURC and (0, 0) for the AUGRC.
  aurc    −np.trapezoid(risks, coverages) over those points: a trapezoid, NOT a step sum, in [0, 1]
          (fd-shifts reports it ×1000, AUC_DISPLAY_SCALE; `fd_shifts_x1000` below).
  eaurc   aurc − (r + (1 − r)·ln(1 − r)), r = error rate, (1 − r)·ln(1 − r) := 0 at r = 1 (fd-shifts adds eps inside
          the log instead).
  augrc   the same trapezoid over generalized risk = errors accepted / n, closing at (0, 0).
  risk_at_95_coverage  the selective risk of the point with the smallest coverage k/n such that 100·k >= 95·n.
  coverage_at_risk[m]  the largest point coverage whose selective risk (float64 e/k) <= m, 0 when none.

Informational (not tested by the TypeScript code): `other_aurc` = torch-uncertainty's AURC (per-sample points at
coverage 1/n..1, trapezoid, divided by 1 − 1/n; NaN for n < 2; ties in the order of a stable descending sort) and
the plain mean over samples of the selective risk at each per-sample coverage (Geifman & El-Yaniv's step sum).

Usage (repository root): scripts/trust_golden/selective.py  → test/fixtures/trust/selective.json
"""
import json
from pathlib import Path

import numpy as np

trapezoid = getattr(np, 'trapezoid', None) or np.trapz  # numpy < 2 names it trapz

OUT = Path(__file__).resolve().parents[2] / 'test' / 'fixtures' / 'trust' / 'selective.json'
MAX_RISKS = [0.0, 0.01, 0.05, 0.1, 0.2, 0.5, 1.0]


def curve_loop(conf, correct):
    """fd-shifts' procedure: ascending sort, drop one sample at a time, emit a point when the confidence changes."""
    n = len(conf)
    order = np.argsort(conf, kind='stable')
    c, wrong = conf[order], 1 - correct[order]
    k, e = n, int(wrong.sum())
    cov, risk, gen, thr = [1.0], [e / n], [e / n], [c[0]]
    for i in range(n - 1):
        k -= 1
        e -= int(wrong[i])
        if c[i] != c[i + 1]:
            cov.append(k / n)
            risk.append(e / k)
            gen.append(e / n)
            thr.append(c[i + 1])
    return np.array(cov), np.array(risk), np.array(gen), np.array(thr)


def curve_unique(conf, correct):
    """Same points from per-value counts: accepted(t) = #{conf >= t}, errors(t) = #{wrong, conf >= t}."""
    n = len(conf)
    values, inverse = np.unique(conf, return_inverse=True)  # ascending; -0.0 and 0.0 are one value
    count = np.bincount(inverse, minlength=len(values))
    errs = np.bincount(inverse, weights=1.0 - correct, minlength=len(values))
    k = np.cumsum(count[::-1])[::-1].astype(np.float64)
    e = np.cumsum(errs[::-1])[::-1]
    return k / n, e / k, e / n, values, k, e


def metrics(conf, correct):
    n = len(conf)
    cov, risk, gen, thr = curve_loop(conf, correct)
    cov2, risk2, gen2, thr2, k, e = curve_unique(conf, correct)
    assert len(cov) == len(cov2) and np.array_equal(thr, thr2)
    assert np.allclose(cov, cov2, rtol=0, atol=1e-15) and np.allclose(risk, risk2, rtol=1e-15, atol=1e-15)
    aurc = -trapezoid(np.r_[risk, risk[-1]], np.r_[cov, 0.0])
    augrc = -trapezoid(np.r_[gen, 0.0], np.r_[cov, 0.0])
    # Same areas as sums of exact segment formulas, as a second check on the trapezoid.
    kk = np.r_[k, 0.0]
    aurc2 = np.sum((kk[:-1] - kk[1:]) / n * (risk + np.r_[risk[1:], risk[-1]]) / 2)
    augrc2 = np.sum((kk[:-1] - kk[1:]) / n * (gen + np.r_[gen[1:], 0.0]) / 2)
    assert abs(aurc - aurc2) <= 1e-14 and abs(augrc - augrc2) <= 1e-14
    r = float(np.mean(1 - correct))
    optimal = r + ((1 - r) * np.log1p(-r) if r < 1 else 0.0)
    i95 = np.nonzero(100 * k >= 95 * n)[0][-1]
    cov_at = []
    for m in MAX_RISKS:
        ok = np.nonzero(risk <= m)[0]
        cov_at.append(float(cov[ok[0]]) if len(ok) else 0.0)
    return {
        # `+ 0.0` turns the −0.0 that an all-zero trapezoid gives into 0.0.
        'n': n, 'error_rate': r, 'aurc': float(aurc) + 0.0, 'eaurc': float(aurc - optimal) + 0.0,
        'augrc': float(augrc) + 0.0,
        'risk_at_95_coverage': float(risk[i95]), 'coverage_at_risk': cov_at,
        'curve': {'coverage': cov.tolist(), 'risk': risk.tolist(), 'threshold': thr.tolist()},
    }


def other_aurc(conf, correct):
    n = len(conf)
    wrong = (1 - correct)[np.argsort(-conf, kind='stable')]
    sel = np.cumsum(wrong) / np.arange(1, n + 1)  # selective risk after accepting the i most confident
    tu = float(trapezoid(sel, np.arange(1, n + 1) / n) / (1 - 1 / n)) if n >= 2 else None
    return {'torch_uncertainty': tu, 'mean_selective_risk': float(sel.mean()),
            'fd_shifts_x1000': 1000 * metrics(conf, correct)['aurc']}


def cases():
    rng = np.random.default_rng(20240607)
    out = []

    def add(name, conf, correct):
        out.append((name, np.asarray(conf, dtype=np.float64), np.asarray(correct, dtype=np.int64)))

    c = rng.random(400)
    add('random', c, rng.random(400) < 0.3 + 0.65 * c)
    c = rng.integers(0, 6, 300) / 5  # six confidence levels
    add('heavy_ties', c, rng.random(300) < 0.2 + 0.7 * c)
    add('all_correct', np.round(rng.random(50), 2), np.ones(50))
    add('all_wrong', np.round(rng.random(50), 2), np.zeros(50))
    add('one_sample_wrong', [0.7], [0])
    add('one_sample_correct', [0.7], [1])
    c = np.where(rng.random(60) < 0.4, 1.0, rng.random(60))  # many confidences exactly 1.0, some of them wrong
    add('confidence_one', c, rng.random(60) < 0.5 + 0.4 * c)
    c = np.round(rng.random(13), 1)
    add('small_n13', c, rng.random(13) < 0.6)
    add('all_tied', np.full(25, 0.5), rng.random(25) < 0.7)
    c = np.r_[rng.normal(0, 3, 36), [0.0, -0.0, 0.0, -0.0]]  # logit-like scores, signed zeros tie
    add('negative_and_signed_zero', c, rng.random(40) < 0.5 + 0.1 * c)
    return out


def main():
    result = []
    for name, conf, correct in cases():
        result.append({'name': name, 'confidence': conf.tolist(), 'correct': correct.tolist(),
                       'expected': metrics(conf, correct), 'other_aurc': other_aurc(conf, correct)})
    doc = {'generator': 'scripts/trust_golden/selective.py', 'max_risks': MAX_RISKS, 'cases': result}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, separators=(',', ':')) + '\n')
    for c in result:
        e, o = c['expected'], c['other_aurc']
        print(f"{c['name']:26s} n={e['n']:4d} r={e['error_rate']:.4f} aurc={e['aurc']:.6f} eaurc={e['eaurc']:.6f} "
              f"augrc={e['augrc']:.6f} r@95={e['risk_at_95_coverage']:.4f} tu={o['torch_uncertainty']} "
              f"mean={o['mean_selective_risk']:.6f}")
    print(OUT, OUT.stat().st_size, 'bytes')


if __name__ == '__main__':
    main()
