import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  calibratedModelPath, isCandidateFolder, isOodName, orderCalibCandidates, orderModels, parseNoiseInput, preselectCalib, preselectOod, pushRecent,
} from '../../src/vscode/splitInference';

const siblings = ['/d/calib', '/d/ood_far', '/d/OOD-near', '/d/textures', '/d/train'];

test('OOD folders are pre-selected by name; remembered answers win while they exist', () => {
  assert.deepEqual(preselectOod(siblings, undefined), ['/d/ood_far', '/d/OOD-near']);
  assert.deepEqual(preselectOod(siblings, ['/d/textures', 'noise:200', '/d/gone']), ['/d/textures', 'noise:200']);
  assert.deepEqual(preselectOod(siblings, ['/d/gone']), ['/d/ood_far', '/d/OOD-near']);
});

test('with no OOD-looking folder, noise is pre-selected so Enter still gives an OOD set', () => {
  assert.deepEqual(preselectOod(['/d/calib', '/d/train'], undefined), ['noise:1000']);
});

test('calibration: a remembered "none" stays none; else the folder with "calib" in its name', () => {
  assert.equal(preselectCalib(siblings, undefined), '/d/calib');
  assert.equal(preselectCalib(siblings, null), null);
  assert.equal(preselectCalib(siblings, '/d/textures'), '/d/textures');
  assert.equal(preselectCalib(['/d/a', '/d/b'], undefined), null);
  assert.deepEqual(orderCalibCandidates(siblings, '/d/calib'), ['/d/calib', '/d/textures', '/d/train', '/d/ood_far', '/d/OOD-near']);
});

test('models: recently used first, then by path; recents list is deduplicated and bounded', () => {
  assert.deepEqual(orderModels(['/m/c.onnx', '/m/a.onnx', '/m/b.onnx'], ['/m/b.onnx', '/m/gone.onnx']), ['/m/b.onnx', '/m/a.onnx', '/m/c.onnx']);
  assert.deepEqual(pushRecent(['a', 'b', 'c'], ['c', 'd'], 3), ['c', 'd', 'a']);
});

test('noise counts, hidden folders and the calibrated model name', () => {
  assert.equal(parseNoiseInput('500'), 500);
  assert.equal(parseNoiseInput(' noise:20 '), 20);
  for (const bad of ['0', '-3', '1.5', 'abc', '2000000', '']) assert.equal(parseNoiseInput(bad), undefined, bad);
  assert.equal(isCandidateFolder('.git'), false);
  assert.equal(isCandidateFolder('node_modules'), false);
  assert.equal(isCandidateFolder('ood'), true);
  assert.equal(calibratedModelPath('/m/net.onnx'), '/m/net.calibrated.onnx');
  assert.equal(calibratedModelPath('/m/NET.ONNX'), '/m/NET.calibrated.onnx');
});

test('names are matched on the folder itself, not on the path above it', () => {
  const siblings = ['/tmp/oodlens-e2e-1/data/id_calib', '/tmp/oodlens-e2e-1/data/ood_heldout', '/tmp/oodlens-e2e-1/data/goods'];
  assert.deepEqual(preselectOod(siblings, undefined), ['/tmp/oodlens-e2e-1/data/ood_heldout']);
  assert.equal(preselectCalib(siblings, undefined), '/tmp/oodlens-e2e-1/data/id_calib');
  assert.ok(isOodName('near-OOD') && isOodName('OOD') && !isOodName('food'));
});
