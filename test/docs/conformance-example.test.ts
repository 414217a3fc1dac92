// Proves that docs/stores.md's conformance example runs as shown: importing
// examples/stores/conformance.ts registers the shared store conformance suite (with vitest's
// describe/it) for its store, and every case of the suite must pass.
import '../../examples/stores/conformance.js';
