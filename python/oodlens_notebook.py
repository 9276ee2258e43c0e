"""OOD Lens reports from your own logits, shown inline in a VS Code notebook.

    import oodlens_notebook as ol
    ol.show(id_logits, {"svhn": svhn_logits}, id_labels=labels, classes=names)

`report()` returns the same JSON report `ood-lens score --json` writes (schemas/report.schema.json), computed the
way the engine computes it: MSP, max-logit and energy scores (higher = more OOD), AUROC / AUPR / FPR95 with OOD
positive, ROC and PR curves, histograms, deployment thresholds, and, with labels, the calibration row (ECE, MCE,
NLL, Brier, smECE, debiased and top-label ECE, reliability bins with consistency bands, the smooth curve) and
selective prediction (risk–coverage, AURC).
`show()` displays it as `application/vnd.oodlens.report+json`, which the OOD Lens extension draws. numpy only.
Not computed here (use the CLI for them): temperature scaling and calibrators, conformal sets (they need a
calibration split), feature-based methods, projections, ensembles.
"""
import datetime
import math
import sys

import numpy as np

__version__ = "0.1.0"
MIME = "application/vnd.oodlens.report+json"
SCHEMA_VERSION = 2
SCORES = ("msp", "max_logit", "energy")

# Word for word the engine's (src/engine/analysis/conventions.ts); the unit test checks they agree.
CONVENTIONS = {
    "scoreDirection": "Every OOD score is oriented so that higher = more OOD (max softmax, max logit and logsumexp are negated).",
    "positiveClass": "AUROC and AUPR-Out take OOD as the positive class; AUPR-In takes ID as positive on the negated score.",
    "aupr": "AUPR is average precision (scikit-learn average_precision_score), not the trapezoid of the PR curve.",
    "fpr95": "fpr95 = fraction of OOD samples accepted as ID at threshold t, the k-th smallest ID score with k = ceil(0.95·n_id); a sample is accepted when score ≤ t (FPR at 95% TPR with ID positive). fpr95_ood_positive = ID false-positive rate at the first threshold where 95% of OOD is flagged.",
    "ties": "AUROC counts ties as one half (Mann–Whitney), exactly as scikit-learn.",
    "calibration": "Confidence = max softmax probability, prediction = first argmax; ECE uses equal-width bins (lo, hi], ECE = Σ (n_b/N)|acc_b − conf_b|; confidence 1.0 falls in the last bin, empty bins are not drawn.",
    "smece": "smece = SmoothECE as relplot 1.0.3 computes it (reflected Gaussian kernel on its grid, a sample at exactly 1 counted once), σ = smece_bandwidth from its fixed-point search; smooth = the kernel-smoothed accuracy at σ with a 95% bootstrap band (100 resamples, σ fixed).",
    "eceDebiased": "ece_debiased = Kumar et al. (2019) debiased l2 calibration error over 15 equal-mass bins (verified_calibration lower_bound_scaling_ce, p = 2); ece_toplabel = Gupta & Ramdas top-label ECE, equal-width bins per predicted class weighted by class frequency.",
    "consistencyBands": "bins[].consistency_lo/hi = 5% and 95% quantiles of each bin accuracy over 1,000 resamples of y ~ Bernoulli(confidence) (Bröcker & Smith 2007): where a perfectly calibrated model would fall.",
    "threshold": "The deployment threshold keeps keepFraction of the fitting split (calibration split when given, else ID); a sample is flagged OOD when score > threshold.",
}


def _ssum(a, axis=-1):
    """Left-to-right sum, the order the engine's loops add in (numpy's sum is pairwise)."""
    a = np.asarray(a, dtype=np.float64)
    return np.cumsum(a, axis=axis).take(-1, axis=axis) if a.shape[axis] else np.zeros(np.delete(a.shape, axis))


def _keep_count(n, q):
    """k = ceil(q·n) in [1, n], ignoring the few ulps by which q·n can land above an integer."""
    qn = q * n
    return min(n, max(1, math.ceil(qn - 4 * sys.float_info.epsilon * qn)))


def _quantile(s, q):
    """numpy's linear quantile on an ascending array, written as the engine computes it."""
    n = len(s)
    if n == 0:
        return math.nan
    pos = q * (n - 1)
    lo = math.floor(pos)
    hi = min(n - 1, lo + 1)
    return s[lo] + (pos - lo) * (s[hi] - s[lo])


def _mulberry32(seed, count, start=0):
    """Draws start … start+count−1 of the engine's mulberry32: its state moves by a constant, so it vectorizes."""
    u = np.uint32  # array arithmetic in uint32 wraps modulo 2^32, as the engine's Math.imul and >>> 0 do
    t = u(seed) + np.arange(start + 1, start + count + 1, dtype=np.uint64).astype(u) * u(0x6D2B79F5)
    t = (t ^ (t >> u(15))) * (t | u(1))
    t = t ^ (t + (t ^ (t >> u(7))) * (t | u(61)))
    return (t ^ (t >> u(14))).astype(np.float64) / 4294967296.0


# ---- scores (src/engine/scores/logit-scores.ts) -------------------------------------------------------------

CHUNK = 1 << 22  # logits per block: each float64 copy of a block is 32 MB, whatever the split's size


def _blocks(z):
    """Row blocks of float32 logits in float64: rows, all-finite mask, first argmax, max m, exp(z − m) (0 rows if not finite)."""
    step = max(1, CHUNK // z.shape[1])
    for lo in range(0, len(z), step):
        zc = z[lo:lo + step].astype(np.float64)
        finite = np.isfinite(zc).all(axis=1)
        zc[~finite] = 0.0
        arg = np.argmax(zc, axis=1)
        m = zc[np.arange(len(zc)), arg]
        yield slice(lo, lo + len(zc)), zc, finite, arg, m, np.exp(zc - m[:, None])


class Outputs:
    """One split's logits, summarized per row as the engine reads them (float32 in, float64 arithmetic)."""

    def __init__(self, z):
        n = len(z)
        self.z, self.finite, self.arg = z, np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int64)
        self.m, self.total, self.rest = np.zeros(n), np.zeros(n), np.zeros(n)
        for rows, _, finite, arg, m, e in _blocks(z):
            self.finite[rows], self.arg[rows], self.m[rows] = finite, arg, m
            self.total[rows] = _ssum(e, axis=1)  # Σ_j exp(z_j − m), the top term included where it falls
            e[np.arange(len(e)), arg] = 0.0
            self.rest[rows] = _ssum(e, axis=1)  # the same without the top term


def logit_scores(out, names=SCORES):
    """msp = −max p, max_logit = −max z, energy = −logsumexp z (T = 1); NaN for rows with a non-finite logit."""
    all_scores = {"msp": -1.0 / (1.0 + out.rest), "max_logit": -out.m, "energy": -out.m - np.log1p(out.rest)}
    return {n: np.where(out.finite, all_scores[n], np.nan) for n in names}


# ---- OOD metrics and curves (src/engine/metrics/ood-metrics.ts) ----------------------------------------------

def ood_metrics(id_scores, ood_scores):
    a = np.sort(id_scores[~np.isnan(id_scores)])
    b = np.sort(ood_scores[~np.isnan(ood_scores)])
    n_id, n_ood = len(a), len(b)
    out = {"n_id": n_id, "n_ood": n_ood, "n_excluded_id": len(id_scores) - n_id, "n_excluded_ood": len(ood_scores) - n_ood}
    names = ("auroc", "aupr_out", "aupr_in", "fpr95", "fpr95_threshold", "fpr95_ood_positive", "detection_error")
    if n_id == 0 or n_ood == 0:
        which = "ID and OOD splits have" if n_id == 0 and n_ood == 0 else "ID split has" if n_id == 0 else "OOD split has"
        return {**out, **{k: math.nan for k in names}, "reason": f"{which} no scores (empty or all NaN)"}
    v = np.unique(np.concatenate([a, b]))
    id_below = np.searchsorted(a, v, "left").astype(np.float64)
    ood_below = np.searchsorted(b, v, "left").astype(np.float64)
    ci = np.searchsorted(a, v, "right") - id_below
    co = np.searchsorted(b, v, "right") - ood_below
    tp, fp = n_ood - ood_below, n_id - id_below
    tpr, fpr = tp / n_ood, fp / n_id
    ok = np.nonzero(tpr >= 0.95)[0]
    id_after, ood_after = id_below + ci, ood_below + co
    t = a[_keep_count(n_id, 0.95) - 1]
    return {**out,
            "auroc": _ssum(co * (id_below + 0.5 * ci)) / n_id / n_ood,
            "aupr_out": _ssum(np.where(co > 0, (co / n_ood) * (tp / (tp + fp)), 0.0)),
            "aupr_in": _ssum(np.where(ci > 0, (ci / n_id) * (id_after / (id_after + ood_after)), 0.0)),
            "fpr95": np.searchsorted(b, t, "right") / n_ood,
            "fpr95_threshold": t,
            "fpr95_ood_positive": fpr[ok[-1]] if len(ok) else math.nan,
            "detection_error": min(0.5, float(np.min(0.5 * (fpr + 1 - tpr))))}


class _Sampler:
    """Keeps the first and last points, any point marked keep, and points at equal L1 arc-length steps between."""

    def __init__(self, max_points, length, reserve_keep):
        self.max_points, self.xs, self.ys, self.walked = max_points, [], [], 0.0
        self.step = length / max(1, max_points - (3 if reserve_keep else 2))
        self.next, self.px, self.py = self.step, math.nan, math.nan

    def add(self, x, y, last, keep=False):
        if self.xs:
            self.walked += abs(x - self.px) + abs(y - self.py)
        self.px, self.py = x, y
        due = self.walked >= self.next and len(self.xs) < self.max_points - 2
        if not self.xs or last or keep or due:
            self.xs.append(x)
            self.ys.append(y)
            if due:
                self.next = self.walked + self.step


def curves(id_scores, ood_scores, max_points=1000):
    """ROC and PR with OOD positive, downsampled for drawing as the engine does (≤ max_points, FPR95 point kept)."""
    a = np.sort(id_scores[~np.isnan(id_scores)])
    b = np.sort(ood_scores[~np.isnan(ood_scores)])
    n_id, n_ood = len(a), len(b)
    if n_id == 0 or n_ood == 0:
        return {"roc": {"fpr": [], "tpr": []}, "pr": {"recall": [], "precision": []}, "fpr95Point": {"fpr": math.nan, "tpr": math.nan}}
    t = a[_keep_count(n_id, 0.95) - 1]
    fp95, tp95 = n_id - np.searchsorted(a, t, "right"), n_ood - np.searchsorted(b, t, "right")
    v = np.unique(np.concatenate([a, b]))[::-1]
    fp = (n_id - np.searchsorted(a, v, "left")).tolist()
    tp = (n_ood - np.searchsorted(b, v, "left")).tolist()
    last = len(v) - 1
    roc = _Sampler(max_points, 2, True)
    roc.add(0, 0, False)
    for i in range(len(v)):
        roc.add(fp[i] / n_id, tp[i] / n_ood, i == last, fp[i] == fp95 and tp[i] == tp95)
    pts = [(tp[i] / n_ood, tp[i] / (tp[i] + fp[i]), i == last) for i in range(len(v)) if tp[i] > 0]
    length, px, py = 0.0, 0.0, 1.0
    for x, y, _ in pts:
        length += abs(x - px) + abs(y - py)
        px, py = x, y
    pr = _Sampler(max_points, length, False)
    pr.add(0, 1, False)
    for x, y, is_last in pts:
        pr.add(x, y, is_last)
    return {"roc": {"fpr": roc.xs, "tpr": roc.ys}, "pr": {"recall": pr.xs, "precision": pr.ys},
            "fpr95Point": {"fpr": fp95 / n_id, "tpr": tp95 / n_ood}}


def histogram(model, score, by_split, bins, threshold):
    """One score over several splits on shared equal-width edges spanning every finite value."""
    finite = [v[np.isfinite(v)] for v in by_split.values()]
    values = np.concatenate(finite) if finite else np.zeros(0)
    if len(values) == 0:
        return {"model": model, "score": score, "edges": [], "counts": {}, "threshold": threshold}
    lo, hi = float(values.min()), float(values.max())
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    width = (hi - lo) / bins
    edges = [hi if i == bins else lo + i * width for i in range(bins + 1)]
    counts = {s: np.bincount(np.minimum(bins - 1, np.floor((f - lo) / width).astype(np.int64)), minlength=bins).tolist()
              for s, f in zip(by_split, finite)}
    return {"model": model, "score": score, "edges": edges, "counts": counts, "threshold": threshold}


# ---- calibration (src/engine/metrics/calibration-metrics.ts, binned-estimators.ts, smece.ts, …) ----------------

def _bin_edges(bins):
    edges = np.arange(bins + 1) * (1 / bins)
    edges[bins] = 1.0
    return edges


def _bin_of(edges, x):
    """(lo, hi] bins: searchsorted(edges, x, 'left') − 1, 0 joining the first bin."""
    return np.clip(np.searchsorted(edges, x, "left") - 1, 0, len(edges) - 2)


def _cells(cell, conf, hits, cells):
    """Per cell: count, hits and confidence sums."""
    return (np.bincount(cell, minlength=cells).astype(np.float64), np.bincount(cell, weights=hits, minlength=cells),
            np.bincount(cell, weights=conf, minlength=cells))


def _gap(count, hits, cs, n):
    """Σ over non-empty cells of (n_c/N)|acc_c − conf_c|, and the largest gap."""
    used = count > 0
    gap = np.abs(hits[used] / count[used] - cs[used] / count[used])
    return _ssum((count[used] / n) * gap), (float(gap.max()) if len(gap) else 0.0)


def _equal_mass_ece(conf, correct, bins):
    n = len(conf)
    order = np.argsort(conf, kind="stable")
    base, extra = divmod(n, bins)
    ece, start = 0.0, 0
    for b in range(bins):
        size = base + (1 if b < extra else 0)
        if size:
            rows = order[start:start + size]
            ece += (size / n) * abs(_ssum(correct[rows]) / size - _ssum(conf[rows]) / size)
            start += size
    return ece


def _debiased_ece(conf, correct, bins):
    n = len(conf)
    s = np.sort(conf)
    parts = min(bins, n)
    base, extra = divmod(n, parts)
    ends = np.cumsum([base + (1 if p < extra else 0) for p in range(parts - 1)]).astype(np.int64)
    edges = np.unique(np.append((s[ends - 1] + s[ends]) / 2, 1.0))
    b = np.minimum(np.searchsorted(edges, conf, "left"), len(edges) - 1)
    count = np.bincount(b, minlength=len(edges)).astype(np.float64)
    sum_conf = np.bincount(b, weights=conf, minlength=len(edges))
    sum_y = np.bincount(b, weights=correct, minlength=len(edges))
    used = count >= 2
    y = sum_y[used] / count[used]
    gap = sum_conf[used] / count[used] - y
    sq = _ssum((count[used] / n) * (gap * gap - (y * (1 - y)) / (count[used] - 1)))
    return math.sqrt(max(sq, 0.0))


class _Smoother:
    """relplot's reflected Gaussian kernel on its grid, as src/engine/metrics/smece.ts computes it."""

    def __init__(self, f, sigma):
        m = self.m = math.floor(max(2000, round(20 / sigma)) / 2) + 1
        t = _linspace01(m)
        ker = np.exp(-(t - 0.5) * (t - 0.5) / (2 * sigma * sigma)) / (math.sqrt(2 * math.pi) * sigma)
        big = np.nonzero(ker >= ker[m >> 1] * 1e-20)[0]
        self.lo, self.hi, self.ker = int(big[0]), int(big[-1]), ker
        self.bin = np.clip(np.trunc(f * (m - 1)), 0, m - 2).astype(np.int64)
        self.frac = f * (m - 1) - self.bin

    def smooth(self, w, x_eval, rows=None):
        m = self.m
        rows = np.arange(len(self.bin)) if rows is None else rows
        b, fr, wr = self.bin[rows], self.frac[rows], np.asarray(w, dtype=np.float64)[rows]
        idx = np.stack([b, b + 1], axis=1).ravel()
        values = np.bincount(idx, weights=np.stack([(1 - fr) * wr, fr * wr], axis=1).ravel(), minlength=m)
        ext = np.concatenate([values[:0:-1], values, values[-2::-1]])
        conv = np.convolve(ext, self.ker[self.lo:self.hi + 1])
        start = (m >> 1) + m - 1 - self.lo
        at = conv[start:start + m]
        step = 1 / (m - 1)
        k = np.clip(np.trunc(x_eval * (m - 1)), 0, m - 2).astype(np.int64)
        r = (x_eval - k * step) / step
        return at[k] * (1 - r) + at[k + 1] * r


def _linspace01(num):
    t = np.arange(num) * (1 / (num - 1))
    t[num - 1] = 1.0
    return t


def _smece_at(conf, correct, sigma):
    t = _linspace01(max(round(10 / sigma), 200))
    k = _Smoother(conf, sigma)
    ys = k.smooth(conf - correct, t)
    d = k.smooth(np.ones(len(conf)), t) + 1e-4
    return _ssum(np.abs(ys / d) * d) / _ssum(d)


def smece(conf, correct):
    """smECE with relplot's fixed-point search for σ; returns (smece, σ)."""
    if len(conf) == 0:
        return math.nan, math.nan
    def fixed(s):
        return s < 0.001 or s < _smece_at(conf, correct, s)
    sigma, end = 1.0, 0.0
    if not fixed(1.0):
        for _ in range(10):
            mid = (sigma + end) / 2
            if fixed(mid):
                end = mid
            else:
                sigma = mid
    return _smece_at(conf, correct, sigma), sigma


def smooth_reliability(conf, correct, sigma, resamples=100, points=200, level=0.95, seed=0):
    n = len(conf)
    t = _linspace01(points)
    k = _Smoother(conf, sigma)
    ones = np.ones(n)
    def curve(rows=None):
        ys, dens = k.smooth(correct, t, rows), k.smooth(ones, t, rows)
        return ys / (dens + 1e-4), dens
    mu, dens = curve()
    draws = _mulberry32(seed, resamples * n)
    boot = np.sort(np.array([curve(np.floor(draws[r * n:(r + 1) * n] * n).astype(np.int64))[0] for r in range(resamples)]), axis=0)
    lower = [_quantile(boot[:, e], (1 - level) / 2) for e in range(points)] if resamples else []
    upper = [_quantile(boot[:, e], (1 + level) / 2) for e in range(points)] if resamples else []
    return {"sigma": sigma, "x": t.tolist(), "accuracy": mu.tolist(), "lower": lower, "upper": upper,
            "resamples": resamples, "level": level, "density": (dens / n).tolist()}


def consistency_bands(conf, bin_of, bins, resamples=1000, seed=0, lower=0.05, upper=0.95):
    """Bröcker–Smith bands: per bin, quantiles of its accuracy when y ~ Bernoulli(confidence)."""
    n = len(conf)
    count = np.bincount(bin_of, minlength=bins).astype(np.float64)
    onehot = np.zeros((n, bins))
    onehot[np.arange(n), bin_of] = 1.0
    acc = np.zeros((resamples, bins))
    chunk = max(1, 2_000_000 // max(n, 1))
    for r0 in range(0, resamples, chunk):
        r1 = min(resamples, r0 + chunk)
        hits = (_mulberry32(seed, (r1 - r0) * n, r0 * n).reshape(r1 - r0, n) < conf).astype(np.float64) @ onehot
        acc[r0:r1] = hits / np.maximum(count, 1)
    acc = np.sort(acc, axis=0)
    return [None if not count[b] else (_quantile(acc[:, b], lower), _quantile(acc[:, b], upper)) for b in range(bins)]


def _classwise(out, use, labels, edges, k):
    """Classwise ECE's cells, NLL and Brier terms: every class's probability of every used row, block by block."""
    bins = len(edges) - 1
    count, cs, hits, nll, brier = np.zeros(k * bins), np.zeros(k * bins), np.zeros(k * bins), [], []
    for rows, zc, _, _, m, e in _blocks(out.z):
        keep = use[rows]
        if not keep.any():
            continue
        e, y, zc, m = e[keep], labels[rows][keep], zc[keep], m[keep]
        r = np.arange(len(e))
        s = _ssum(e, axis=1)
        p = e / s[:, None]
        cell = (np.arange(k)[None, :] * bins + _bin_of(edges, p)).ravel()
        count += np.bincount(cell, minlength=k * bins)
        cs += np.bincount(cell, weights=p.ravel(), minlength=k * bins)
        hits += np.bincount(y * bins + _bin_of(edges, p[r, y]), minlength=k * bins)
        nll.append(np.log(s) - (zc[r, y] - m))
        p[r, y] -= 1.0
        brier.append(_ssum(p * p, axis=1))
    return _gap(count, hits, cs, int(use.sum()))[0] / k, np.concatenate(nll), np.concatenate(brier)


def calibration_row(model, split, out, labels, bins=15):
    """The ID split's calibration row (no temperature: that needs a calibration split, see the CLI)."""
    k = out.z.shape[1]
    use = (labels >= 0) & out.finite
    n = int(use.sum())
    if n == 0 or k < 2:
        return None, []
    arg, y = out.arg[use], labels[use]
    conf = 1.0 / out.total[use]  # p of the top class: exp(0) / Σ
    correct = (arg == y).astype(np.float64)
    edges = _bin_edges(bins)
    bin_of = _bin_of(edges, conf)
    count, hits, cs = _cells(bin_of, conf, correct, bins)
    ece, mce = _gap(count, hits, cs, n)
    toplabel = _gap(*_cells(arg * bins + bin_of, conf, correct, k * bins), n)[0]
    classwise, nll, brier = _classwise(out, use, labels, edges, k)
    sm, sigma = smece(conf, correct)
    bands = consistency_bands(conf, bin_of, bins)
    row = {"model": model, "split": split, "n": n, "accuracy": _ssum(correct) / n, "ece": ece,
           "ece_em": _equal_mass_ece(conf, correct, bins), "mce": mce, "classwise_ece": classwise,
           "nll": _ssum(nll) / n, "brier": _ssum(brier) / n,
           "smece": sm, "smece_bandwidth": sigma, "ece_debiased": _debiased_ece(conf, correct, bins),
           "ece_toplabel": toplabel, "temperature": None, "scaled": None,
           "bins": [{"lo": edges[b], "hi": edges[b + 1], "count": int(count[b]),
                     "accuracy": hits[b] / count[b] if count[b] else None, "confidence": cs[b] / count[b] if count[b] else None,
                     "consistency_lo": bands[b][0] if bands[b] else None, "consistency_hi": bands[b][1] if bands[b] else None}
                    for b in range(bins)],
           "smooth": smooth_reliability(conf, correct, sigma)}
    unlabelled, nonfinite = int(np.sum(labels < 0)), int(np.sum(~out.finite & (labels >= 0)))
    notes = ([f"{unlabelled} unlabelled sample(s) excluded"] if unlabelled else []) + \
            ([f"{nonfinite} sample(s) with non-finite logits excluded"] if nonfinite else [])
    return row, [f'{model} on "{split}": {note}' for note in notes]



def selective_row(model, split, out, labels, curve_points=200):
    """Risk–coverage with max softmax as confidence, fd-shifts' AURC / E-AURC / AUGRC (src/engine/metrics/selective.ts)."""
    keep = (labels >= 0) & out.finite
    if not keep.any():
        return None
    conf = 1.0 / out.total[keep]
    bad = np.sort(conf[out.arg[keep] != labels[keep]])
    t = np.unique(conf)  # one point per distinct confidence, full coverage first
    n = len(conf)
    k = (n - np.searchsorted(np.sort(conf), t, "left")).astype(np.float64)
    e = (len(bad) - np.searchsorted(bad, t, "left")).astype(np.float64)
    risk = e / k
    width = k - np.append(k[1:], 0)
    aurc = _ssum((width * (risk + np.append(risk[1:], risk[-1]))) / 2) / n
    augrc = float(np.sum(width * (e + np.append(e[1:], 0)))) / (2 * n * n)
    at95 = int(np.nonzero(100 * k >= 95 * n)[0][-1])
    r = e[0] / n
    optimal = 1.0 if r == 1 else r + (1 - r) * math.log1p(-r)
    coverage, m = k / n, len(t)
    idx = [math.floor(i * (m - 1) / (curve_points - 1) + 0.5) for i in range(curve_points)] if m > curve_points else range(m)
    return {"model": model, "split": split, "confidence": "msp", "n": n, "error_rate": r, "aurc": aurc,
            "eaurc": aurc - optimal, "augrc": augrc, "risk_at_95_coverage": e[at95] / k[at95],
            "curve": {"coverage": [coverage[i] for i in idx], "risk": [risk[i] for i in idx]}}

# ---- the report ---------------------------------------------------------------------------------------------

def _clean(value):
    """JSON as the engine writes it: NaN and ±Infinity become null, numpy values plain Python."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def _matrix(name, value, k=None):
    z = np.asarray(value, dtype=np.float32)  # the engine reads logits as float32
    if z.ndim != 2 or z.shape[1] == 0:
        raise ValueError(f"{name}: logits must be a 2-D array [N, K], got shape {z.shape}")
    if k is not None and z.shape[1] != k:
        raise ValueError(f"{name}: {z.shape[1]} classes, the ID logits have {k}")
    return z


def report(id_logits, ood_logits, id_labels=None, *, classes=None, model="model", id_name="id", scores=SCORES,
           keep_fraction=0.95, histogram_bins=30, ece_bins=15, samples=False):
    """The OOD Lens JSON report of one model's logits: `ood_logits` is an array (split "ood") or {name: array}.

    `id_labels` (class indices; −1 = unlabelled) add the calibration row. `samples=True` adds one row per sample
    (split#index paths, predictions, scores): the panel's gallery then lists them; it makes the notebook larger.
    """
    started = datetime.datetime.now(datetime.timezone.utc)
    unknown = [s for s in scores if s not in SCORES]
    if unknown:
        raise ValueError(f"unknown score(s) {unknown}; this helper computes {list(SCORES)}")
    z_id = _matrix(id_name, id_logits)
    k = z_id.shape[1]
    oods = ood_logits if isinstance(ood_logits, dict) else {"ood": ood_logits}
    splits = {id_name: z_id, **{str(n): _matrix(str(n), v, k) for n, v in oods.items()}}
    if len(splits) != len(oods) + 1 or not oods:
        raise ValueError(f"give one or more OOD splits, none named like the ID split ({id_name!r})")
    labels = None
    if id_labels is not None:
        labels = np.asarray(id_labels).astype(np.int64).ravel()
        if len(labels) != len(z_id):
            raise ValueError(f"id_labels has {len(labels)} labels for {len(z_id)} rows of logits")
        labels = np.where((labels >= 0) & (labels < k), labels, -1)
    classes = [str(c) for c in classes] if classes is not None else [f"class_{i}" for i in range(k)]
    if len(classes) != k:
        raise ValueError(f"{len(classes)} class names for {k} logits columns")

    warnings = []
    outputs = {name: Outputs(z) for name, z in splits.items()}
    per_split = {name: logit_scores(out, scores) for name, out in outputs.items()}
    for name, z in splits.items():
        bad = int(np.sum(~outputs[name].finite))
        if bad:
            warnings.append(f'{model} on "{name}": {bad} of {len(z)} samples have NaN or infinite outputs; they are left out of every metric')
    ood_names = [n for n in splits if n != id_name]
    ood_rows, curve_rows, thresholds, histograms = [], [], [], []
    for split in ood_names:
        for s in scores:
            a, b = per_split[id_name][s], per_split[split][s]
            ood_rows.append({"model": model, "split": split, "score": s, **ood_metrics(a, b)})
            curve_rows.append({"model": model, "split": split, "score": s, **curves(a, b)})
    for s in scores:
        fit = np.sort(per_split[id_name][s][~np.isnan(per_split[id_name][s])])
        t = fit[_keep_count(len(fit), keep_fraction) - 1] if len(fit) else math.nan
        flagged = {}
        for name in splits:
            v = per_split[name][s][~np.isnan(per_split[name][s])]
            flagged[name] = float(np.sum(v > t)) / len(v) if len(v) and t == t else math.nan
        thresholds.append({"model": model, "score": s, "fittedOn": id_name, "keepFraction": keep_fraction, "threshold": t, "flagged": flagged})
        histograms.append(histogram(model, s, {n: per_split[n][s] for n in splits}, histogram_bins, t if math.isfinite(t) else None))
    calibration, selective = [], None
    if labels is not None:
        row, notes = calibration_row(model, id_name, outputs[id_name], labels, ece_bins)
        warnings.extend(notes)
        if row:
            calibration.append(row)
        selective = selective_row(model, id_name, outputs[id_name], labels)

    rows = []
    if samples:
        for name, out in outputs.items():
            finite, arg = out.finite, out.arg
            for i in range(len(finite)):
                label = int(labels[i]) if name == id_name and labels is not None and labels[i] >= 0 else None
                rows.append({"path": f"{name}#{i}", "split": name, "label": label,
                             "prediction": {model: int(arg[i]) if finite[i] else None},
                             "scores": {model: {s: per_split[name][s][i] for s in scores}}})
    duration = (datetime.datetime.now(datetime.timezone.utc) - started).total_seconds() * 1000
    return _clean({
        "schemaVersion": SCHEMA_VERSION,
        "tool": {"name": "ood-lens", "version": __version__},
        "createdAt": started.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "durationMs": round(duration),
        "partial": False,
        "conventions": CONVENTIONS,
        "settings": {"source": "oodlens_notebook.py", "scores": list(scores), "scoreParameters": {"energy": {"T": 1}},
                     "eceBins": ece_bins, "histogramBins": histogram_bins, "keepFraction": keep_fraction, "seed": 0},
        "models": [{"name": model, "path": "(notebook)", "executionProvider": "precomputed", "classes": classes,
                    "outputs": {"logits": "logits"}, "outputKind": "logits", "warnings": []}],
        "splits": [{"name": n, "role": "id" if n == id_name else "ood", "source": "notebook", "count": len(z),
                    "skipped": [], "classes": classes} for n, z in splits.items()],
        "samples": rows,
        "ood": ood_rows,
        "calibration": calibration,
        "curves": curve_rows,
        "histograms": histograms,
        "thresholds": thresholds,
        "projections": [],
        "warnings": warnings,
        "selective": [selective] if selective else [],
    })


def summary(rep):
    """A few plain-text lines: what a front end without the OOD Lens renderer shows."""
    lines = [f"OOD Lens report · {', '.join(m['name'] for m in rep['models'])}"]
    for r in rep["ood"]:
        f = lambda v: "—" if v is None else f"{v:.3f}"
        lines.append(f"  {r['split']:<16} {r['score']:<10} AUROC {f(r['auroc'])}  FPR95 {f(r['fpr95'])}")
    for c in rep["calibration"]:
        lines.append(f"  {c['split']:<16} accuracy {c['accuracy']:.3f}  ECE {c['ece']:.3f}")
    return "\n".join(lines)


def bundle(rep):
    """The MIME bundle of a report: the OOD Lens output and a text fallback."""
    return {MIME: rep, "text/plain": summary(rep)}


def display_report(rep):
    """Shows a report (from `report()` or a JSON file `ood-lens score --json` wrote) as a notebook output."""
    from IPython.display import display  # imported here: report() works without IPython
    display(bundle(rep), raw=True)
    return rep


def show(id_logits, ood_logits, id_labels=None, **options):
    """`report()` then `display_report()`; returns the report (a dict) for saving or asserting on."""
    return display_report(report(id_logits, ood_logits, id_labels, **options))

