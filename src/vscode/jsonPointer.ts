// Finds where a JSON pointer points in the text of oodlens.json, so a failing gate underlines its own key.
import { findNodeAtLocation, parseTree } from 'jsonc-parser';

export interface TextRange { start: number; end: number }

export function decodePointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer.split('/').slice(1).map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * Range of the pointed member's key (its value for an array element), else of its nearest ancestor's (a gate
 * bound given as one number has no per-split key), else the first character.
 */
export function locatePointer(text: string, pointer: string): TextRange {
  const root = parseTree(text, [], { allowTrailingComma: true, disallowComments: false });
  const tokens = decodePointer(pointer);
  for (let n = tokens.length; root && n > 0; n--) {
    const node = findNodeAtLocation(root, tokens.slice(0, n).map((t) => (/^\d+$/.test(t) && isArrayAt(root, tokens.slice(0, n - 1)) ? Number(t) : t)));
    if (!node) continue;
    const target = node.parent?.type === 'property' ? node.parent.children![0] : node;
    return { start: target.offset, end: target.offset + target.length };
  }
  return { start: 0, end: Math.min(1, text.length) };
}

function isArrayAt(root: NonNullable<ReturnType<typeof parseTree>>, path: string[]): boolean {
  return (path.length === 0 ? root : findNodeAtLocation(root, path))?.type === 'array';
}
