import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PathList } from '../../src/engine/dataset/path-list';
import { listDataset } from '../../src/engine/dataset/image-files';
import { tempDir } from '../helpers/fixtures';

test('paths come back exactly, whatever their characters, across growth of the byte store', () => {
  const names = ['a.png', 'éclair.jpg', '猫/ねこ.png', '🐈 cat.webp', 'x'.repeat(3000) + '.png', ''];
  const list = new PathList();
  const expected: string[] = [];
  for (let i = 0; i < 2000; i++) {
    const prefix = i % 3 === 0 ? '/data/train/' : `rel/class ${i % 7}/`;
    const name = `${i}-${names[i % names.length]}`;
    list.push(prefix, name);
    expected.push(prefix + name);
  }
  assert.equal(list.length, expected.length);
  assert.deepEqual([...list], expected);
  assert.deepEqual(list.slice(1995, 2010), expected.slice(1995));
  assert.deepEqual([...list.subset([7, 3, 1999])], [expected[7], expected[3], expected[1999]]);
  assert.deepEqual([...PathList.of(expected.slice(0, 5))], expected.slice(0, 5));
  assert.throws(() => list.get(2000), RangeError);
});

test('listing a folder of several thousand entries gives every image once, sorted, in the same order as readdir', async () => {
  // Above the listing's entries-per-read (1024), with hidden files, non-images, links and sub-folders mixed in.
  const t = tempDir();
  try {
    const cls = path.join(t.dir, 'cls');
    fs.mkdirSync(path.join(cls, 'sub 1'), { recursive: true });
    const expected: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const name = `${String((i * 7919) % 3000).padStart(4, '0')}${i % 5 === 0 ? 'É' : ''}.png`;
      fs.writeFileSync(path.join(cls, name), '');
      expected.push(path.join(cls, name));
    }
    for (let i = 0; i < 1100; i++) fs.writeFileSync(path.join(cls, `.hidden${i}.png`), '');
    fs.writeFileSync(path.join(cls, 'notes.txt'), '');
    fs.writeFileSync(path.join(cls, 'sub 1', 'inner.png'), '');
    fs.symlinkSync(path.join(cls, '0001.png'), path.join(cls, 'zz-link.png'));
    fs.symlinkSync(path.join(cls, 'missing.png'), path.join(cls, 'zz-broken.png'));
    expected.push(path.join(cls, 'sub 1', 'inner.png'), path.join(cls, 'zz-link.png'));
    // Sorted as the listing sorts: by UTF-16 code units of each name within its folder, sub-folders in place.
    const byName = fs.readdirSync(cls).filter((n) => !n.startsWith('.') && n !== 'notes.txt' && n !== 'zz-broken.png').sort();
    const order = byName.flatMap((n) => (n === 'sub 1' ? [path.join(cls, 'sub 1', 'inner.png')] : [path.join(cls, n)]));
    const listing = await listDataset(t.dir);
    assert.deepEqual(listing.classes, ['cls']);
    assert.deepEqual([...listing.files], order);
    assert.deepEqual([...listing.files].sort(), expected.sort());
    assert.deepEqual(listing.skipped, [{ path: path.join(cls, 'zz-broken.png'), reason: 'broken symbolic link' }]);
  } finally {
    t.cleanup();
  }
});
