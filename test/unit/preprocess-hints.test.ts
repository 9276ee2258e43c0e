// Issue 13: preprocessing read from where users keep it (flags, sidecar, ONNX metadata, Hugging Face and timm files),
// with one precedence and the source of every value recorded; class folders that line up with the model's classes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { huggingFaceHints, timmHints } from '../../src/engine/model/ecosystem';
import { mergeHints, PRESETS } from '../../src/engine/model/hint-sources';
import { resolveSpec } from '../../src/engine/model/resolve-spec';
import { inspectModel } from '../../src/engine/model/inspect';
import { labelNote, labelTable } from '../../src/engine/run/classes';
import { loadLabelMap } from '../../src/engine/model/label-map';
import { runScore } from '../../src/engine/run';
import { buildLinearModel } from '../helpers/onnx-builder';
import { imageFolder, scratchDirs, weights, writeFile } from '../helpers/fixtures';

const scratch = scratchDirs();
const input = { base: 'm.onnx', layout: 'NCHW' as const, channels: 3 as const, height: 224, width: 224, rawPixels: false };

test('precedence: flags > sidecar > metadata > Hugging Face / timm > defaults, and each value says where it came from', () => {
  const merged = mergeHints([
    { source: 'flag', hints: { interpolation: 'bicubic' } },
    { source: 'sidecar', hints: { preset: 'inception' } },
    { source: 'metadata', hints: { mean: [0.1, 0.2, 0.3], std: [1, 1, 1], resize: 240 } },
    { source: 'huggingface', hints: { resize: 256, crop: 224, interpolation: 'bilinear', exif: true } },
  ]);
  const { spec, record } = resolveSpec(merged, input);
  assert.equal(spec.interpolation, 'bicubic');
  assert.deepEqual([spec.mean, spec.std], [PRESETS.inception.mean, PRESETS.inception.std], 'a preset is its mean/std, taken together');
  assert.deepEqual(spec.resize, { shorter: 240 });
  assert.deepEqual(record.sources, { size: 'model', resize: 'metadata', interpolation: 'flag', cropRounding: 'default', rescale: 'default', mean: 'sidecar', std: 'sidecar', exif: 'huggingface' });
  // A flag's explicit mean/std beats a lower preset; --preset none clears the normalization of the layers below.
  const none = resolveSpec(mergeHints([{ source: 'flag', hints: { preset: 'none' } }, { source: 'sidecar', hints: { mean: [0.5], std: [0.5] } }]), input);
  assert.deepEqual([none.spec.mean, none.spec.std], [null, null]);
});

test('Hugging Face processors: CLIP (shortest edge + crop), ViT (height/width), ConvNeXT (crop_pct), resample enum, rescale', () => {
  const clip = huggingFaceHints({ do_resize: true, size: { shortest_edge: 224 }, resample: 3, do_center_crop: true, crop_size: { height: 224, width: 224 }, do_rescale: true, rescale_factor: 1 / 255, do_normalize: true, image_mean: PRESETS.clip.mean, image_std: PRESETS.clip.std });
  assert.deepEqual(clip, { cropRounding: 'floor', exif: true, resize: 224, crop: [224, 224], interpolation: 'bicubic', rescale: 1 / 255, mean: PRESETS.clip.mean, std: PRESETS.clip.std });
  const vit = huggingFaceHints({ do_resize: true, size: { height: 384, width: 384 }, resample: 2, do_normalize: true, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5] });
  assert.deepEqual([vit.height, vit.width, vit.resize, vit.crop, vit.interpolation], [384, 384, undefined, undefined, 'bilinear']);
  const convnext = huggingFaceHints({ size: { shortest_edge: 224 }, crop_pct: 0.875, resample: 3 });
  assert.deepEqual([convnext.resize, convnext.crop], [256, 224], 'int(224 / 0.875) = 256, then the centre 224²');
  assert.deepEqual([huggingFaceHints({ size: { shortest_edge: 384 }, crop_pct: 0.875 }).height, huggingFaceHints({ do_rescale: false }).rescale], [384, 1]);
  const { spec } = resolveSpec(mergeHints([{ source: 'huggingface', hints: convnext }]), { ...input, height: null, width: null });
  assert.deepEqual([spec.height, spec.width, spec.resize, spec.cropRounding], [224, 224, { shorter: 256 }, 'floor']);
});

test('timm: pretrained_cfg gives size, interpolation, mean/std and crop_pct (floor(size / crop_pct)); label_names the classes', () => {
  const h = timmHints({ pretrained_cfg: { input_size: [3, 224, 224], interpolation: 'bicubic', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], crop_pct: 0.95, crop_mode: 'center' }, label_names: ['a', 'b'] });
  const { spec } = resolveSpec(mergeHints([{ source: 'timm', hints: h }]), input);
  assert.deepEqual(spec.resize, { shorter: 235 });
  assert.equal(spec.interpolation, 'bicubic');
  assert.deepEqual(h.classes, ['a', 'b']);
  const wide = resolveSpec(mergeHints([{ source: 'timm', hints: { cropPct: 0.9 } }]), { ...input, height: 224, width: 320 });
  assert.deepEqual(wide.spec.resize, { height: 248, width: 355 }, 'a non-square target resizes both sides');
});

test('a crop that is not the model\'s input size, a dynamic size without one, and a zero std are clear errors', () => {
  assert.throws(() => resolveSpec(mergeHints([{ source: 'flag', hints: { crop: 256 } }]), input), /The crop 256×256 \(from flag\) differs from model m\.onnx's input size 224×224/);
  assert.throws(() => resolveSpec(mergeHints([]), { ...input, height: null, width: null }), /dynamic input size; give the size with --size HxW \(or --crop\)/);
  assert.throws(() => resolveSpec(mergeHints([{ source: 'sidecar', hints: { mean: [0], std: [0] } }]), input), /std values must be non-zero \(from sidecar\)/);
});

test('a model folder as optimum writes it: preprocessor_config.json and config.json id2label are read, a flag still wins', async () => {
  const dir = await scratch('oodlens-hf-');
  writeFile(path.join(dir, 'model.onnx'), buildLinearModel({ inputName: 'pixel_values', inputShape: ['batch', 3, 2, 2], W: weights(2 * 12), b: [0, 0] }));
  writeFile(path.join(dir, 'preprocessor_config.json'), JSON.stringify({ size: { height: 2, width: 2 }, resample: 2, do_normalize: true, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5] }));
  writeFile(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'vit', id2label: { 1: 'dog', 0: 'cat' } }));
  const plan = await inspectModel(path.join(dir, 'model.onnx'), { interpolation: 'lanczos' });
  assert.deepEqual(plan.classes, ['cat', 'dog']);
  assert.equal(plan.spec.interpolation, 'lanczos');
  assert.equal(plan.preprocess?.sources.mean, 'huggingface');
  assert.equal(plan.preprocess?.sources.interpolation, 'flag');
});

test('class folders: by name, else by sorted folder order when the counts match (ImageFolder), else through a label map', async () => {
  const wnids = ['n01440764', 'n01443537', 'n01484850'];
  const names = ['tench', 'goldfish', 'great white shark'];
  const order = labelTable(names, wnids, null);
  assert.deepEqual([order.how, Array.from(order.table)], ['folder-order', [0, 1, 2]]);
  assert.match(labelNote('m', 'val', wnids, names, order)!, /mapped by sorted folder order, as torchvision's ImageFolder does \(n01440764 → tench, n01443537 → goldfish, n01484850 → great white shark\)/);
  assert.equal(labelTable(names, ['tench', 'other', 'x'], null).how, 'name', 'one folder matching by name means names are meant');
  const dir = await scratch('oodlens-labelmap-');
  writeFile(path.join(dir, 'map.csv'), 'wnid,label\nn01440764,tench\nn01443537,1\n"n01484850","great white shark"\n');
  writeFile(path.join(dir, 'map.json'), JSON.stringify({ n01440764: 0, n01443537: 'goldfish' }));
  const csv = labelTable(names, wnids, await loadLabelMap(path.join(dir, 'map.csv')));
  assert.deepEqual([csv.how, Array.from(csv.table)], ['label-map', [0, 1, 2]]);
  const json = labelTable(names, [...wnids, 'n99999999'], await loadLabelMap(path.join(dir, 'map.json')));
  assert.deepEqual(Array.from(json.table), [0, 1, -1, -1]);
  await assert.rejects(loadLabelMap(path.join(dir, 'none.csv')), /Label map not found/);
});

test('six WordNet-id folders and a 6-class model named otherwise: accuracy and calibration are computed, with the mapping said', async () => {
  const dir = await scratch('oodlens-wnid-');
  const folders = Array.from({ length: 6 }, (_, i) => `n0000000${i}`);
  await imageFolder(path.join(dir, 'val'), folders, 2, 2, 2, 1);
  writeFile(path.join(dir, 'm.onnx'), buildLinearModel({ inputShape: ['N', 1, 2, 2], W: weights(6 * 4), b: [0, 0, 0, 0, 0, 0], metadata: { classes: '["a","b","c","d","e","f"]' } }));
  const report = await runScore({ models: [path.join(dir, 'm.onnx')], id: path.join(dir, 'val') });
  assert.ok(report.calibration.some((r) => r.model === 'm' && Number.isFinite(r.accuracy)), 'accuracy is computed');
  assert.ok(report.warnings.some((w) => /mapped by sorted folder order.*n00000000 → a/.test(w)), report.warnings.join('\n'));
});

test('jpegDraft from VS Code\'s oodLens.preprocess setting reaches the spec; without it the exact path stays', async () => {
  const demo = path.resolve(__dirname, '..', '..', '..', 'examples', 'demo', 'models', 'ce_seed0.onnx');
  assert.equal((await inspectModel(demo, {}, { jpegDraft: true })).spec.jpegDraft, true);
  assert.equal((await inspectModel(demo, {}, {})).spec.jpegDraft, undefined);
});
