import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REPORT_SCHEMA_VERSION } from '../../src/engine/report/types';

test('report schema version is set', () => {
  assert.equal(REPORT_SCHEMA_VERSION, 2);
});
