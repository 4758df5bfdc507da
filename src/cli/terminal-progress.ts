/**
 * Progress where work is long (image builds, pulls, pushes, S3 uploads, container and pod starts): milestones as lines
 * on stderr, as before, and on a terminal one live line between them — a bar when the amount is
 * known, the step otherwise — redrawn at most every 100 ms and wiped before the next line. In a
 * pipe, or with `--json`, the live line is never drawn: logs and scripts see milestones only.
 */
import type { LiveProgress, Progress } from '../docker/images.js';

const REDRAW_MS = 100;
const BAR = 24;

export interface TerminalProgress {
  progress: Progress;
  /** Whether live lines are drawn (a terminal, not `--json`): work that only reports live progress can skip it otherwise. */
  live: boolean;
  /** Wipes the live line (call before printing a result). */
  end(): void;
}

function bar(live: LiveProgress): string {
  if (live.total === undefined || live.total <= 0 || live.current === undefined) return '';
  const fraction = Math.min(1, Math.max(0, live.current / live.total));
  const filled = Math.round(fraction * BAR);
  return ` [${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${Math.round(fraction * 100)}%`;
}

export function terminalProgress(options: { stream?: NodeJS.WriteStream; json?: boolean } = {}): TerminalProgress {
  const stream = options.stream ?? process.stderr;
  const live = stream.isTTY === true && !options.json;
  let shown = false;
  let lastDraw = 0;
  const wipe = () => {
    if (shown) stream.write('\r\x1b[2K');
    shown = false;
  };
  return {
    progress(message, update) {
      if (update === undefined) {
        wipe();
        stream.write(`${message}\n`);
        return;
      }
      if (!live) return;
      const now = Date.now();
      if (shown && now - lastDraw < REDRAW_MS) return;
      lastDraw = now;
      const width = Math.max(20, (stream.columns ?? 80) - 1);
      const text = `${message}${bar(update)}`;
      stream.write(`\r\x1b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
      shown = true;
    },
    live,
    end: wipe,
  };
}
