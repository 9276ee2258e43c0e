// Virtual-logit matching (Wang et al. 2022); see VimDetector.
import { VimDetector } from '../../scores/feature-scores';
import type { MethodSpec } from '../method';

export const vim: MethodSpec = {
  name: 'vim',
  needs: { features: true, lastLayer: true, fit: true },
  // dim 0 = the rule ⌊D/2⌋ below 768, 512 up to 1,499, 1,000 above (OpenOOD's per-network choices, generalized).
  defaults: { dim: 0 },
  formula: 'α‖h^{P⊥}‖ − logsumexp(z), origin −W⁺b, α = Σ max z / Σ ‖h^{P⊥}‖ on the fit split',
  source: 'Wang et al. 2022, "ViM: Out-Of-Distribution with Virtual-logit Matching"; dim by feature size (OpenOOD v1.5 vim.yml sets 256 for 512-d, 1000 for 2048-d)',
  create: ({ layer, params }) => {
    const det = new VimDetector(layer!.W, layer!.b, params.dim > 0 ? params.dim : undefined);
    return {
      fit: (b) => det.add(b.features!, b.logits, b.n),
      finish: () => det.finish(),
      score: (b) => det.score(b.features!, b.logits, b.n),
    };
  },
};
