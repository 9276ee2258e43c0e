/** The conventions every report states, word for word the same in the panel, the HTML report and the README. */
export const CONVENTIONS: Record<string, string> = {
  scoreDirection: 'Every OOD score is oriented so that higher = more OOD (max softmax, max logit and logsumexp are negated).',
  positiveClass: 'AUROC and AUPR-Out take OOD as the positive class; AUPR-In takes ID as positive on the negated score.',
  aupr: 'AUPR is average precision (scikit-learn average_precision_score), not the trapezoid of the PR curve.',
  fpr95: 'fpr95 = fraction of OOD samples accepted as ID at threshold t, the k-th smallest ID score with k = ceil(0.95·n_id); a sample is accepted when score ≤ t (FPR at 95% TPR with ID positive). fpr95_ood_positive = ID false-positive rate at the first threshold where 95% of OOD is flagged.',
  ties: 'AUROC counts ties as one half (Mann–Whitney), exactly as scikit-learn.',
  calibration: 'Confidence = max softmax probability, prediction = first argmax; ECE uses equal-width bins (lo, hi], ECE = Σ (n_b/N)|acc_b − conf_b|; confidence 1.0 falls in the last bin, empty bins are not drawn.',
  smece: 'smece = SmoothECE as relplot 1.0.3 computes it (reflected Gaussian kernel on its grid, a sample at exactly 1 counted once), σ = smece_bandwidth from its fixed-point search; smooth = the kernel-smoothed accuracy at σ with a 95% bootstrap band (100 resamples, σ fixed).',
  eceDebiased: 'ece_debiased = Kumar et al. (2019) debiased l2 calibration error over 15 equal-mass bins (verified_calibration lower_bound_scaling_ce, p = 2); ece_toplabel = Gupta & Ramdas top-label ECE, equal-width bins per predicted class weighted by class frequency.',
  consistencyBands: 'bins[].consistency_lo/hi = 5% and 95% quantiles of each bin accuracy over 1,000 resamples of y ~ Bernoulli(confidence) (Bröcker & Smith 2007): where a perfectly calibrated model would fall.',
  threshold: 'The deployment threshold keeps keepFraction of the fitting split (calibration split when given, else ID); a sample is flagged OOD when score > threshold.',
};
