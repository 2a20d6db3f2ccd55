/**
 * The two optimisers of the search, following PyTorch's update rules so the
 * paper's hyper-parameters mean the same here:
 * - SGD with momentum (no Nesterov, no dampening): the supernet;
 * - Adam with bias correction: the generator.
 *
 * Weight decay is L2 added to the gradient (g + wd * w), and only on
 * parameters marked `decay` (conv and linear weights, not BN or biases).
 * A parameter that got no gradient in a step is left alone, momentum and decay
 * included, as PyTorch does for a parameter whose .grad is None. State
 * (buffers and step counts) exports to plain arrays for checkpoints.
 */
import * as tf from '@tensorflow/tfjs';

import type { NamedArray, Param } from '../nn/params.js';

/** What an optimiser needs to know about a parameter. */
export type OptimizedParam = Pick<Param, 'name' | 'variable' | 'decay'>;

/** Gradients by logical parameter name. */
export type GradientMap = Map<string, tf.Tensor>;

/** An optimiser's whole state, in a form a checkpoint can store. */
export interface OptimizerState {
  kind: 'sgd' | 'adam';
  /** Steps taken. */
  step: number;
  /** Steps each parameter has been updated in (Adam's bias correction). */
  paramSteps: Record<string, number>;
  /** Buffers, named `<slot>:<parameter>` (slots: momentum; adam.m, adam.v). */
  slots: NamedArray[];
}

/** The optimiser interface the trainers use. */
export interface Optimizer {
  readonly kind: 'sgd' | 'adam';
  /** Steps taken so far. */
  readonly stepCount: number;
  /**
   * Applies one update to the parameters that have a gradient.
   *
   * @param grads gradients by logical name; the caller keeps ownership.
   * @param lr learning rate for this step.
   * @throws RangeError for a gradient of an unknown parameter or wrong shape.
   */
  step(grads: GradientMap, lr: number): void;
  exportState(): OptimizerState;
  /** @throws RangeError when the state is of another kind or layout. */
  importState(state: OptimizerState): void;
  /** Releases every buffer. */
  dispose(): void;
}

/** SGD settings; PyTorch's defaults for the supernet in method.md section 5. */
export interface SgdOptions {
  momentum: number;
  weightDecay: number;
}

/** Adam settings; the paper's generator uses betas (0.5, 0.999), decay 0. */
export interface AdamOptions {
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
}

abstract class BaseOptimizer implements Optimizer {
  abstract readonly kind: 'sgd' | 'adam';
  protected readonly params = new Map<string, OptimizedParam>();
  /** slot name -> parameter name -> buffer (kept outside any tidy scope). */
  protected readonly slots = new Map<string, Map<string, tf.Tensor>>();
  protected readonly paramSteps = new Map<string, number>();
  private steps = 0;

  constructor(params: OptimizedParam[], slotNames: string[]) {
    for (const p of params) this.params.set(p.name, p);
    for (const s of slotNames) this.slots.set(s, new Map());
  }

  get stepCount(): number {
    return this.steps;
  }

  step(grads: GradientMap, lr: number): void {
    if (!Number.isFinite(lr) || lr < 0) {
      throw new RangeError(`learning rate must be a finite number >= 0, got ${lr}`);
    }

    for (const [name, grad] of grads) {
      const param = this.params.get(name);
      if (!param) {
        throw new RangeError(`gradient for '${name}', which this optimiser does not update`);
      }
      if (grad.shape.join(',') !== param.variable.shape.join(',')) {
        throw new RangeError(
          `gradient for '${name}' has shape [${grad.shape}], parameter has ` +
            `[${param.variable.shape}]`,
        );
      }
      const paramStep = (this.paramSteps.get(name) ?? 0) + 1;
      this.paramSteps.set(name, paramStep);
      this.update(param, grad, lr, paramStep);
    }

    this.steps += 1;
  }

  /** Updates one parameter and its buffers. */
  protected abstract update(
    param: OptimizedParam,
    grad: tf.Tensor,
    lr: number,
    paramStep: number,
  ): void;

  /** Replaces a buffer, releasing the old one. */
  protected setSlot(slot: string, name: string, value: tf.Tensor): void {
    const map = this.slots.get(slot) as Map<string, tf.Tensor>;
    map.get(name)?.dispose();
    map.set(name, value);
  }

  protected getSlot(slot: string, name: string): tf.Tensor | undefined {
    return this.slots.get(slot)?.get(name);
  }

  exportState(): OptimizerState {
    const slots: NamedArray[] = [];
    for (const [slot, map] of this.slots) {
      for (const [name, value] of map) {
        slots.push({
          name: `${slot}:${name}`,
          shape: [...value.shape],
          values: (value.dataSync() as Float32Array).slice(),
        });
      }
    }
    return {
      kind: this.kind,
      step: this.steps,
      paramSteps: Object.fromEntries(this.paramSteps),
      slots,
    };
  }

  importState(state: OptimizerState): void {
    if (state.kind !== this.kind) {
      throw new RangeError(
        `optimizer state is for '${state.kind}', this optimizer is '${this.kind}'`,
      );
    }

    const incoming = state.slots.map((entry) => {
      const cut = entry.name.indexOf(':');
      const slot = entry.name.slice(0, cut);
      const name = entry.name.slice(cut + 1);
      const param = this.params.get(name);
      if (cut < 0 || !this.slots.has(slot) || !param) {
        throw new RangeError(
          `optimizer state holds '${entry.name}', which does not fit this ${this.kind} ` +
            'optimizer\'s parameters; the checkpoint belongs to another network',
        );
      }
      if (entry.shape.join(',') !== param.variable.shape.join(',')) {
        throw new RangeError(
          `optimizer buffer '${entry.name}' has shape [${entry.shape}], parameter has ` +
            `[${param.variable.shape}]`,
        );
      }
      return { slot, name, entry };
    });

    this.clearSlots();
    for (const { slot, name, entry } of incoming) {
      this.setSlot(slot, name, tf.tensor(entry.values, entry.shape, 'float32'));
    }
    this.paramSteps.clear();
    for (const [name, n] of Object.entries(state.paramSteps)) this.paramSteps.set(name, n);
    this.steps = state.step;
  }

  dispose(): void {
    this.clearSlots();
  }

  private clearSlots(): void {
    for (const map of this.slots.values()) {
      for (const t of map.values()) t.dispose();
      map.clear();
    }
  }
}

/**
 * SGD with momentum, PyTorch's rule (dampening 0, Nesterov off):
 * d = g + wd * w (decayed params only); buf = d on a parameter's first step,
 * else buf = momentum * buf + d; w = w - lr * buf.
 *
 * ```ts
 * const sgd = new SgdOptimizer(store.trainables(), { momentum: 0.9, weightDecay: 4e-5 });
 * sgd.step(grads, 0.045);
 * ```
 */
export class SgdOptimizer extends BaseOptimizer {
  readonly kind = 'sgd' as const;
  readonly options: SgdOptions;

  constructor(params: OptimizedParam[], options: Partial<SgdOptions> = {}) {
    super(params, ['momentum']);
    this.options = { momentum: 0.9, weightDecay: 0, ...options };
  }

  protected update(param: OptimizedParam, grad: tf.Tensor, lr: number): void {
    const { momentum, weightDecay } = this.options;
    const old = this.getSlot('momentum', param.name);

    const buf = tf.tidy(() => {
      const d = param.decay && weightDecay > 0
        ? tf.add(grad, tf.mul(param.variable, weightDecay))
        : grad;
      const next = momentum > 0 && old ? tf.add(tf.mul(old, momentum), d) : tf.clone(d);
      param.variable.assign(tf.sub(param.variable, tf.mul(next, lr)));
      return next;
    });

    if (momentum > 0) this.setSlot('momentum', param.name, buf);
    else buf.dispose();
  }
}

/**
 * Adam, PyTorch's rule: d = g + wd * w (decayed params only);
 * m = b1 m + (1 - b1) d; v = b2 v + (1 - b2) d^2;
 * w = w - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps),
 * with t the parameter's own step count.
 */
export class AdamOptimizer extends BaseOptimizer {
  readonly kind = 'adam' as const;
  readonly options: AdamOptions;

  constructor(params: OptimizedParam[], options: Partial<AdamOptions> = {}) {
    super(params, ['adam.m', 'adam.v']);
    this.options = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, ...options };
  }

  protected update(param: OptimizedParam, grad: tf.Tensor, lr: number, t: number): void {
    const { beta1, beta2, epsilon, weightDecay } = this.options;
    const oldM = this.getSlot('adam.m', param.name);
    const oldV = this.getSlot('adam.v', param.name);

    const [m, v] = tf.tidy(() => {
      const d = param.decay && weightDecay > 0
        ? tf.add(grad, tf.mul(param.variable, weightDecay))
        : grad;
      const mNext = tf.add(oldM ? tf.mul(oldM, beta1) : tf.zerosLike(d), tf.mul(d, 1 - beta1));
      const vNext = tf.add(
        oldV ? tf.mul(oldV, beta2) : tf.zerosLike(d),
        tf.mul(tf.square(d), 1 - beta2),
      );
      const denom = tf.add(tf.div(tf.sqrt(vNext), Math.sqrt(1 - beta2 ** t)), epsilon);
      const stepSize = lr / (1 - beta1 ** t);
      param.variable.assign(tf.sub(param.variable, tf.mul(tf.div(mNext, denom), stepSize)));
      return [mNext, vNext];
    });

    this.setSlot('adam.m', param.name, m);
    this.setSlot('adam.v', param.name, v);
  }
}
