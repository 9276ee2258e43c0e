// The registry is the one source of the method list: the README table, the JSON Schema's score names and the
// VS Code setting's choices must equal what it generates. `UPDATE_DOCS=1 node --test dist/test/unit/ood-docs.test.js`
// rewrites them after a method is added.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { methodsTable, scoreNames } from '../../src/engine/ood/docs';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const update = process.env.UPDATE_DOCS === '1';
const START = '<!-- methods-table:start (generated from src/engine/ood/registry.ts) -->';
const END = '<!-- methods-table:end -->';

function jsonFile(rel: string, edit: (j: any) => void): { before: string; after: string; file: string } {
  const file = path.join(ROOT, rel);
  const before = fs.readFileSync(file, 'utf8');
  const j = JSON.parse(before);
  edit(j);
  return { before, after: JSON.stringify(j, null, 2) + '\n', file };
}

test('the README table of methods is the registry\'s', () => {
  const file = path.join(ROOT, 'README.md');
  const text = fs.readFileSync(file, 'utf8');
  const [head, rest] = text.split(START);
  assert.ok(rest, 'README has the methods-table markers');
  const tail = rest.split(END)[1];
  const fresh = `${head}${START}\n${methodsTable()}\n${END}${tail}`;
  if (update) fs.writeFileSync(file, fresh);
  else assert.equal(text, fresh, 'README table out of date: run with UPDATE_DOCS=1');
});

test('the JSON Schema and the VS Code setting list every score name', () => {
  // The schema keeps its compact layout: only its one `items` line of the scores is generated.
  const schemaFile = path.join(ROOT, 'schemas', 'oodlens.schema.json');
  const schemaText = fs.readFileSync(schemaFile, 'utf8');
  const schema = { file: schemaFile, before: schemaText, after: schemaText.replace(/("scores": \{[^]*?"items": )\{[^\n]*\}(\n)/, (_, a, nl) => `${a}${JSON.stringify({ type: 'string', enum: scoreNames() }).replace(/,/g, ', ').replace(/:/g, ': ')}${nl}`) };
  assert.deepEqual(JSON.parse(schema.after).properties.scores.items.enum, scoreNames());
  const pkg = jsonFile('package.json', (j) => (j.contributes.configuration.properties['oodLens.defaultScores'].items = { type: 'string', enum: scoreNames() }));
  for (const f of [schema, pkg]) {
    if (update) fs.writeFileSync(f.file, f.after);
    else assert.equal(f.before, f.after, `${path.basename(f.file)} out of date: run with UPDATE_DOCS=1`);
  }
});
