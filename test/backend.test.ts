/**
 * Backend selection on a machine without the optional native packages
 * (@tensorflow/tfjs-node and -node-gpu fail to install here, as on many
 * machines without access to the libtensorflow download).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';

import { activeBackend, initBackend, isNativeBackend } from '../main/engine/backend.js';

/**
 * Whether a native package could load: installed AND holding its compiled
 * binding. `npm ci --ignore-scripts` (as in CI) installs the package without
 * downloading libtensorflow or building the binding, which must also fall back.
 */
function loadable(pkg: string): boolean {
  try {
    const entry = createRequire(import.meta.url).resolve(pkg);
    const root = path.resolve(path.dirname(entry), '..');
    return existsSync(path.join(root, 'lib', 'napi-v8', 'tfjs_binding.node'));
  } catch {
    return false;
  }
}

const nativeAbsent =
  !loadable('@tensorflow/tfjs-node') && !loadable('@tensorflow/tfjs-node-gpu');


// Tests run in order and share the module's state, as an app's calls would.
describe.runIf(nativeAbsent)('initBackend without the native packages', () => {
  it('refuses to report a backend before initBackend has run', () => {
    expect(() => activeBackend()).toThrow(/await initBackend\(\)/);
  });

  it('picks wasm and says why each native backend was skipped', async () => {
    const info = await initBackend();

    expect(info).toMatchObject({ name: 'wasm', tfBackend: 'wasm' });
    expect(tf.getBackend()).toBe('wasm');
    expect(info.tried).toHaveLength(2);
    expect(info.tried[0]).toMatch(/^tensorflow-gpu: /);
    expect(info.tried[0].slice('tensorflow-gpu: '.length)).toMatch(
      /@tensorflow\/tfjs-node-gpu is not installed|tfjs_binding/,
    );
    expect(info.tried[1]).toMatch(/^tensorflow: /);
    expect(info.tried[1].slice('tensorflow: '.length)).toMatch(
      /@tensorflow\/tfjs-node is not installed|tfjs_binding/,
    );
    expect(activeBackend()).toBe('wasm');
    expect(isNativeBackend()).toBe(false);
  });

  it('returns the same selection when called again', async () => {
    const first = await initBackend();
    const again = await Promise.all([initBackend(), initBackend('wasm')]);

    expect(again[0]).toBe(first);
    expect(again[1]).toBe(first);
  });

  it('fails a forced tensorflow backend with the missing package and the fix', async () => {
    await expect(initBackend('tensorflow')).rejects.toThrow(
      /Backend 'tensorflow' could not be loaded.*@tensorflow\/tfjs-node.*--backend wasm/,
    );

    // The failed attempt leaves the working backend in place.
    expect(activeBackend()).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('fails a forced tensorflow-gpu backend naming @tensorflow/tfjs-node-gpu', async () => {
    await expect(initBackend('tensorflow-gpu')).rejects.toThrow(/@tensorflow\/tfjs-node-gpu/);
  });

  it('switches to cpu when cpu is forced', async () => {
    const info = await initBackend('cpu');

    expect(info).toEqual({ name: 'cpu', tfBackend: 'cpu', tried: [] });
    expect(tf.getBackend()).toBe('cpu');
    expect(activeBackend()).toBe('cpu');
    expect(tf.tidy(() => tf.add(tf.scalar(2), tf.scalar(3)).dataSync()[0])).toBe(5);
  });

  it('rejects an unknown backend name, listing the valid ones', async () => {
    await expect(initBackend('webgl' as never)).rejects.toThrow(
      /Unknown backend 'webgl'.*tensorflow-gpu, tensorflow, wasm, cpu/,
    );
  });
});
