// Types for the parts of hyparquet-writer used here: its subpath modules (package "exports": "./src/*.js").
// With "moduleResolution": "node", TypeScript does not read export maps, so they are declared by hand.
declare module 'hyparquet-writer/src/node.js' {
  import type { Writer } from 'hyparquet-writer/src/types.js';
  export function fileWriter(filename: string): Writer;
}
declare module 'hyparquet-writer/src/column.js' {
  import type { ColumnEncoder, PageData, Writer } from 'hyparquet-writer/src/types.js';
  export function writeColumn(o: { writer: Writer; column: ColumnEncoder; pageData: PageData }): { chunk: ColumnChunkLike };
  export interface ColumnChunkLike {
    meta_data?: { total_uncompressed_size: bigint };
  }
}
declare module 'hyparquet-writer/src/indexes.js' {
  import type { Writer } from 'hyparquet-writer/src/types.js';
  export function writeIndexes(writer: Writer, pageIndexes: unknown[]): void;
}
declare module 'hyparquet-writer/src/metadata.js' {
  import type { Writer } from 'hyparquet-writer/src/types.js';
  export function writeMetadata(writer: Writer, metadata: unknown): void;
}
declare module 'hyparquet-writer/src/snappy.js' {
  export function snappyCompress(input: Uint8Array): Uint8Array;
}
declare module 'hyparquet-writer/src/types.js' {
  export interface Writer {
    offset: number;
    appendUint32(value: number): void;
    finish(): void | Promise<void>;
  }
  export interface PageData {
    values: ArrayLike<unknown>;
    definitionLevels: ArrayLike<number>;
    repetitionLevels: ArrayLike<number>;
    maxDefinitionLevel: number;
  }
  export type ColumnEncoder = Record<string, unknown>;
}
