/**
 * The CLI's progress lines: what a researcher reads while a run works.
 */
import { describe, expect, it } from 'vitest';

import { formatProgress } from '../main/cli/progress.js';

const base = { epoch: 2, epochs: 4, step: 30, steps: 94, elapsedSec: 65, etaSec: 70 };

describe('formatProgress', () => {
  it('shows the stage, epoch and step out of their totals, and the time left', () => {
    expect(formatProgress({ ...base, stage: 'supernet', loss: 0.8123, accuracy: 0.712 }))
      .toBe('[supernet] epoch 2/4 step 30/94 loss 0.8123 acc 71.2% elapsed 1m05s eta 1m10s');
  });

  it('leaves out totals a run does not know (an experiment reports 0) instead of "0/0"', () => {
    const line = formatProgress({ ...base, stage: 'random', epoch: 0, epochs: 0, step: 7,
      steps: 0 });

    expect(line).toBe('[random] step 7 elapsed 1m05s eta 1m10s');
    expect(line).not.toContain('/0');
  });
});
