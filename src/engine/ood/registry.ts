// Every post-hoc OOD method by its --scores name. The CLI help, --scores validation, the JSON Schemas' score
// lists, the VS Code setting's description and the README table are made from this list: adding a method touches
// its own file and this one.
import type { MethodSpec } from './method';
import { gradnorm } from './methods/gradnorm';
import { knn } from './methods/knn';
import { mahalanobis } from './methods/mahalanobis';
import { vim } from './methods/vim';
import { react } from './methods/react';
import { ash } from './methods/ash';
import { scale } from './methods/scale';
import { dice } from './methods/dice';
import { vra } from './methods/vra';
import { klm } from './methods/klm';
import { she } from './methods/she';
import { rmds } from './methods/rmds';
import { residual } from './methods/residual';
import { neco } from './methods/neco';
import { nci } from './methods/nci';
import { fdbd } from './methods/fdbd';
import { nnguide } from './methods/nnguide';
import { relation } from './methods/relation';

export const METHODS: readonly MethodSpec[] = [
  mahalanobis, knn, vim, gradnorm, react, ash, scale, dice, vra, klm, she, rmds, residual, neco, nci, fdbd, nnguide, relation,
];

export const METHOD_NAMES: readonly string[] = METHODS.map((m) => m.name);

export function methodSpec(name: string): MethodSpec | undefined {
  return METHODS.find((m) => m.name === name);
}
