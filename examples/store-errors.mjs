// docs/errors.md's example as a program: a store's errors carry a stable code, the same for every
// store; here a closed MemoryStore (ERR_STORE_CLOSED). Prints the code.
// Run: node examples/store-errors.mjs
// #region docs
import { MemoryStore, hasErrorCode } from 'tls-session-cache';

const store = new MemoryStore();
store.close();
try {
  store.get('ns', Uint8Array.of(1));
} catch (error) {
  if (!hasErrorCode(error, 'ERR_STORE_CLOSED')) throw error;
  console.log(`${error.name} ${error.code}: ${error.message}`);
}
// #endregion docs
