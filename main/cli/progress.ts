import type { SearchProgress } from '../engine/pipeline/search.js';

/**
 * Progress lines for long work, one per event, for the terminal and for logs:
 * stage, epoch, step, the losses that matter, and the time left.
 */

/** What a progress line shows: a stage's position and figures (see SearchProgress). */
export type ProgressEvent = Omit<SearchProgress, 'stage' | 'fraction'> & { stage: string };

/** Seconds as "1m05s" or "42s", the way a person reads a time left. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';

  const whole = Math.round(seconds);
  const minutes = Math.floor(whole / 60);
  const rest = whole % 60;
  return minutes > 0 ? `${minutes}m${String(rest).padStart(2, '0')}s` : `${rest}s`;
}

/** One progress line, e.g. "[supernet] epoch 2/4 step 30/94 loss 0.812 acc 71.2% eta 1m10s". */
export function formatProgress(event: ProgressEvent): string {
  // Experiments report no epochs and no step total (0): show what is known.
  const parts = [`[${event.stage}]`];
  if (event.epochs > 0) parts.push(`epoch ${event.epoch}/${event.epochs}`);
  parts.push(event.steps > 0 ? `step ${event.step}/${event.steps}` : `step ${event.step}`);
  if (event.loss !== undefined) parts.push(`loss ${event.loss.toFixed(4)}`);
  if (event.accuracy !== undefined) parts.push(`acc ${(event.accuracy * 100).toFixed(1)}%`);
  for (const [name, value] of Object.entries(event.extra ?? {})) {
    parts.push(`${name} ${formatNumber(value)}`);
  }
  parts.push(`elapsed ${formatDuration(event.elapsedSec)}`, `eta ${formatDuration(event.etaSec)}`);
  return parts.join(' ');
}

function formatNumber(value: number): string {
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e5)) {
    return value.toExponential(2);
  }
  return Number(value.toFixed(4)).toString();
}

/**
 * Thins a stream of progress events to at most one line per interval, always
 * letting the last step of an epoch through, so logs stay readable.
 */
export function throttleProgress(
  print: (line: string) => void,
  intervalMs = 2000,
): (event: ProgressEvent) => void {
  let lastAt = 0;
  return (event) => {
    const now = Date.now();
    const endOfEpoch = event.step === event.steps;
    if (!endOfEpoch && now - lastAt < intervalMs) return;
    lastAt = now;
    print(formatProgress(event));
  };
}
