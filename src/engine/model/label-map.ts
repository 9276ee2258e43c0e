// --label-map: class folder name → the model's class (index or name), for datasets whose folders are named
// otherwise (ImageNet's WordNet ids, numbered folders).
import { promises as fs } from 'node:fs';
import { UserError } from '../util/errors';

export type LabelMap = Record<string, number | string>;

const HEADER = /^(folder|dir|directory|wnid|synset|name|path|class_folder)$/i;
const unquote = (s: string) => s.trim().replace(/^"(.*)"$/, '$1').replace(/""/g, '"');

/** A JSON object, or a CSV/TSV with two columns (folder, class index or name); a header row is skipped. */
export async function loadLabelMap(file: string): Promise<LabelMap> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new UserError(`Label map not found: ${file}`);
  }
  if (/^\s*\{/.test(text)) {
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (e) {
      throw new UserError(`Invalid JSON in label map ${file}: ${(e as Error).message}`);
    }
    const out: LabelMap = {};
    for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
      if (typeof v !== 'number' && typeof v !== 'string') throw new UserError(`Label map ${file}: "${k}" must map to a class index or name`);
      out[k] = v;
    }
    return out;
  }
  const out: LabelMap = {};
  const lines = text.split(/\r?\n/).filter((l) => l.trim() && !l.startsWith('#'));
  lines.forEach((line, i) => {
    const cells = line.split(line.includes('\t') ? '\t' : ',').map(unquote);
    if (cells.length < 2) throw new UserError(`Label map ${file}, line ${i + 1}: expected two columns (folder, class)`);
    if (i === 0 && HEADER.test(cells[0])) return;
    const [folder, cls] = cells;
    out[folder] = /^\d+$/.test(cls) ? Number(cls) : cls;
  });
  return out;
}
