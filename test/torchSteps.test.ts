/**
 * The PyTorch side of the bench (resources/bench/torch_steps.py) runs every
 * step it promises, prints one JSON line the bench can parse, and times the
 * same networks as ours: its parameter counts equal those of our Supernet and
 * ArchitectureGenerator for the same preset, which is what makes its figures a
 * fair comparison. PyTorch is a CI requirement here (Debian's python3-torch),
 * so a machine without it fails these tests instead of skipping them.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { initBackend } from '../main/engine/backend.js';
import { ArchitectureGenerator } from '../main/engine/nn/generator.js';
import { Supernet } from '../main/engine/nn/supernet.js';
import { getPreset } from '../main/engine/space/presets.js';
import type { Preset } from '../main/engine/space/types.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../resources/bench/torch_steps.py', import.meta.url));
const INSTALL_HINT = 'apt-get install python3-torch';

/** The script's exit code when PyTorch cannot be imported. */
const EXIT_NO_TORCH = 3;

/** The JSON line the script prints. */
interface TorchStepResult {
  name: string;
  imgPerSec: number;
  secondsPerStep: number;
  imagesPerStep: number;
  threads: number;
  peakRssMB: number;
  idleRssMB: number;
  torch: string;
  params: number;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs /usr/bin/python3 with `args`; rejects only when it cannot start at all. */
function runPython(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', (err) =>
      reject(new Error(`cannot run ${PYTHON} (${err.message}): apt-get install python3 ` +
        'python3-torch')));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** One step, one warm-up, as the bench would call it; fails with the install hint. */
async function runStep(step: string, extra: string[] = []): Promise<TorchStepResult> {
  const run = await runPython([SCRIPT, step, '--steps', '1', '--warmup', '1', ...extra]);
  if (run.code === EXIT_NO_TORCH) {
    throw new Error(`${PYTHON} cannot import torch; CI needs it: ${INSTALL_HINT}\n${run.stderr}`);
  }
  expect(run.code, `torch_steps.py ${step} failed:\n${run.stderr}`).toBe(0);

  const lines = run.stdout.trim().split('\n');
  expect(lines, 'stdout must hold exactly one JSON line').toHaveLength(1);
  return JSON.parse(lines[0]) as TorchStepResult;
}

/** Checks the fields every step reports, whatever its network. */
function expectWellFormed(result: TorchStepResult, step: string): void {
  expect(result.name).toBe(step);
  expect(result.imgPerSec).toBeGreaterThan(0);
  expect(result.secondsPerStep).toBeGreaterThan(0);
  // The two are one measurement: images per step over seconds per step.
  expect(result.imgPerSec).toBeCloseTo(result.imagesPerStep / result.secondsPerStep, 6);
  expect(Number.isInteger(result.threads) && result.threads >= 1).toBe(true);
  expect(result.idleRssMB).toBeGreaterThan(0);
  expect(result.peakRssMB).toBeGreaterThanOrEqual(result.idleRssMB);
  expect(result.torch).toMatch(/^\d+\.\d+/);
}

const SPACE = { forcedSampling: true, minExpansion: 2, shadowBatchNorm: true, seed: 1 };

/** Trainable parameters of our supernet for a preset, 10 classes. */
function ourSupernetParams(preset: Preset): number {
  const net = new Supernet(preset, 10, SPACE);
  try {
    return net.paramCount();
  } finally {
    net.dispose();
  }
}

beforeAll(async () => {
  await initBackend('cpu');
});

describe('torch_steps.py', () => {
  it('mirrors our fmnist supernet and trains it on a batch of 64 images', async () => {
    const result = await runStep('supernet-fmnist');

    expectWellFormed(result, 'supernet-fmnist');
    // The batch, not 5 x 64: the five fair-sampled passes re-read the same images.
    expect(result.imagesPerStep).toBe(64);
    expect(result.params).toBe(ourSupernetParams(getPreset('fmnist')));
  });

  it('mirrors our cifar supernet cut to its first 3 searchable layers', async () => {
    // Batch 16 keeps this test near 10 s on a loaded two-core machine (64
    // takes 15-45 s a step); the parameter count does not depend on it.
    const result = await runStep('supernet-cifar3', ['--batch', '16']);

    expectWellFormed(result, 'supernet-cifar3');
    expect(result.imagesPerStep).toBe(16);
    const cifar = getPreset('cifar');
    const cut: Preset = { ...cifar, layers: cifar.layers.slice(0, 3) };
    expect(result.params).toBe(ourSupernetParams(cut));
  });

  it('trains a generator of our size on one validation batch of 32 images', async () => {
    const result = await runStep('generator-fmnist');

    expectWellFormed(result, 'generator-fmnist');
    // Our trainer shares the 32 images out among its 8 targets (image i to
    // target i mod 8), so 32 images cross the supernet per step.
    expect(result.imagesPerStep).toBe(32);
    const generator = new ArchitectureGenerator(getPreset('fmnist').layers.length, 1);
    try {
      // method.md section 6: 67,969 whatever the number of layers.
      expect(result.params).toBe(generator.parameterCount());
      expect(result.params).toBe(67_969);
    } finally {
      generator.dispose();
    }
  });

  it('scores a sampled fmnist sub-network on 256 images', async () => {
    const result = await runStep('score-fmnist');

    expectWellFormed(result, 'score-fmnist');
    expect(result.imagesPerStep).toBe(256);
    expect(result.params).toBe(ourSupernetParams(getPreset('fmnist')));
  });
});

describe('torch_steps.py without PyTorch', () => {
  let fakeRoot = '';

  beforeAll(async () => {
    // A `torch` package that fails to import, ahead of the real one on the path.
    fakeRoot = await mkdtemp(path.join(tmpdir(), 'sgnas-no-torch-'));
    await mkdir(path.join(fakeRoot, 'torch'));
    await writeFile(
      path.join(fakeRoot, 'torch', '__init__.py'),
      "raise ImportError('torch hidden by the test')\n",
    );
  });

  afterAll(async () => {
    await rm(fakeRoot, { recursive: true, force: true });
  });

  it('exits with code 3 and tells the user how to install it', async () => {
    const run = await runPython([SCRIPT, 'score-fmnist'], {
      ...process.env,
      PYTHONPATH: fakeRoot,
    });

    // The bench reads code 3 as "report our side alone" and shows the hint.
    expect(run.code).toBe(EXIT_NO_TORCH);
    expect(run.stderr).toContain(INSTALL_HINT);
    expect(run.stdout).toBe('');
  });
});
