/**
 * `npm run matrix`: prints the client matrix (client × TLS version × `serve` mode → resumes on one
 * process / across processes sharing SQLite or Redis) as a Markdown table, from the data that
 * test/clients/matrix.test.ts asserts against real clients (test/clients/matrix-expected.ts).
 * `npm run matrix -- --write` puts it into docs/clients.md between its matrix markers;
 * test/clients/clients-doc.test.ts fails when the doc differs.
 *
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { EXPECTED_MATRIX } from '../test/clients/matrix-expected.js';
import { CLIENTS_DOC, renderMatrix, replaceMatrixSection } from '../test/clients/matrix-table.js';

const { values } = parseArgs({ options: { write: { type: 'boolean', default: false } } });
const table = await renderMatrix(EXPECTED_MATRIX);
if (values.write) {
  writeFileSync(CLIENTS_DOC, replaceMatrixSection(readFileSync(CLIENTS_DOC, 'utf8'), table));
  process.stdout.write(`wrote the matrix into ${CLIENTS_DOC}\n`);
} else {
  process.stdout.write(table);
}
