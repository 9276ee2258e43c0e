/** The conventions every report states, word for word the same in the panel, the HTML report and the README. */
export const CONVENTIONS: Record<string, string> = {
  scoreDirection: 'Every OOD score is oriented so that higher = more OOD (max softmax, max logit and logsumexp are negated).',
  positiveClass: 'AUROC and AUPR-Out take OOD as the positive class; AUPR-In takes ID as positive on the negated score.',
  aupr: 'AUPR is average precision (scikit-learn average_precision_score), not the trapezoid of the PR curve.',
  fpr95: 'fpr95 = fraction of OOD samples accepted as ID at threshold t, the k-th smallest ID score with k = ceil(0.95·n_id); a sample is accepted when score ≤ t (FPR at 95% TPR with ID positive). fpr95_ood_positive = ID false-positive rate at the first threshold where 95% of OOD is flagged.',
  ties: 'AUROC counts ties as one half (Mann–Whitney), exactly as scikit-learn.',
  calibration: 'Confidence = max softmax probability, prediction = first argmax; ECE uses equal-width bins (lo, hi], ECE = Σ (n_b/N)|acc_b − conf_b|.',
  threshold: 'The deployment threshold keeps keepFraction of the fitting split (calibration split when given, else ID); a sample is flagged OOD when score > threshold.',
};
