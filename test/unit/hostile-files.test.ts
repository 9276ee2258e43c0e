// Issue 7, cases 1–6 and 13–15: broken, foreign, unreadable and looping entries in a dataset folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runScore } from '../../src/engine/run';
import { listDataset } from '../../src/engine/dataset/image-files';
import { imageFolder, tempDir } from '../helpers/fixtures';
import { allBadFolder, badFilesFolder, models, SIZE } from '../hostile/generate';

test('broken and foreign files are skipped with a reason and counted; the rest is scored as in a clean folder', { timeout: 30_000 }, async () => {
  const t = tempDir();
  try {
    const m = models(path.join(t.dir, 'models'));
    const bad = await badFilesFolder(path.join(t.dir, 'bad-files'));
    const clean = path.join(t.dir, 'clean');
    for (const f of bad.good) {
      fs.mkdirSync(path.join(clean, path.basename(path.dirname(f))), { recursive: true });
      fs.copyFileSync(f, path.join(clean, path.relative(bad.root, f)));
    }
    // chmod 000 stops everyone but root; as root, hostile-cli.test.ts checks the case by running as another user.
    const enforced = process.getuid?.() !== 0;
    if (!enforced) fs.rmSync(bad.locked);
    const report = await runScore({ models: [m.classifier], id: bad.root, ood: [clean], batchSize: 3 });
    const split = report.splits.find((s) => s.name === 'bad-files')!;
    assert.deepEqual(split.classes, ['a', 'b'], 'hidden folders, __MACOSX and link loops are not classes');
    assert.equal(split.count, bad.good.length);
    const reasons = new Map(split.skipped.map((s) => [s.path, s.reason]));
    for (const b of bad.bad) assert.match(reasons.get(b.file) ?? '(not skipped)', b.reason, path.basename(b.file));
    if (enforced) assert.equal(reasons.get(bad.locked), 'permission denied');
    const skippedCount = bad.bad.length + (enforced ? 1 : 0);
    assert.equal(split.skipped.length, skippedCount, 'nothing else is skipped: ignored files and a link to a walked folder are silent');
    assert.ok(report.warnings.includes(`"bad-files": ${skippedCount} file(s) skipped (see splits[].skipped for reasons)`), report.warnings.join('\n'));

    const scored = report.samples.filter((s) => s.split === 'bad-files');
    assert.deepEqual(scored.map((s) => s.path), bad.good, 'every good file, once (the loops do not repeat them)');
    const cleanScores = new Map(report.samples.filter((s) => s.split === 'clean').map((s) => [path.relative(clean, s.path), s.scores]));
    for (const s of scored) assert.deepEqual(s.scores, cleanScores.get(path.relative(bad.root, s.path)), s.path);
    for (const f of bad.ignored) {
      assert.ok(!report.samples.some((s) => s.path === f) && !reasons.has(f), `${f} ignored silently`);
    }
    assert.equal(report.ood[0].n_id, bad.good.length);
  } finally {
    t.cleanup();
  }
});

test('link loops inside the folder end the listing; a class folder linking to the root is no class', { timeout: 10_000 }, async () => {
  const t = tempDir();
  try {
    const bad = await badFilesFolder(t.dir);
    // A third loop: a class folder that is a link to the dataset root.
    fs.symlinkSync('.', path.join(t.dir, 'c'));
    const listing = await listDataset(t.dir);
    assert.deepEqual(listing.classes, ['a', 'b']);
    assert.deepEqual(listing.skipped.filter((s) => /symbolic/.test(s.reason)), [
      { path: path.join(t.dir, 'c'), reason: 'symbolic link to an enclosing folder' },
      { path: path.join(t.dir, 'b', 'deeper', 'up'), reason: 'symbolic link to an enclosing folder' },
    ]);
    assert.equal([...listing.files].filter((f) => f.endsWith('.png') && /good\d/.test(f)).length, bad.good.length);
    assert.equal(new Set(listing.files).size, listing.files.length, 'no file listed twice');
  } finally {
    t.cleanup();
  }
});

test('a link to a folder above the split is never followed: the OOD folder beside it is not counted as ID', { timeout: 30_000 }, async () => {
  const t = tempDir();
  try {
    const m = models(path.join(t.dir, 'models'));
    const data = path.join(t.dir, 'data');
    await imageFolder(path.join(data, 'id'), ['a', 'b'], 3, SIZE, SIZE, 1);
    await imageFolder(path.join(data, 'ood'), ['x'], 5, SIZE, SIZE, 1, 100);
    fs.symlinkSync('..', path.join(data, 'id', 'a', 'loop'));
    fs.symlinkSync('../../..', path.join(data, 'id', 'b', 'way-up'));
    // A link elsewhere (outside every enclosing folder) is still followed.
    await imageFolder(path.join(t.dir, 'extra'), ['e'], 2, SIZE, SIZE, 1, 200);
    fs.symlinkSync(path.join(t.dir, 'extra', 'e'), path.join(data, 'id', 'b', 'more'));
    const report = await runScore({ models: [m.classifier], id: path.join(data, 'id'), ood: [path.join(data, 'ood')] });
    const id = report.splits.find((s) => s.name === 'id')!;
    assert.deepEqual(id.classes, ['a', 'b']);
    assert.equal(id.count, 8, '6 images of its own and 2 through the link to another place');
    assert.deepEqual(id.skipped, [
      { path: path.join(data, 'id', 'a', 'loop'), reason: 'symbolic link to an enclosing folder' },
      { path: path.join(data, 'id', 'b', 'way-up'), reason: 'symbolic link to an enclosing folder' },
    ]);
    assert.equal(report.samples.filter((s) => s.split === 'id' && s.path.includes(`${path.sep}ood${path.sep}`)).length, 0);
    assert.equal(report.ood[0].n_id, 8);
    assert.equal(report.ood[0].n_ood, 5);
  } finally {
    t.cleanup();
  }
});

test('a split where every file fails is an error naming the split and the first reason', async () => {
  const t = tempDir();
  try {
    const m = models(path.join(t.dir, 'models'));
    const bad = await badFilesFolder(path.join(t.dir, 'id'));
    const allBad = allBadFolder(path.join(t.dir, 'broken-ood'));
    await assert.rejects(
      runScore({ models: [m.classifier], id: bad.root, ood: [allBad] }),
      { name: 'UserError', message: `Split "broken-ood" (${allBad}): none of its 2 files could be read (first: ${path.join(allBad, 'x', 'empty.png')}: empty file (0 bytes))` },
    );
  } finally {
    t.cleanup();
  }
});

test('an unreadable dataset folder is a clear error; an unreadable class sub-folder is skipped with its reason', async () => {
  const t = tempDir();
  try {
    const bad = await badFilesFolder(t.dir);
    // Tests run as root here, which reads any folder: opening the locked ones fails as it would for a user.
    const fsp = fs.promises as { opendir: typeof fs.promises.opendir };
    const original = fsp.opendir;
    const locked = new Set([t.dir, path.join(t.dir, 'b', 'deeper')]);
    fsp.opendir = ((p: fs.PathLike, ...rest: unknown[]) => {
      if (locked.has(String(p))) return Promise.reject(Object.assign(new Error('EACCES'), { code: 'EACCES' }));
      return (original as (...a: unknown[]) => Promise<unknown>).call(fs.promises, p, ...rest);
    }) as typeof fs.promises.opendir;
    try {
      await assert.rejects(listDataset(t.dir), { name: 'UserError', message: `Cannot read folder ${t.dir}: permission denied` });
      locked.delete(t.dir);
      const listing = await listDataset(t.dir);
      assert.deepEqual(listing.skipped, [{ path: path.join(t.dir, 'b', 'deeper'), reason: 'cannot read folder: permission denied' }]);
      assert.equal([...listing.files].filter((f) => /good\d\.png$/.test(f)).length, bad.good.length);
    } finally {
      fsp.opendir = original;
    }
  } finally {
    t.cleanup();
  }
});
