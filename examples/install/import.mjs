// docs/install.md's ES module import. Run by test/docs/examples.test.ts; prints the types of the
// two names it imports.
// #region docs
import { SessionCache, attach } from 'tls-session-cache'; // ES module
// #endregion docs

console.log(typeof SessionCache, typeof attach);
