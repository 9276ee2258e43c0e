// Builds the hostile inputs of issue 7 (bad files, odd formats, hostile names, broken models) in a folder, and
// returns what each one should produce. Tests build only the parts they need; main.ts builds everything.
import { chmodSync, linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { buildLinearModel, buildModel } from '../helpers/onnx-builder';
import { weights } from '../helpers/fixtures';
import { encodePng, lyingPngHeader, writeQuadrantPng } from './png';

/** Model input size of every image fixture (the formats are checked pixel by pixel at this size). */
export const SIZE = 4;

function put(file: string, data: Uint8Array | string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, data);
  return file;
}

/** A deterministic 4×4 image: `channels` samples per pixel, distinct values per image `seed`. */
export function samples(seed: number, channels: number, n = SIZE * SIZE): number[] {
  return Array.from({ length: n * channels }, (_, j) => (seed * 53 + j * 29 + ((seed * j) % 5) * 7) % 256);
}

function goodPng(seed: number, channels: 1 | 3 = 1): Buffer {
  return encodePng({ width: SIZE, height: SIZE, depth: 8, colorType: channels === 1 ? 0 : 2, samples: samples(seed, channels) });
}

async function jpeg(rgb: number[], w: number, h: number, opts: { cmyk?: boolean; orientation?: number } = {}): Promise<Buffer> {
  let img = sharp(Buffer.from(rgb), { raw: { width: w, height: h, channels: 3 } });
  if (opts.cmyk) img = img.toColourspace('cmyk');
  img = img.jpeg({ quality: 100, chromaSubsampling: '4:4:4' });
  if (opts.orientation) img = img.withMetadata({ orientation: opts.orientation });
  return img.toBuffer();
}

// ── Case 1–6, 13–15: a dataset folder with broken, foreign and unreadable files among good ones ────────────────

export interface BadFilesFolder {
  root: string;
  /** Files that decode: 4 per class a, b. */
  good: string[];
  /** Files that must be skipped, with a pattern their reason must match. */
  bad: { file: string; reason: RegExp }[];
  /** A good PNG made mode 000: skipped as "permission denied" for any user but root (tests mock the read as root). */
  locked: string;
  /** Entries that must be ignored silently (not samples, not skipped, not classes). */
  ignored: string[];
}

export async function badFilesFolder(root: string): Promise<BadFilesFolder> {
  const good: string[] = [];
  for (const [c, cls] of ['a', 'b'].entries()) {
    for (let i = 0; i < 4; i++) good.push(put(path.join(root, cls, `good${i}.png`), goodPng(c * 10 + i)));
  }
  const png = goodPng(99);
  const jpg = await jpeg(samples(98, 3), SIZE, SIZE);
  const bad = [
    { file: put(path.join(root, 'a', 'zero-bytes.png'), ''), reason: /^empty file \(0 bytes\)$/ },
    { file: put(path.join(root, 'a', 'truncated.png'), png.subarray(0, png.length - 20)), reason: /^truncated or corrupt PNG/ },
    { file: put(path.join(root, 'b', 'truncated.jpg'), jpg.subarray(0, jpg.length >> 1)), reason: /^truncated or corrupt JPEG/ },
    { file: put(path.join(root, 'a', 'text.png'), 'This is a text file with a .png name.\n'), reason: /^not an image: the file is text$/ },
    { file: put(path.join(root, 'b', 'random.jpg'), Uint8Array.from(weights(256, 7), (v) => Math.floor((v + 1) * 127.99))), reason: /^not an image: unrecognised content/ },
    { file: put(path.join(root, 'b', 'page.png'), '<!DOCTYPE html>\n<html><body><img src=x onerror=alert(1)></body></html>\n'), reason: /^not an image: the file is HTML$/ },
    { file: put(path.join(root, 'b', 'vector.png'), '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><image href="file:///etc/passwd"/></svg>'), reason: /^SVG/ },
    { file: put(path.join(root, 'a', 'bomb.png'), lyingPngHeader(100_000, 100_000)), reason: /^image too large/ },
    { file: put(path.join(root, 'a', 'bitmap.bmp'), bmpHeader()), reason: /^BMP images are not supported/ },
  ];
  const locked = put(path.join(root, 'b', 'locked.png'), goodPng(97));
  chmodSync(locked, 0o000);
  const ignored = [
    put(path.join(root, 'a', 'notes.txt'), 'not an image'),
    put(path.join(root, 'a', '.DS_Store'), Buffer.from([0, 0, 0, 1, 0x42, 0x75, 0x64, 0x31])),
    put(path.join(root, 'b', 'Thumbs.db'), Buffer.from([0xd0, 0xcf, 0x11, 0xe0])),
    put(path.join(root, 'a', '._good0.png'), Buffer.from([0, 5, 22, 7, 0, 2, 0, 0])),
    put(path.join(root, '.ipynb_checkpoints', 'x.png'), png),
    put(path.join(root, '__MACOSX', 'a', '._good1.png'), 'resource fork'),
  ];
  // Link loops: a folder that links to itself (a folder already walked: silent), and one that links back to the
  // dataset root (a folder enclosing the split: skipped with its reason).
  symlinkSync('.', path.join(root, 'a', 'self'));
  mkdirSync(path.join(root, 'b', 'deeper'));
  symlinkSync('../..', path.join(root, 'b', 'deeper', 'up'));
  bad.push({ file: path.join(root, 'b', 'deeper', 'up'), reason: /^symbolic link to an enclosing folder$/ });
  return { root, good, bad, locked, ignored };
}

/** A Windows bitmap header (BITMAPINFOHEADER) without pixels: enough for the sniffer to name the format. */
function bmpHeader(): Buffer {
  const b = Buffer.alloc(54);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(54, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  return b;
}

/** A split where no file decodes. */
export function allBadFolder(root: string): string {
  put(path.join(root, 'x', 'empty.png'), '');
  put(path.join(root, 'x', 'text.jpg'), 'plain text');
  return root;
}

// ── Case 7–9, 11, 12: formats that must decode to known pixels ────────────────────────────────────────────────

export interface FormatCase {
  file: string;
  /** Expected 8-bit pixels at SIZE × SIZE, row-major: gray (1 sample) or RGB (3). */
  pixels: number[];
  channels: 1 | 3;
  /** Allowed per-sample difference (lossy formats). */
  tolerance: number;
}

type Rgb = [number, number, number];
const QUADRANTS: Rgb[] = [[230, 20, 20], [20, 200, 40], [30, 40, 220], [250, 250, 250]];
/** Inside the CMYK gamut, so that a CMYK round trip lands within a few levels. */
const MUTED: Rgb[] = [[180, 120, 100], [90, 140, 110], [100, 110, 160], [200, 200, 200]];

/** SIZE × SIZE RGB with four solid quadrants (top-left, top-right, bottom-left, bottom-right). */
function quadrantRgb(rotateCcw = false, colours = QUADRANTS): number[] {
  const out: number[] = [];
  const h = SIZE >> 1;
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      // Stored rotated 90° counter-clockwise: EXIF orientation 6 (rotate 90° clockwise) shows it upright.
      const [uy, ux] = rotateCcw ? [x, SIZE - 1 - y] : [y, x];
      out.push(...colours[(uy < h ? 0 : 2) + (ux < h ? 0 : 1)]);
    }
  }
  return out;
}

export async function formatsFolder(root: string): Promise<Record<string, FormatCase>> {
  const n = SIZE * SIZE;
  const rgb = samples(1, 3);
  const gray = samples(2, 1);
  const alpha = samples(3, 1);
  const cases: Record<string, FormatCase> = {};
  const add = (name: string, data: Uint8Array, pixels: number[], channels: 1 | 3, tolerance = 0) => {
    cases[name] = { file: put(path.join(root, name), data), pixels, channels, tolerance };
  };
  const interleave = (a: number[], ca: number, b: number[]) => Array.from({ length: n }, (_, i) => [...a.slice(i * ca, i * ca + ca), b[i]]).flat();
  // 16-bit samples are v·257, so the 8-bit value they reduce to is v whatever the rounding.
  add('rgb16.png', encodePng({ width: SIZE, height: SIZE, depth: 16, colorType: 2, samples: rgb.map((v) => v * 257) }), rgb, 3);
  add('gray16.png', encodePng({ width: SIZE, height: SIZE, depth: 16, colorType: 0, samples: gray.map((v) => v * 257) }), gray, 1);
  add('rgba16.png', encodePng({ width: SIZE, height: SIZE, depth: 16, colorType: 6, samples: interleave(rgb, 3, alpha).map((v) => v * 257) }), rgb, 3);
  add('rgb.png', encodePng({ width: SIZE, height: SIZE, depth: 8, colorType: 2, samples: rgb }), rgb, 3);
  add('gray.png', encodePng({ width: SIZE, height: SIZE, depth: 8, colorType: 0, samples: gray }), gray, 1);
  add('rgba.png', encodePng({ width: SIZE, height: SIZE, depth: 8, colorType: 6, samples: interleave(rgb, 3, alpha) }), rgb, 3);
  add('gray-alpha.png', encodePng({ width: SIZE, height: SIZE, depth: 8, colorType: 4, samples: interleave(gray, 1, alpha) }), gray, 1);
  const palette = [12, 34, 56, 200, 100, 50, 0, 255, 128, 90, 90, 90];
  const index = Array.from({ length: n }, (_, i) => (i * 7) % 4);
  const fromPalette = index.flatMap((k) => palette.slice(k * 3, k * 3 + 3));
  add('palette.png', encodePng({ width: SIZE, height: SIZE, depth: 8, colorType: 3, samples: index, palette, trns: [255, 128, 0, 255] }), fromPalette, 3);
  add('palette-2bit.png', encodePng({ width: SIZE, height: SIZE, depth: 2, colorType: 3, samples: index, palette }), fromPalette, 3);
  add('gray-1bit.png', encodePng({ width: SIZE, height: SIZE, depth: 1, colorType: 0, samples: index.map((k) => k & 1) }), index.map((k) => (k & 1) * 255), 1);
  // CMYK goes through a colour-profile round trip: close to the RGB it was made from (read as RGBA it would be far off).
  add('cmyk.jpg', await jpeg(quadrantRgb(false, MUTED), SIZE, SIZE, { cmyk: true }), quadrantRgb(false, MUTED), 3, 16);
  add('exif-rotated.jpg', await jpeg(quadrantRgb(true), SIZE, SIZE, { orientation: 6 }), quadrantRgb(), 3, 6);
  // GIF palettes are quantised: a level off is the encoder's, not the decoder's.
  add('animated.gif', await animatedGif(), quadrantRgb(), 3, 1);
  return cases;
}

/** Two frames: the quadrants, then their colours reversed; only the first is a sample. */
async function animatedGif(): Promise<Buffer> {
  const frame = (px: number[]) => sharp(Buffer.from(px), { raw: { width: SIZE, height: SIZE, channels: 3 } }).png().toBuffer();
  const first = quadrantRgb();
  const second = first.map((v) => 255 - v);
  return sharp([await frame(first), await frame(second)], { join: { animated: true } }).gif({ effort: 1, dither: 0 }).toBuffer();
}

// ── Case 10: a 10,000 × 10,000 image ────────────────────────────────────────────────────────────────────────────

export const HUGE_QUADRANTS = QUADRANTS;

/** A size × size PNG of the four quadrant colours (about 0.3 MB on disk, 300 MB of pixels). */
export async function hugeImage(file: string, size = 10_000): Promise<string> {
  mkdirSync(path.dirname(file), { recursive: true });
  await writeQuadrantPng(file, size, QUADRANTS);
  return file;
}

/** A `size` × `size` quadrant PNG stored uncompressed: over 8 MB from size 1,700, so it is decoded from disk. */
export function largeFile(file: string, size: number): string {
  const h = size >> 1;
  const px = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) px.set(QUADRANTS[(y < h ? 0 : 2) + (x < h ? 0 : 1)], (y * size + x) * 3);
  return put(file, encodePng({ width: size, height: size, depth: 8, colorType: 2, samples: px, level: 0 }));
}

// ── Case 16: a folder of many files ─────────────────────────────────────────────────────────────────────────────

/** `count` tiny gray PNGs in one flat folder (hard links of a handful of distinct images, to write fast). */
export function manyFilesFolder(root: string, count: number): string {
  mkdirSync(root, { recursive: true });
  const distinct = Array.from({ length: 8 }, (_, i) => put(path.join(root, `src${i}.png`), goodPng(i)));
  for (let i = distinct.length; i < count; i++) linkSync(distinct[i % distinct.length], path.join(root, `${String(i).padStart(6, '0')}.png`));
  return root;
}

// ── Case 17, 18: hostile class names, and an OOD folder reusing the ID classes ─────────────────────────────────

/** Class folder names that must come out as inert text everywhere. */
export const HOSTILE_NAMES = [
  '<img src=x onerror=alert(1)>',
  '<svg onload=alert(2)>',
  `"double" and 'single' quotes`,
  '  spaces around  ',
  '=HYPERLINK("evil.example","click")',
  '+1+2',
  '-3+4',
  '@SUM(A1)',
  '＝full-width equals',
  'comma, semicolon; pipe|',
  'line\nbreak',
  'tab\tinside',
  'Ünïcødé 猫 🐱 \u202Egnp.exe',
  'long-' + 'x'.repeat(250),
];

export async function hostileNamesFolder(root: string): Promise<{ root: string; names: string[] }> {
  for (const [i, name] of HOSTILE_NAMES.entries()) {
    put(path.join(root, name, '<i onmouseover=alert(3)>.png'), goodPng(i));
    put(path.join(root, name, '=1+1.png'), goodPng(i + 50));
  }
  return { root, names: HOSTILE_NAMES };
}

/** OOD class folders named like the ID ones (a, b), holding other images. */
export function overlappingOodFolder(root: string): string {
  for (const [c, cls] of ['a', 'b'].entries()) for (let i = 0; i < 3; i++) put(path.join(root, cls, `o${i}.png`), goodPng(200 + c * 10 + i));
  return root;
}

// ── Case 19–26: models ─────────────────────────────────────────────────────────────────────────────────────────

export interface HostileModels {
  /** [N,1,4,4] → 2 logits, classes a, b. */
  classifier: string;
  /** [N,C,4,4] → C·16 outputs equal to the input: logits reveal the pixels. */
  identityGray: string;
  identityRgb: string;
  notOnnx: string;
  empty: string;
  randomBytes: string;
  truncated: string;
  twoInputs: string;
  intInput: string;
  output4d: string;
  threeClasses: string;
  probabilities: string;
  /** The classifier with a Softmax as its only output: read before the Softmax. */
  softmaxOutput: string;
  /** logits = ln(x − 0.2) over two pixels: NaN for a pixel below 51, −∞ at exactly 51. */
  nonFinite: string;
  /** 300 chained 512 × 512 MatMuls: about 1 s per 64 images on two cores, long enough to cancel during inference. */
  slow: string;
}

export function models(dir: string): HostileModels {
  const file = (name: string, data: Uint8Array | string) => put(path.join(dir, name), data);
  const d = SIZE * SIZE;
  const classifierBytes = buildLinearModel({ inputShape: ['N', 1, SIZE, SIZE], W: weights(2 * d, 11), b: [0.1, -0.1], metadata: { classes: '["a","b"]' } });
  const identity = (c: number) => buildModel(
    [{ op: 'Flatten', inputs: ['input'], outputs: ['logits'], attributes: { axis: 1 } }],
    [{ name: 'input', shape: ['N', c, SIZE, SIZE] }], [{ name: 'logits', shape: ['N', c * d] }],
  );
  const slowNodes = [{ op: 'Flatten', inputs: ['input'], outputs: ['h0'], attributes: { axis: 1 } }, { op: 'MatMul', inputs: ['h0', 'Win'], outputs: ['m0'] }];
  for (let i = 0; i < 300; i++) slowNodes.push({ op: 'MatMul', inputs: [`m${i}`, 'Wsq'], outputs: [`m${i + 1}`] });
  slowNodes.push({ op: 'MatMul', inputs: ['m300', 'Wout'], outputs: ['logits'] });
  const eye = new Float32Array(512 * 512);
  for (let i = 0; i < 512; i++) eye[i * 513] = 1;
  return {
    classifier: file('classifier.onnx', classifierBytes),
    identityGray: file('identity-gray.onnx', identity(1)),
    identityRgb: file('identity-rgb.onnx', identity(3)),
    notOnnx: file('not-onnx.onnx', 'I am a text file pretending to be a model.\n'),
    empty: file('empty.onnx', ''),
    randomBytes: file('random.onnx', Uint8Array.from(weights(4096, 5), (v) => Math.floor((v + 1) * 127.99))),
    truncated: file('truncated.onnx', classifierBytes.subarray(0, classifierBytes.length >> 1)),
    twoInputs: file('two-inputs.onnx', buildModel(
      [{ op: 'Add', inputs: ['image', 'mask'], outputs: ['sum'] }, { op: 'Flatten', inputs: ['sum'], outputs: ['logits'], attributes: { axis: 1 } }],
      [{ name: 'image', shape: ['N', 1, SIZE, SIZE] }, { name: 'mask', shape: ['N', 1, SIZE, SIZE] }], [{ name: 'logits', shape: ['N', d] }],
    )),
    intInput: file('int-input.onnx', buildModel(
      [{ op: 'Cast', inputs: ['input'], outputs: ['f'], attributes: { to: 1 } }, { op: 'Flatten', inputs: ['f'], outputs: ['logits'], attributes: { axis: 1 } }],
      [{ name: 'input', shape: ['N', 1, SIZE, SIZE], elemType: 'int64' }], [{ name: 'logits', shape: ['N', d] }],
    )),
    output4d: file('output-4d.onnx', buildModel(
      [{ op: 'Identity', inputs: ['input'], outputs: ['heatmap'] }],
      [{ name: 'input', shape: ['N', 1, SIZE, SIZE] }], [{ name: 'heatmap', shape: ['N', 1, SIZE, SIZE] }],
    )),
    threeClasses: file('three-classes.onnx', buildLinearModel({ inputShape: ['N', 1, SIZE, SIZE], W: weights(3 * d, 12), b: [0, 0, 0] })),
    probabilities: file('probabilities.onnx', buildLinearModel({ inputShape: ['N', 1, SIZE, SIZE], W: weights(2 * d, 11), b: [0.1, -0.1], softmax: 'exp-log', metadata: { classes: '["a","b"]' } })),
    softmaxOutput: file('softmax-output.onnx', buildLinearModel({ inputShape: ['N', 1, SIZE, SIZE], W: weights(2 * d, 11), b: [0.1, -0.1], softmax: true, metadata: { classes: '["a","b"]' } })),
    nonFinite: file('non-finite.onnx', buildModel(
      [{ op: 'Flatten', inputs: ['input'], outputs: ['flat'], attributes: { axis: 1 } },
        { op: 'Sub', inputs: ['flat', 'c'], outputs: ['shifted'] }, { op: 'Log', inputs: ['shifted'], outputs: ['logits'] }],
      [{ name: 'input', shape: ['N', 1, 1, 2] }], [{ name: 'logits', shape: ['N', 2] }], [{ name: 'c', dims: [1], data: [0.2] }],
    )),
    slow: file('slow.onnx', buildModel(slowNodes, [{ name: 'input', shape: ['N', 1, SIZE, SIZE] }], [{ name: 'logits', shape: ['N', 2] }], [
      { name: 'Win', dims: [d, 512], data: weights(d * 512, 3), raw: true },
      { name: 'Wsq', dims: [512, 512], data: eye, raw: true },
      { name: 'Wout', dims: [512, 2], data: weights(1024, 4), raw: true },
    ])),
  };
}

export interface NonFiniteSplits {
  id: string;
  ood: string;
  /** Images whose outputs are NaN (a pixel below 51) or −∞ (a pixel of exactly 51). */
  nonFinite: string[];
}

/** Flat ID and OOD folders of 1 × 2 gray images for the non-finite model; each split has one non-finite image. */
export function nonFiniteFolders(root: string): NonFiniteSplits {
  const img = (file: string, a: number, b: number) => put(file, encodePng({ width: 2, height: 1, depth: 8, colorType: 0, samples: [a, b] }));
  const id = path.join(root, 'id');
  const ood = path.join(root, 'ood');
  [[200, 190], [220, 250], [160, 240], [255, 180]].forEach(([a, b], i) => img(path.join(id, `f${i}.png`), a, b));
  [[60, 70], [90, 200], [130, 75]].forEach(([a, b], i) => img(path.join(ood, `f${i}.png`), a, b));
  return { id, ood, nonFinite: [img(path.join(id, 'nan.png'), 10, 200), img(path.join(ood, 'neg-inf.png'), 51, 200)] };
}

// ── Everything ─────────────────────────────────────────────────────────────────────────────────────────────────

export interface HostileTree {
  models: HostileModels;
  badFiles: BadFilesFolder;
  allBad: string;
  formats: Record<string, FormatCase>;
  huge?: string;
  large?: string;
  many?: string;
  names: { root: string; names: string[] };
  overlappingOod: string;
  nonFinite: NonFiniteSplits;
}

/** Builds every fixture under `dir`; the 10k image, the 10 MB file and the many-files folder only when asked. */
export async function generateHostile(dir: string, opts: { huge?: boolean; manyFiles?: number } = {}): Promise<HostileTree> {
  return {
    models: models(path.join(dir, 'models')),
    badFiles: await badFilesFolder(path.join(dir, 'bad-files')),
    allBad: allBadFolder(path.join(dir, 'all-bad')),
    formats: await formatsFolder(path.join(dir, 'formats')),
    huge: opts.huge ? await hugeImage(path.join(dir, 'huge', 'huge.png')) : undefined,
    large: opts.huge ? largeFile(path.join(dir, 'huge', 'large.png'), 1800) : undefined,
    many: opts.manyFiles ? manyFilesFolder(path.join(dir, 'many'), opts.manyFiles) : undefined,
    names: await hostileNamesFolder(path.join(dir, 'names')),
    overlappingOod: overlappingOodFolder(path.join(dir, 'overlap-ood')),
    nonFinite: nonFiniteFolders(path.join(dir, 'non-finite')),
  };
}
