// Fills the docs' marked code blocks from examples/: a line `<!-- example: PATH -->` (or
// `PATH#NAME` for a region other than `docs`) right before a ```ts or ```js block makes the block
// that region of that file, by the rules test/docs/code-blocks.test.ts checks. Run after editing
// an example: `npm run docs:examples` (README.md and docs/**/*.md). Exits 1 if a marker names a
// file or region that does not exist (those blocks are left as they are).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { docFiles, regionsOf, ROOT } from '../test/docs/doc-blocks.js';

const MARKED = /<!-- example: (\S+?)(?:#(\S+))? -->\n```(ts|js)\n(?:[^`][\s\S]*?\n)?```/g;
let missing = 0;

for (const file of docFiles()) {
  const path = join(ROOT, file);
  const text = readFileSync(path, 'utf8');
  const filled = text.replace(
    MARKED,
    (block: string, example: string, name: string | undefined, lang: string) => {
      const wanted = name ?? 'docs';
      const region = existsSync(join(ROOT, example))
        ? regionsOf(example).find((r) => r.name === wanted || r.name === '')
        : undefined;
      if (region === undefined) {
        process.stderr.write(`${file}: ${example} has no region ${wanted}\n`);
        missing++;
        return block;
      }
      const marker = `<!-- example: ${example}${name === undefined ? '' : `#${name}`} -->`;
      return `${marker}\n\`\`\`${lang}\n${region.code}\`\`\``;
    },
  );
  if (filled !== text) {
    writeFileSync(path, filled);
    process.stdout.write(`${file}: code blocks updated from examples/\n`);
  }
}
process.exitCode = missing === 0 ? 0 : 1;
