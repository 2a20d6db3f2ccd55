/**
 * The schedules of the search: the supernet's cosine learning rate and the
 * generator's Gumbel-softmax temperature (method.md sections 5 and 6).
 */

/**
 * Cosine-annealed learning rate for one optimiser step, decaying from lr0 at
 * step 0 towards 0 at totalSteps: lr0 * (1 + cos(pi * step / totalSteps)) / 2.
 *
 * ```ts
 * cosineLearningRate(0.045, 0, 100); // 0.045
 * cosineLearningRate(0.045, 50, 100); // 0.0225
 * ```
 *
 * @param lr0 learning rate at the first step.
 * @param step 0-based global step; steps past the end stay at 0.
 * @param totalSteps steps in the whole run (epochs x steps per epoch).
 * @throws RangeError when totalSteps is not a positive integer or step < 0.
 */
export function cosineLearningRate(lr0: number, step: number, totalSteps: number): number {
  if (!Number.isInteger(totalSteps) || totalSteps < 1) {
    throw new RangeError(`totalSteps must be a positive integer, got ${totalSteps}`);
  }
  if (!(step >= 0)) throw new RangeError(`step must be >= 0, got ${step}`);

  const progress = Math.min(step / totalSteps, 1);
  return (lr0 * (1 + Math.cos(Math.PI * progress))) / 2;
}

/** The generator's temperature schedule: tau0 x decay^epoch. */
export interface TemperatureSchedule {
  /** Temperature of epoch 0 (paper: 5.0). */
  tau0: number;
  /** Factor applied once per epoch (paper: 0.95). */
  decay: number;
}

export const DEFAULT_TEMPERATURE: Readonly<TemperatureSchedule> = { tau0: 5.0, decay: 0.95 };

/**
 * The Gumbel-softmax temperature for a generator epoch.
 *
 * ```ts
 * gumbelTemperature(0); // 5.0
 * gumbelTemperature(2); // 5.0 * 0.95 * 0.95 = 4.5125
 * ```
 *
 * @param epoch 0-based generator epoch.
 * @throws RangeError when epoch is negative or the schedule is not positive.
 */
export function gumbelTemperature(
  epoch: number,
  schedule: TemperatureSchedule = DEFAULT_TEMPERATURE,
): number {
  if (!(epoch >= 0)) throw new RangeError(`epoch must be >= 0, got ${epoch}`);
  if (!(schedule.tau0 > 0) || !(schedule.decay > 0)) {
    throw new RangeError(
      `temperature schedule needs tau0 > 0 and decay > 0, got ${JSON.stringify(schedule)}`,
    );
  }
  return schedule.tau0 * schedule.decay ** epoch;
}
