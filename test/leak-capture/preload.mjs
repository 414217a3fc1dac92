// Loaded into every Node process of the test suite (vitest workers through setupFiles, subprocesses
// through NODE_OPTIONS=--import): records, for the leak scan at the end of the run, every secret
// that process handled, and everything it printed. Plain JS so that it loads without a TS loader.
//
// What counts as a secret: each serialized session Node hands to a `newSession` (server) or
// `session` (client) listener — the scan decodes them and takes their master secrets — and every
// key given to node:crypto as a secret key (the encryption-at-rest keys). Recording wraps `emit`
// and the crypto functions instead of adding listeners, so that no process behaves differently
// while it is watched.
import { appendFileSync } from 'node:fs';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import tls from 'node:tls';

const dir = process.env.TLS_SESSION_CACHE_LEAK_DIR;
if (dir !== undefined && dir !== '' && !globalThis.__tlsSessionCacheLeakCapture) {
  globalThis.__tlsSessionCacheLeakCapture = true;
  const secretsFile = join(dir, `secrets-${process.pid}.txt`);
  const outputFile = join(dir, `output-${process.pid}.txt`);
  const secret = (kind, bytes) => {
    try {
      appendFileSync(secretsFile, `${kind} ${Buffer.from(bytes).toString('hex')}\n`);
    } catch {
      // The scan will say if nothing was recorded; a test must not fail because of the recorder.
    }
  };
  const output = (chunk) => {
    try {
      appendFileSync(outputFile, typeof chunk === 'string' ? chunk : Buffer.from(chunk));
    } catch {
      // As above.
    }
  };

  const serverEmit = tls.Server.prototype.emit;
  tls.Server.prototype.emit = function emit(event, ...args) {
    if (event === 'newSession' && args[1] instanceof Uint8Array) secret('session', args[1]);
    return serverEmit.call(this, event, ...args);
  };
  const socketEmit = tls.TLSSocket.prototype.emit;
  tls.TLSSocket.prototype.emit = function emit(event, ...args) {
    if (event === 'session' && args[0] instanceof Uint8Array) secret('session', args[0]);
    return socketEmit.call(this, event, ...args);
  };

  const keyOf = (key) => {
    if (key instanceof Uint8Array && key.byteLength >= 16) secret('key', key);
  };
  const { createSecretKey, createCipheriv, createDecipheriv } = crypto;
  crypto.createSecretKey = function (key, ...rest) {
    keyOf(key);
    return createSecretKey.call(this, key, ...rest);
  };
  crypto.createCipheriv = function (algorithm, key, ...rest) {
    keyOf(key);
    return createCipheriv.call(this, algorithm, key, ...rest);
  };
  crypto.createDecipheriv = function (algorithm, key, ...rest) {
    keyOf(key);
    return createDecipheriv.call(this, algorithm, key, ...rest);
  };
  syncBuiltinESMExports();

  // Ticket keys (tickets mode) go to OpenSSL through the server's native SecureContext, as the
  // answers of its `onticketkeycallback`, never through the crypto functions above: an accessor on
  // the SecureContext prototype wraps every callback installed, and records the HMAC and AES keys
  // of each answer as Node receives them. Node reads the property on every call, so the accessor
  // sees every key any process hands OpenSSL.
  try {
    const proto = Object.getPrototypeOf(tls.createSecureContext().context);
    if (proto && !Object.getOwnPropertyDescriptor(proto, 'onticketkeycallback')) {
      const wrapped = new WeakMap();
      const seen = new WeakSet();
      Object.defineProperty(proto, 'onticketkeycallback', {
        configurable: true,
        get() {
          return wrapped.get(this);
        },
        set(fn) {
          if (typeof fn !== 'function') {
            wrapped.delete(this);
            return;
          }
          wrapped.set(this, function (...args) {
            const answer = fn.apply(this, args);
            if (Array.isArray(answer) && answer[0] > 0) {
              for (const part of [answer[1], answer[2]]) {
                if (part instanceof Uint8Array && !seen.has(part)) {
                  seen.add(part);
                  secret('key', part);
                }
              }
            }
            return answer;
          });
        },
      });
    }
  } catch {
    // As above: recording never breaks a process.
  }

  // Everything this process prints, unless it was asked to print secrets (`--show-secrets`). (The vitest main process records its own output, which holds
  // what workers print through console; this catches direct writes and subprocesses' output.)
  const asked = process.argv.includes('--show-secrets');
  for (const stream of asked ? [] : [process.stdout, process.stderr]) {
    const write = stream.write;
    stream.write = function (chunk, ...rest) {
      output(chunk);
      return write.call(this, chunk, ...rest);
    };
  }
  process.on('warning', (warning) => output(`${warning.name}: ${warning.message}\n`));
}
