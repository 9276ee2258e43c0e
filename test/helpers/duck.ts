// DuckDB as the independent Parquet reader and writer of the tests (a devDependency; the product reads and writes
// Parquet with hyparquet).
import { DuckDBInstance } from '@duckdb/node-api';

/** Runs one SQL statement in a fresh in-memory database and returns its rows. */
export async function duck(sql: string): Promise<unknown[][]> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    return (await c.runAndReadAll(sql)).getRows() as unknown[][];
  } finally {
    c.closeSync();
  }
}
