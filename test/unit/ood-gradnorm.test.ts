import { test } from 'node:test';
import { gradnorm } from '../../src/engine/ood/methods/gradnorm';
import { assertGolden } from '../helpers/ood-golden';

test('gradnorm matches the float64 reference on every golden case (1e-9 relative)', () => assertGolden(gradnorm));
