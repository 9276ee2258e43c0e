// "Use as deployment threshold": the text edits that put one { model, score, threshold } into oodlens.json's
// `thresholds`, replacing the entry of the same model and score, and keeping the rest of the file (comments, layout)
// as it is. Pure: no vscode import.
import { applyEdits, type Edit, findNodeAtLocation, modify, parseTree } from 'jsonc-parser';
import type { ConfiguredThreshold } from '../engine/operating-point';

export function thresholdEdits(text: string, entry: ConfiguredThreshold): Edit[] {
  const root = parseTree(text, [], { allowTrailingComma: true, disallowComments: false });
  const list = root && findNodeAtLocation(root, ['thresholds']);
  const items = list?.type === 'array' ? list.children ?? [] : [];
  const at = items.findIndex((item) => {
    const model = item.type === 'object' ? findNodeAtLocation(item, ['model'])?.value : undefined;
    const score = item.type === 'object' ? findNodeAtLocation(item, ['score'])?.value : undefined;
    return model === entry.model && score === entry.score;
  });
  const value = { model: entry.model, score: entry.score, threshold: entry.threshold };
  const indent = /\n([ \t]+)"/.exec(text)?.[1];
  const formattingOptions = { insertSpaces: !indent?.startsWith('\t'), tabSize: indent && !indent.startsWith('\t') ? indent.length : 2, eol: text.includes('\r\n') ? '\r\n' : '\n' };
  if (list?.type !== 'array') return modify(text, ['thresholds'], [value], { formattingOptions });
  return modify(text, ['thresholds', at >= 0 ? at : items.length], value, { formattingOptions, isArrayInsertion: at < 0 });
}

export function withThreshold(text: string, entry: ConfiguredThreshold): string {
  return applyEdits(text, thresholdEdits(text, entry));
}
