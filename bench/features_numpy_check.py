#!/usr/bin/python3
"""Checks bench/features_numpy.py against the float64 golden references of every method it implements.

    /usr/bin/python3 bench/features_numpy_check.py

- The 15 methods of scripts/ood_golden/*.py: both sides run on the 6 cases of test/fixtures/ood/inputs.json (fit
  on the fit split, score the test rows) with the parameters of each fixture (test/fixtures/ood/<fixture>.json;
  nnguide and relation with both of their fixtures).
- mahalanobis (plus its rank-deficient case), knn (k = 1, 5, 50) and vim: their references come from
  scripts/make-golden.py, whose code is not importable; compared with the values it stored, inputs included, in
  test/golden/features.json.

The deviation of a case is max |ours − golden| / max |golden| (relative to the case's largest score, so scores
that cross 0 do not blow it up); NaN must match NaN. The fit passes run in chunks of 37 rows here, so the chunked
accumulation is what is checked. Tolerance 1e-9 for the float64 methods; 1e-5 for knn,
nnguide and relation, whose bank scans use float32 matmuls as faiss / torch do (float32 rounding of the
normalized rows and of the dot products, about 1e-7 per product summed over d). knn is compared on squared
distances, what faiss IndexFlatL2 returns, in absolute terms (the rows are unit vectors, ‖q − x‖² ≤ 4):
‖q‖² + ‖x‖² − 2 q·x in float32 has an absolute error of about 1e-7 whatever the distance, which is large relative
to make-golden's tiny distances (its features sit around an offset of 100, so all normalized rows nearly coincide:
distances ≤ 0.05, and exactly 0 for the 5 queries that are fit rows) — the cancellation OOD Lens's summed
differences avoid. Prints one row per method and exits 1 if any exceeds its tolerance.
"""
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'scripts' / 'ood_golden'))
sys.path.insert(0, str(ROOT / 'bench'))
import class_stats  # noqa: E402
import logit_free  # noqa: E402
import neighbours  # noqa: E402
import shaping  # noqa: E402
import features_numpy  # noqa: E402
from features_numpy import fit_method  # noqa: E402

FLOAT32_SCANS = {'knn', 'nnguide', 'relation'}
FIXTURES = ROOT / 'test' / 'fixtures' / 'ood'


def load_cases():
    """inputs.json's cases with [n, d] / [n, k] float32 arrays (the values the engine gets), labels int64."""
    out = []
    for c in json.loads((FIXTURES / 'inputs.json').read_text())['cases']:
        d, k = c['d'], c['k']
        split = lambda s: {'features': np.array(s['features'], np.float32).reshape(-1, d),  # noqa: E731
                           'logits': np.array(s['logits'], np.float32).reshape(-1, k),
                           'labels': np.array(s.get('labels', []), np.int64)}
        out.append({'name': c['name'], 'd': d, 'k': k, 'W': np.array(c['W'], np.float32).reshape(k, d),
                    'b': np.array(c['b'], np.float32), 'fit': split(c['fit']), 'test': split(c['test'])})
    return out


def golden(method, c, p):
    """The golden script's scores for case c with the fixture's parameters p."""
    f64 = lambda a: np.asarray(a, np.float64)  # noqa: E731
    hf, zf, yf = f64(c['fit']['features']), f64(c['fit']['logits']), c['fit']['labels']
    ht, zt, W, b = f64(c['test']['features']), f64(c['test']['logits']), f64(c['W']), f64(c['b'])
    calls = {
        'gradnorm': lambda: logit_free.gradnorm(ht, zt),
        'react': lambda: shaping.react(c, p['percentile']),
        'ash': lambda: shaping.ash_s(c, p['percentile']),
        'scale': lambda: shaping.scale(c, p['percentile']),
        'dice': lambda: shaping.dice(c, p['p']),
        'vra': lambda: shaping.vra(c, p['percentile_high'], p['percentile_low'], p['gamma'], bool(p['zero_low'])),
        'klm': lambda: class_stats.klm(zf, zt),
        'she': lambda: class_stats.she(hf, zf, yf, ht, zt),
        'rmds': lambda: class_stats.rmds(hf, yf, ht),
        'residual': lambda: class_stats.residual(hf, ht, W, b),
        'neco': lambda: class_stats.neco(hf, ht, zt, bool(p['maxlogit'])),
        'nci': lambda: class_stats.nci(hf, ht, zt, W, p['alpha']),
        'fdbd': lambda: class_stats.fdbd(hf, ht, zt, W),
        'nnguide': lambda: neighbours.nnguide(hf, zf, ht, zt, p['k'], p['alpha']),
        'relation': lambda: neighbours.relation(hf, zf, ht, zt, p['pow'], p['thres']),
    }
    return calls[method]()


def deviation(ours, ref, relative=True):
    """max |ours − ref| / max |ref| (relative = False: max |ours − ref|) over the finite references; inf if NaNs
    differ."""
    ours, ref = np.asarray(ours, np.float64), np.asarray(ref, np.float64)
    if not np.array_equal(np.isnan(ours), np.isnan(ref)):
        return np.inf
    ok = ~np.isnan(ref)
    if not ok.any():
        return 0.0
    return float(np.abs(ours[ok] - ref[ok]).max() / (np.abs(ref[ok]).max() if relative else 1.0))


def ood_golden_rows(cases):
    """(label, method, [deviation per case]) for every fixture of scripts/ood_golden."""
    rows = []
    for path in sorted(FIXTURES.glob('*.json')):
        if path.name == 'inputs.json':
            continue
        fx = json.loads(path.read_text())
        method, params = fx['method'], fx['params']
        method = method.split('-')[0]  # nnguide-stride, relation-pow2
        devs = []
        for c in cases:
            score = fit_method(method, c['fit'], c['W'], c['b'], params)
            devs.append(deviation(score(c['test']['features'], c['test']['logits']), golden(method, c, params)))
        rows.append((f'{path.stem} {json.dumps(params)}', method, devs))
    return rows


def make_golden_rows():
    """(label, method, [deviation]) against test/golden/features.json (scripts/make-golden.py)."""
    g = json.loads((ROOT / 'test' / 'golden' / 'features.json').read_text())
    X, Q, y = (np.array(g[key], np.float32) for key in ('features', 'queries', 'labels'))
    y = y.astype(np.int64)
    unlabelled = np.zeros((len(X), g['classes']), np.float32)  # mahalanobis needs only the number of classes
    split = lambda h, z=unlabelled: {'features': h, 'logits': z, 'labels': y}  # noqa: E731
    rd = g['rank_deficient']
    rows = []
    for name, h, q, ref in [('mahalanobis', X, Q, g['mahalanobis']),
                            ('mahalanobis rank-deficient', np.array(rd['features'], np.float32),
                             np.array(rd['queries'], np.float32), rd['mahalanobis'])]:
        score = fit_method('mahalanobis', split(h), np.zeros((g['classes'], g['d'])), np.zeros(g['classes']))
        rows.append((name, 'mahalanobis', [deviation(score(q, None), ref)]))
    for k, ref in g['knn'].items():
        score = fit_method('knn', split(X), np.zeros((1, g['d'])), np.zeros(1), {'k': float(k)})
        devs = [deviation(score(Q, None) ** 2, np.square(ref), relative=False)]
        rows.append((f'knn k={k} (squared distances, absolute)', 'knn', devs))
    v = g['vim']
    W, b = np.array(v['W']), np.array(v['b'])
    logits = lambda h: h.astype(np.float64) @ W.T + b  # make-golden's float64 logits  # noqa: E731
    score = fit_method('vim', split(X, logits(X)), W, b, {'dim': float(v['dim'])})
    rows.append((f'vim dim={v["dim"]}', 'vim', [deviation(score(Q, logits(Q)), v['scores'])]))
    return rows


def main():
    features_numpy.CHUNK = 37  # several fit chunks per case, some without labelled rows, as at full size
    rows = ood_golden_rows(load_cases()) + make_golden_rows()
    failed = False
    print(f'{"reference":78} {"cases":>5} {"max deviation":>14} {"tolerance":>9}')
    for label, method, devs in rows:
        tol = 1e-5 if method in FLOAT32_SCANS else 1e-9
        worst = max(devs)
        failed |= not worst <= tol
        print(f'{label:78} {len(devs):>5} {worst:>14.2e} {tol:>9.0e}{"" if worst <= tol else "  FAIL"}')
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
