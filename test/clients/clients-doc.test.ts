// docs/clients.md publishes exactly the matrix that matrix.test.ts asserts against real clients:
// the table between its markers is test/clients/matrix-expected.ts rendered (`npm run matrix`), so
// a cell that changes in the tests cannot stay stale in the doc. Also runs the script as users do.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXPECTED_MATRIX } from './matrix-expected.js';
import { CLIENTS_DOC, matrixSection, renderMatrix } from './matrix-table.js';

describe('docs/clients.md', () => {
  it('holds the rendered expected matrix between its markers', async () => {
    const section = matrixSection(readFileSync(CLIENTS_DOC, 'utf8'));
    expect(section, 'run: npm run matrix -- --write').toBe(await renderMatrix(EXPECTED_MATRIX));
  });

  it('npm run matrix prints the same table', async () => {
    const printed = execFileSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/client-matrix.ts'],
      { encoding: 'utf8', cwd: new URL('../..', import.meta.url) },
    );
    expect(printed).toBe(await renderMatrix(EXPECTED_MATRIX));
  });

  it('every cell that does not resume says why', () => {
    for (const row of EXPECTED_MATRIX) {
      const resumesEverywhere = Object.values(row.resumes).every(Boolean);
      expect(row.why === undefined, `${row.client} TLS ${row.version}`).toBe(resumesEverywhere);
    }
  });
});
