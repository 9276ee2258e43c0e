import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePointer, locatePointer } from '../../src/vscode/jsonPointer';

const text = `{
  // comments are allowed
  "models": ["a.onnx", "b.onnx"],
  "gates": {
    "auroc_min": { "ood_near": 0.9, "a/b": 0.8 },
    "ece_max": 0.05,
  }
}`;
const at = (pointer: string) => {
  const r = locatePointer(text, pointer);
  return text.slice(r.start, r.end);
};

test('a member pointer gives the range of its key', () => {
  assert.equal(at('/gates/auroc_min/ood_near'), '"ood_near"');
  assert.equal(at('/gates/ece_max'), '"ece_max"');
  assert.equal(at('/gates/auroc_min/a~1b'), '"a/b"');
});

test('an array element pointer gives its value; a missing member falls back to its parent', () => {
  assert.equal(at('/models/1'), '"b.onnx"');
  assert.equal(at('/gates/auroc_min/ood_far'), '"auroc_min"');
  assert.equal(at('/nothing/here'), '{');
});

test('pointer tokens are unescaped', () => {
  assert.deepEqual(decodePointer('/a~1b/c~0d'), ['a/b', 'c~d']);
  assert.deepEqual(decodePointer(''), []);
});
