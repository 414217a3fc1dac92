// The layers of src/, lowest first: a folder may import only from its own layer and those below it.
// Checked by `npm run lint:layers` (part of `npm test`), so an upward import fails the build.
//   common      validation, errors, id keys: used by everything
//   wire        TLS records and the ClientHello reader (bytes on the wire)
//   session     the session model: decoding SSL_SESSION, the session record, the stored record
//   cache       the cache engine (OpenSSL's internal cache, callbacks, statistics) and its events
//   stores      the external caches (memory, SQLite, Redis), store URLs, the store adapter
//   node/client server wiring (attach) and the client-side cache: side by side, neither imports the other
//   front-door  openSessionCache(): the one assembly of the pieces below
//   metrics     Prometheus collector, event log lines
//   cli/testing the command line and the conformance suite for store authors
const layers = [
  ['common'],
  ['wire'],
  ['session'],
  ['cache'],
  ['stores'],
  ['node', 'client'],
  ['front-door'],
  ['metrics'],
  ['cli', 'testing'],
];
const rank = new Map(layers.flatMap((folders, i) => folders.map((f) => [f, i])));
const all = [...rank.keys()];
const forbidden = [];
for (const [folder, r] of rank) {
  const notBelow = all.filter((other) => other !== folder && rank.get(other) >= r);
  if (notBelow.length === 0) continue;
  forbidden.push({
    name: `layer-${folder}`,
    comment: `src/${folder} may import only from folders below it (${layers
      .slice(0, r)
      .flat()
      .join(', ')})`,
    severity: 'error',
    from: { path: `^src/${folder}/` },
    to: { path: `^src/(${notBelow.join('|')})/` },
  });
}
forbidden.push(
  {
    name: 'no-entry-imports',
    comment:
      'the package entry points (src/*.ts) are for users; code inside src/ imports the modules',
    severity: 'error',
    from: { path: '^src/.+/' },
    to: { path: '^src/[^/]+\\.ts$' },
  },
  {
    name: 'no-circular',
    comment: 'a cycle makes the import order matter and hides a missing layer',
    severity: 'error',
    from: { path: '^src/' },
    to: { circular: true },
  },
  {
    name: 'no-unknown-folder',
    comment: 'every folder of src/ has a layer: add a new one to the list above',
    severity: 'error',
    from: { path: '^src/', pathNot: `^src/([^/]+\\.ts$|(${all.join('|')})/)` },
    to: {},
  },
);
module.exports = {
  forbidden,
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
  },
};
