// Rotation under load, CI-sized (the full run is `npm run rotation`, 10 000 handshakes): real
// handshakes from Node tls clients, half TLS 1.2 and half TLS 1.3, against two server processes in
// tickets mode sharing their keys through one SQLite file, while the keys rotate every second of
// real time. No handshake fails, every resumption attempt in every key period resumes (each client
// offers its newest ticket to the other process), tickets under retired keys are renewed, and each
// period's key is minted once for the two processes.
import { describe, expect, it } from 'vitest';
import { runRotation } from '../../scripts/lib/rotation.js';

describe('tickets mode: rotation under load', () => {
  it('800 handshakes over 2 processes, keys rotating every second: 0 failures, all resumed, renewed', async () => {
    const result = await runRotation({
      handshakes: 800,
      concurrency: 8,
      rotateEveryMs: 1000,
      minRotations: 2,
    });
    expect(result.errors).toEqual([]);
    expect(result.failed).toBe(0);
    // At least 800, and on for as long as two rotations take (a fast machine is done sooner).
    expect(result.handshakes).toBeGreaterThanOrEqual(800);
    expect(result.rotations).toBeGreaterThanOrEqual(2);
    expect(result.resumed).toBe(result.attempts);
    const renewed = result.servers.reduce((sum, s) => sum + s.renewed, 0);
    expect(renewed).toBeGreaterThan(0);
    // Every key came from the store (none local), and no process adopted a key nobody minted. That
    // each period's key is minted exactly once is test/node/tickets.test.ts's (injected clock): in
    // real time, how far the other process has read depends on the machine's load.
    const [a, b] = result.servers;
    expect(a!.minted + b!.minted - (a!.adopted + b!.adopted)).toBeGreaterThanOrEqual(0);
    expect(a!.localKeys + b!.localKeys).toBe(0);
  });
});
