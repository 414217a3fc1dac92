// Fills the docs' marked code blocks from examples/: a line `<!-- example: PATH -->` (or
// `PATH#NAME` for a region other than `docs`) right before a ```ts block makes the block that
// region of that file, by the rules test/docs/code-blocks.test.ts checks. Run after editing an
// example: `npm run docs:examples` (README.md and docs/**/*.md).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { docFiles, regionsOf, ROOT } from '../test/docs/doc-blocks.js';

const MARKED = /<!-- example: (\S+?)(?:#(\S+))? -->\n```ts\n(?:[^`][\s\S]*?\n)?```/g;

for (const file of docFiles()) {
  const path = join(ROOT, file);
  const text = readFileSync(path, 'utf8');
  const filled = text.replace(MARKED, (_block, example: string, name: string | undefined) => {
    const wanted = name ?? 'docs';
    const region = regionsOf(example).find((r) => r.name === wanted || r.name === '');
    if (region === undefined) throw new Error(`${file}: ${example} has no region ${wanted}`);
    return `<!-- example: ${example}${name === undefined ? '' : `#${name}`} -->\n\`\`\`ts\n${region.code}\`\`\``;
  });
  if (filled !== text) {
    writeFileSync(path, filled);
    process.stdout.write(`${file}: code blocks updated from examples/\n`);
  }
}
