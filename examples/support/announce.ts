// Not part of any example shown in the docs: tells the test that runs an example which port its
// server listens on (the examples listen on `PORT`, which the test sets to 0 for a free port).
import type { AddressInfo, Server } from 'node:net';

/** Prints `listening on PORT` on stdout once `server` listens. */
export function announce(server: Server): void {
  server.once('listening', () => {
    process.stdout.write(`listening on ${(server.address() as AddressInfo).port}\n`);
  });
}
