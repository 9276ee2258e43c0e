import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PathList } from '../../src/engine/dataset/path-list';

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
