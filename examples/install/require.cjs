// docs/install.md's CommonJS require (Node loads the ES module with require()). Run by
// test/docs/examples.test.ts; prints the types of the two names it requires.
/* eslint-disable @typescript-eslint/no-require-imports -- require() is what this example shows */
// #region docs
const { SessionCache, attach } = require('tls-session-cache'); // CommonJS, Node ^20.19 || >=22.12
// #endregion docs

console.log(typeof SessionCache, typeof attach);
