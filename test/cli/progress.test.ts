// The CLI's progress output: on a terminal a bar redrawn in place at most every 100 ms (by the
// injected clock), always drawn at the start and at the last step, erased with the cursor shown
// again at the end; elsewhere one plain line per phase. (A real pseudo terminal drives it in
// operating-progress.test.ts; here the frames are checked exactly.)
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress } from '../../src/cli/progress.js';

function capture(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  Object.assign(stream, { isTTY });
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
}

const frames = (text: string): string[] =>
  text
    .split('\r\x1b[2K')
    .map((frame) => frame.replace('\x1b[?25l', '').replace('\x1b[?25h', ''))
    .filter((frame) => frame !== '');

describe('createProgress', () => {
  it('redraws a terminal bar at most every 100 ms, and at the last step', () => {
    const out = capture(true);
    let clock = 1000;
    const progress = createProgress('demo', out.stream, () => clock);
    progress.start('TLSv1.3', 4);
    progress.increment(); // 50 ms after the start: not drawn
    clock += 50;
    progress.increment();
    clock += 60; // 110 ms after the first frame: drawn
    progress.increment();
    progress.increment(); // the last step: drawn however soon
    progress.stop('4 resumed');
    const shown = frames(out.text());
    expect(shown).toEqual([
      `demo TLSv1.3 [${'░'.repeat(40)}] 0/4`,
      `demo TLSv1.3 [${'█'.repeat(30)}${'░'.repeat(10)}] 3/4`,
      `demo TLSv1.3 [${'█'.repeat(40)}] 4/4`,
    ]);
    // The cursor is hidden while drawing and shown again; the line is erased at the end.
    expect(out.text().startsWith('\x1b[?25l')).toBe(true);
    expect(out.text().endsWith('\r\x1b[2K\x1b[?25h')).toBe(true);
  });

  it('writes one line per phase with its summary when not on a terminal', () => {
    const out = capture(false);
    const progress = createProgress('demo', out.stream);
    progress.start('TLSv1.2', 2);
    progress.increment();
    progress.increment();
    progress.stop('2 resumed');
    progress.start('TLSv1.3', 1);
    progress.stop();
    expect(out.text()).toBe('demo TLSv1.2: 2 resumed\ndemo TLSv1.3: done\n');
  });
});
