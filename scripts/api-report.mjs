// The API reports of the package's four entries (etc/*.api.md), made by api-extractor from dist/
// (build first). `node scripts/api-report.mjs` compares them with the committed ones and fails on
// any difference (npm run api:check, part of npm run lint); `--update` rewrites them after an
// intended change of the public surface (npm run api:update). One process for the four entries.
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';
import { URL, fileURLToPath } from 'node:url';

const ENTRIES = ['index', 'client', 'testing', 'metrics'];
const update = process.argv.includes('--update');
let failed = false;
for (const entry of ENTRIES) {
  const file = fileURLToPath(new URL(`../config/api-extractor.${entry}.json`, import.meta.url));
  const result = Extractor.invoke(ExtractorConfig.loadFileAndPrepare(file), {
    localBuild: update,
    showVerboseMessages: false,
  });
  if (!result.succeeded) {
    failed = true;
    process.stderr.write(
      result.apiReportChanged
        ? `api-extractor: the public surface of "${entry}" changed; review the diff and run npm run api:update\n`
        : `api-extractor: "${entry}" failed with ${result.errorCount} errors, ${result.warningCount} warnings\n`,
    );
  } else if (result.warningCount > 0) {
    failed = true;
    process.stderr.write(`api-extractor: "${entry}" has ${result.warningCount} warnings\n`);
  }
}
process.exitCode = failed ? 1 : 0;
