// The library's events as JSON log lines: to a stream as they are, to a logger without the
// newline. Shown in docs/operating.md; run by test/docs/examples.test.ts, which reads both outputs.
import { announce } from '../support/announce.js';

/** Stands in for the application's logger (pino, winston, …): it adds its own newline. */
const logger = { info: (message: string) => process.stdout.write(`INFO ${message}\n`) };

// #region docs
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { logEvents, openSessionCache } from 'tls-session-cache';

// Each line is one JSON object and ends with '\n': ready for a stream...
const stopStderr = logEvents((line) => process.stderr.write(line));
// ...while a logger adds a newline of its own: drop ours.
const stopLogger = logEvents((line) => logger.info(line.trimEnd()));

const sessions = await openSessionCache({ store: 'memory', sessionIdContext: 'my-api' });
const server = tls.createServer(
  { key: readFileSync('key.pem'), cert: readFileSync('cert.pem'), ...sessions.serverOptions() },
  (socket) => socket.end('hello\n'),
);
sessions.attach(server);
server.listen(Number(process.env.PORT ?? 8443));
process.once('SIGTERM', () => {
  stopStderr();
  stopLogger();
  server.close(() => void sessions.close());
});
// #endregion docs
announce(server);
