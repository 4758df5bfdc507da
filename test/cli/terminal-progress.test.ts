/**
 * The live progress line: drawn (and redrawn in place) only on a terminal, never in a pipe or a
 * `--json` run, and wiped before each milestone line so lines never run into it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { terminalProgress } from '../../src/cli/terminal-progress.js';
import { recordingStream } from '../helpers/cli.js';

// 60 columns: the long-line test checks the cut against this width.
const stream = (isTTY: boolean) => recordingStream(isTTY, 60);

test('on a terminal: a bar redrawn in place, wiped before the next milestone', () => {
  const tty = stream(true);
  const shown = terminalProgress({ stream: tty.stream });
  shown.progress('pulling image');
  shown.progress('pulling image 1.0/4.0 MiB', { current: 1, total: 4 });
  shown.progress('starting x: waiting for /healthz (0.1 s)', {}); // within 100 ms of the last draw: skipped
  shown.progress('procctl-x healthy at http://127.0.0.1:1');
  shown.end();
  assert.equal(tty.text(), `pulling image\n\r\x1b[2Kpulling image 1.0/4.0 MiB [${'#'.repeat(6)}${'.'.repeat(18)}] 25%\r\x1b[2Kprocctl-x healthy at http://127.0.0.1:1\n`);
});

test('a long live line is cut to the terminal width', () => {
  const tty = stream(true);
  terminalProgress({ stream: tty.stream }).progress('x'.repeat(200), {});
  assert.equal(tty.text(), `\r\x1b[2K${'x'.repeat(58)}…`);
});

test('in a pipe, or with --json, only the milestones are written', () => {
  for (const [out, json] of [[stream(false), false], [stream(true), true]] as const) {
    const shown = terminalProgress({ stream: out.stream, json });
    shown.progress('pushing image');
    shown.progress('pushing image 2.0/4.0 MiB', { current: 2, total: 4 });
    shown.progress('pinned');
    shown.end();
    assert.equal(out.text(), 'pushing image\npinned\n');
  }
});
