// What every independent TLS client of the client matrix offers: whether it can run here, and one
// "connect twice" run through a fleet front, where the server's own answers say what happened.
// Resumption is judged from the SERVER's answer (`serve` answers every request with `protocol:` and
// `resumed: yes|no`), never from what a client claims.

/** The clients of the matrix. */
export type ClientId =
  'gnutls' | 'go' | 'python' | 'curl' | 'chromium' | 'openssl-no-middlebox' | 'openssl-hrr';

/** A TLS version of the matrix. */
export type TlsVersion = '1.2' | '1.3';

/** What `serve` said about one connection: the protocol it negotiated and whether it resumed. */
export interface ServerAnswer {
  /** `TLSv1.2` or `TLSv1.3`, as the server's `getProtocol()` saw it. */
  protocol: string;
  /** The server's `isSessionReused()`. */
  resumed: boolean;
}

/** The server's answers to the two connections of one run. */
export interface TwoAnswers {
  /**
   * The first connection's answer; `undefined` for a client that sends no request on its first
   * connection (`gnutls-cli --resume` only handshakes, then reconnects and sends stdin).
   */
  first: ServerAnswer | undefined;
  second: ServerAnswer;
}

/** One run: where to connect and which version to force on the client side. */
export interface ClientRun {
  /** Loopback port of the fleet front (a plain TCP front, as a load balancer in front of servers). */
  port: number;
  /** The only TLS version the client may offer. */
  version: TlsVersion;
  /** Server name to send (SNI / Host): every client uses the same, so every cache key agrees. */
  serverName: string;
  /**
   * Called by clients that control the moment between their two connections (a browser); the front
   * then closes what is still open and sends every later connection to the second server. Clients
   * that make both connections in one uninterrupted run never call it: the front sends their first
   * connection to the first server and every later one to the second.
   */
  switchToSecond(): void;
}

/** An independent TLS client the matrix can drive. */
export interface ClientDriver {
  /** Which client this is; the matrix's rows are keyed by it (see test/clients/matrix-expected.ts). */
  readonly id: ClientId;
  /** The client's own version line, for the test log; `undefined` when it is not installed. */
  readonly version: string | undefined;
  /** Whether the driver calls {@link ClientRun.switchToSecond} (see there). */
  readonly switchesExplicitly: boolean;
  /** Why the client cannot run here (not installed, cannot build), or `undefined` when it can. */
  unavailable(): Promise<string | undefined>;
  /** Two connections with one client-side session cache; the server's answers. */
  connectTwice(run: ClientRun): Promise<TwoAnswers>;
  /** Frees what the driver keeps between runs (a browser, a build directory). */
  close(): Promise<void>;
}

/**
 * Reads `serve`'s answer out of an HTTP response body (or a whole response, or a client's output
 * that contains it): the `protocol:` and `resumed:` lines that follow an `ok` line.
 */
export function parseServerAnswers(text: string): ServerAnswer[] {
  const answers: ServerAnswer[] = [];
  for (const match of text.matchAll(/^ok\r?\nprotocol: (\S+)\r?\nresumed: (yes|no)$/gm)) {
    answers.push({ protocol: match[1]!, resumed: match[2] === 'yes' });
  }
  return answers;
}

/** The two answers of a client that printed both responses; throws naming the client otherwise. */
export function twoAnswersFrom(client: string, text: string): TwoAnswers {
  const answers = parseServerAnswers(text);
  if (answers.length !== 2) {
    throw new Error(`${client}: expected 2 server answers, found ${answers.length} in:\n${text}`);
  }
  return { first: answers[0], second: answers[1]! };
}

/** The one answer of a client that printed a single response; throws naming the client otherwise. */
export function oneAnswerFrom(client: string, text: string): ServerAnswer {
  const answers = parseServerAnswers(text);
  if (answers.length !== 1) {
    throw new Error(`${client}: expected 1 server answer, found ${answers.length} in:\n${text}`);
  }
  return answers[0]!;
}
