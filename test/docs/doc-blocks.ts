// Reads the documentation's fenced code blocks and the examples' marked regions, for the docs tests.
// A region is what a file marks with `// #region NAME` … `// #endregion NAME` (several segments of
// one name are joined, so setup lines can sit between them unseen); a file without markers is one
// region, the whole file.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root directory. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** One fenced block of a Markdown file. */
export interface DocBlock {
  /** Path relative to the root, e.g. `docs/stores.md`. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The info string's first word, lower case (`ts`, `sh`, `text`, … or `` for none). */
  lang: string;
  /** The block's text, without the fences, ending with a newline. */
  code: string;
}

/** One region of an example file. */
export interface ExampleRegion {
  file: string;
  name: string;
  code: string;
}

function walk(dir: string, keep: (name: string) => boolean): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...walk(path, keep));
    else if (keep(entry.name)) found.push(path);
  }
  return found.sort();
}

/** README.md and every Markdown file under docs/, the docs whose blocks must be tested. */
export function docFiles(): string[] {
  return [join(ROOT, 'README.md'), ...walk(join(ROOT, 'docs'), (name) => name.endsWith('.md'))].map(
    (path) => relative(ROOT, path),
  );
}

/** Every fenced block (``` or ~~~) of one Markdown file. */
export function blocksOf(file: string): DocBlock[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  let open: { fence: string; line: number; lang: string; body: string[] } | undefined;
  lines.forEach((text, index) => {
    if (open === undefined) {
      const match = /^(`{3,}|~{3,})\s*([^\s`]*)/.exec(text);
      if (match !== null) {
        open = {
          fence: match[1] ?? '```',
          line: index + 1,
          lang: (match[2] ?? '').toLowerCase(),
          body: [],
        };
      }
    } else if (text.trimEnd() === open.fence) {
      blocks.push({ file, line: open.line, lang: open.lang, code: `${open.body.join('\n')}\n` });
      open = undefined;
    } else {
      open.body.push(text);
    }
  });
  if (open !== undefined) throw new Error(`${file}:${open.line}: code block never closed`);
  return blocks;
}

const REGION = /^\s*\/\/ #(region|endregion) (\S+)\s*$/;

/** The regions of one example file (path relative to the root). */
export function regionsOf(file: string): ExampleRegion[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const lines = text.split('\n');
  if (!lines.some((line) => REGION.test(line))) return [{ file, name: '', code: text }];
  const segments = new Map<string, string[]>();
  let current: string | undefined;
  lines.forEach((line, index) => {
    const match = REGION.exec(line);
    if (match === null) {
      if (current !== undefined) segments.get(current)?.push(line);
      return;
    }
    const [, kind, name = ''] = match;
    if (kind === 'region') {
      if (current !== undefined) throw new Error(`${file}:${index + 1}: region inside a region`);
      current = name;
      if (!segments.has(name)) segments.set(name, []);
    } else {
      if (current !== name)
        throw new Error(`${file}:${index + 1}: #endregion ${name} without #region`);
      current = undefined;
    }
  });
  if (current !== undefined) throw new Error(`${file}: #region ${current} never closed`);
  return [...segments].map(([name, body]) => ({
    file,
    name,
    code: `${dedent(body).join('\n')}\n`,
  }));
}

/** Removes the indentation common to all non-blank lines (a region inside a block). */
function dedent(lines: string[]): string[] {
  const indents = lines
    .filter((line) => line.trim() !== '')
    .map((line) => /^ */.exec(line)?.[0].length ?? 0);
  const common = Math.min(...indents);
  return common === 0 || !Number.isFinite(common) ? lines : lines.map((line) => line.slice(common));
}

/** Every region of every example file under examples/. */
export function exampleRegions(): ExampleRegion[] {
  return walk(join(ROOT, 'examples'), (name) => /\.(ts|mts|js|mjs|cjs)$/.test(name))
    .map((path) => relative(ROOT, path))
    .flatMap((file) => regionsOf(file));
}
