// Headless Chromium driven over the DevTools protocol: one browser per TLS version (the version
// limits are browser-wide flags) with one page, two navigations to the front per run. Every request
// carries `Connection: close` and the favicon is blocked, so each navigation is one connection;
// `switchToSecond()` between them makes the front close whatever Chromium kept open or opened
// speculatively.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  ClientDriver,
  ClientRun,
  ServerAnswer,
  TlsVersion,
  TwoAnswers,
} from './client-driver.js';
import { oneAnswerFrom } from './client-driver.js';
import { connectCdp, type CdpConnection } from './cdp-connection.js';
import { firstLineOf } from './run-command.js';

const CHROMIUM = '/usr/bin/chromium';

/**
 * How long a browser start or one navigation may take: a headless start is about 1 s on a quiet
 * 2-core machine and 10 s at a load average of 20; a loopback navigation takes milliseconds.
 */
export const CHROMIUM_STEP_TIMEOUT_MS = 30_000;

interface Browser {
  child: ChildProcess;
  cdp: CdpConnection;
  profile: string;
  /** The page's flat session. */
  sessionId: string;
}

/** Chromium from Debian's `chromium` package. */
export function chromium(): ClientDriver {
  const version = existsSync(CHROMIUM) ? firstLineOf(CHROMIUM, ['--version']) : undefined;
  const browsers = new Map<TlsVersion, Promise<Browser>>();
  return {
    id: 'chromium',
    version,
    switchesExplicitly: true,
    unavailable: async () =>
      version === undefined ? `${CHROMIUM} not found (apt-get install -y chromium)` : undefined,
    async connectTwice(run: ClientRun): Promise<TwoAnswers> {
      let browser = browsers.get(run.version);
      if (browser === undefined) {
        browser = launch(run.version);
        browsers.set(run.version, browser);
      }
      const { cdp, sessionId } = await browser;
      const base = `https://${run.serverName}:${run.port}`;
      const first = await navigate(cdp, sessionId, `${base}/first`);
      run.switchToSecond();
      const second = await navigate(cdp, sessionId, `${base}/second`);
      return { first, second };
    },
    async close() {
      const started = [...browsers.values()];
      browsers.clear();
      for (const pending of started) {
        const browser = await pending.catch(() => undefined);
        if (browser === undefined) continue;
        browser.cdp.close();
        await stopBrowser(browser.child);
        removeProfile(browser.profile);
      }
    },
  };
}

/** Loads `url` in the page; the server's answer as the page shows it. */
async function navigate(cdp: CdpConnection, sessionId: string, url: string): Promise<ServerAnswer> {
  cdp.clearEvents();
  const { errorText } = await cdp.send<{ errorText?: string }>('Page.navigate', { url }, sessionId);
  if (errorText !== undefined) throw new Error(`Chromium could not load ${url}: ${errorText}`);
  await cdp.waitForEvent(
    (event) => event.method === 'Page.loadEventFired' && event.sessionId === sessionId,
    CHROMIUM_STEP_TIMEOUT_MS,
    `load event for ${url}`,
  );
  const { result } = await cdp.send<{ result: { value?: unknown } }>(
    'Runtime.evaluate',
    { expression: 'document.body.innerText', returnByValue: true },
    sessionId,
  );
  return oneAnswerFrom('Chromium', `${String(result.value)}\n`);
}

/**
 * A page whose requests carry `Connection: close` and never fetch the favicon, so that each
 * navigation is exactly one connection. Starting a page (a renderer process) costs seconds on a
 * busy machine, so one page serves all runs of a browser; runs stay apart because each goes to a
 * front of its own, on a port never used before (Chromium keys sessions and sockets by host:port).
 */
async function openPage(cdp: CdpConnection): Promise<string> {
  const { targetId } = await cdp.send<{ targetId: string }>('Target.createTarget', {
    url: 'about:blank',
  });
  const { sessionId } = await cdp.send<{ sessionId: string }>('Target.attachToTarget', {
    targetId,
    flatten: true,
  });
  await cdp.send('Network.enable', {}, sessionId);
  await cdp.send('Network.setExtraHTTPHeaders', { headers: { Connection: 'close' } }, sessionId);
  await cdp.send('Network.setBlockedURLs', { urls: ['*/favicon.ico'] }, sessionId);
  await cdp.send('Page.enable', {}, sessionId);
  return sessionId;
}

async function launch(version: TlsVersion): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'tsc-chromium-'));
  const flag = version === '1.2' ? 'tls1.2' : 'tls1.3';
  const child = spawn(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
      '--remote-debugging-port=0',
      // The test servers present a self-signed certificate; trust is not what is measured.
      '--ignore-certificate-errors',
      `--ssl-version-min=${flag}`,
      `--ssl-version-max=${flag}`,
      '--host-resolver-rules=MAP localhost 127.0.0.1',
      'about:blank',
    ],
    // Its own process group, so that stopping it reaches its helper processes too.
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  let stderr = '';
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`Chromium did not start within ${CHROMIUM_STEP_TIMEOUT_MS} ms`)),
        CHROMIUM_STEP_TIMEOUT_MS,
      );
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`Chromium exited (${code}): ${stderr}`)));
      child.stderr?.setEncoding('utf8').on('data', (data: string) => {
        stderr += data;
        const match = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
        if (match === null) return;
        clearTimeout(timer);
        resolve(match[1]!);
      });
    });
    const cdp = await connectCdp(url);
    return { child, cdp, profile, sessionId: await openPage(cdp) };
  } catch (error) {
    await stopBrowser(child);
    removeProfile(profile);
    throw error;
  }
}

/** SIGTERM to the browser's process group, SIGKILL after 5 s; resolves once the browser exited. */
async function stopBrowser(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const group = -child.pid;
  const signal = (name: NodeJS.Signals): void => {
    try {
      process.kill(group, name);
    } catch {
      // already gone
    }
  };
  const exited = new Promise((resolve) => child.once('exit', resolve));
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Removes a profile; helper processes may still be closing files in it, hence the retries. */
function removeProfile(profile: string): void {
  rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
}
