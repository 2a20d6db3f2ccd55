/**
 * The workbench service: what the API handlers call. It reads runs from the
 * registry, starts and stops them through the job runner, resolves
 * architectures with the engine's cost model, and runs trained generators.
 *
 * It receives its collaborators (registry, job runner, generator catalog), so
 * the Electron main process, the local HTTP host and the tests build it the
 * same way with different parts.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';

import { searchConfigSchema } from '../engine/pipeline/config.js';
import type { SearchConfig } from '../engine/pipeline/config.js';
import { defaultSearchConfig } from '../engine/pipeline/defaults.js';
import {
  expansionRate,
  formatArchitecture,
  parseArchitectureJson,
  parseArchitectureText,
} from '../engine/space/architecture.js';
import {
  buildCostTable,
  flopsM,
  flopsRangeM,
  paramCount,
} from '../engine/space/costModel.js';
import { PRESETS, getPreset, layerShapes } from '../engine/space/presets.js';
import { PriorPool } from '../engine/space/priors.js';
import {
  kernelSize,
  type Architecture,
  type Preset,
  type SpaceOptions,
} from '../engine/space/types.js';
import type { RunRegistry } from '../registry/index.js';
import { RegistryError } from '../registry/errors.js';
import {
  EXPERIMENT_KINDS,
  type ApiErrorCode,
  type ApiParsed,
  type ArchitectureDetail,
  type ArchitectureRecord,
  type ConfigCheck,
  type ConfigProblem,
  type ExperimentInput,
  type ExperimentResult,
  type GeneratedItem,
  type GeneratorInfo,
  type LayerDetail,
  type MetricPoint,
  type PresetInfo,
  type PriorPoolEntry,
  type ProgressEvent,
  type RunDetail,
  type RunStatusName,
  type RunSummary,
  type SweepRecord,
  type WorkbenchEvent,
} from './contract.js';
import { ApiError } from './errors.js';
import type { WorkbenchService } from './handlers.js';

/** A run's status change, as the job runner reports it. */
export interface StatusEvent {
  runId: string;
  status: RunStatusName;
  error?: string | null;
}

/** A log line of a run, as the job runner reports it. */
export interface LogEvent {
  runId: string;
  line: string;
}

/** The part of the job runner (main/jobs/jobRunner.ts) the service uses. */
export interface JobRunnerPort {
  startSearch(config: SearchConfig): Promise<string>;
  /** Validates, checks the source run, registers and starts an experiment. */
  startExperiment(input: ExperimentInput): Promise<string>;
  cancel(runId: string): unknown;
  resume(runId: string): unknown;
  on(event: 'progress', listener: (event: ProgressEvent) => void): unknown;
  on(event: 'status', listener: (event: StatusEvent) => void): unknown;
  on(event: 'log', listener: (event: LogEvent) => void): unknown;
  off(event: 'progress', listener: (event: ProgressEvent) => void): unknown;
  off(event: 'status', listener: (event: StatusEvent) => void): unknown;
  off(event: 'log', listener: (event: LogEvent) => void): unknown;
}

/** Trained generators the Generate view may run. */
export interface GeneratorCatalog {
  list(): Promise<GeneratorInfo[]>;
  /** One architecture per budget, all from one forward pass where possible. */
  generate(generatorId: string, budgetsM: number[]): Promise<GeneratedItem[]>;
}

/** The registry calls the service reads (RunRegistry satisfies it). */
export type RegistryPort = Pick<
  RunRegistry,
  | 'listRuns'
  | 'getRun'
  | 'getMetrics'
  | 'listArtifacts'
  | 'listArchitectures'
  | 'listSweeps'
  | 'runFolder'
>;

export interface ServiceParts {
  registry: RegistryPort;
  jobs: JobRunnerPort;
  generators: GeneratorCatalog;
}

/** Output classes of each preset's dataset, when a config does not say. */
const PRESET_CLASSES: Record<string, number> = { imagenet: 1000, cifar: 10, fmnist: 10 };

/** Lines of live log kept per run in memory (older lines are dropped). */
const LOG_LINES_KEPT = 500;

/** The space options of a run's configuration, or the defaults. */
function spaceOptionsOf(config: Partial<SearchConfig> | null): SpaceOptions {
  return {
    forcedSampling: config?.forcedSampling ?? true,
    minExpansion: config?.minExpansion ?? 2,
  };
}

/** A stored boolean setting, or null when the config lacks it. */
function flagOf(value: unknown): boolean | null {
  return typeof value === 'boolean' ? value : null;
}

/** Reads a stored config as far as it is a search config (other kinds differ). */
function configOf(run: { config: unknown }): Partial<SearchConfig> | null {
  const config = run.config;
  return config && typeof config === 'object' ? (config as Partial<SearchConfig>) : null;
}

/** Turns registry NOT_FOUND into the API's not-found, keeping the message. */
function mapRegistryError(err: unknown): never {
  if (err instanceof RegistryError) {
    const codes: Record<string, ApiErrorCode> = { NOT_FOUND: 'not-found', STATE: 'conflict' };
    throw new ApiError(codes[err.code] ?? 'failed', err.message);
  }
  throw err;
}

/**
 * The job runner's refusals of an experiment (main/jobs): its input or its
 * setup is wrong. Matched by name so this module needs no job-runner import.
 */
const EXPERIMENT_INPUT_ERRORS = new Set(['ExperimentInputError', 'ExperimentSetupError']);

/** Maps a refused experiment start to the API's codes, keeping the message. */
function mapExperimentError(err: unknown): never {
  if (err instanceof Error && EXPERIMENT_INPUT_ERRORS.has(err.name)) {
    throw new ApiError('invalid-payload', `startExperiment: ${err.message}`);
  }
  return mapRegistryError(err);
}

/** The file an experiment run writes its report to, relative to its run folder. */
const EXPERIMENT_RESULTS = path.join('results', 'experiment.json');

/** The cost and parameters one layer adds, from the preset's lookup table. */
function layerDetails(arch: Architecture, preset: Preset): LayerDetail[] {
  const table = buildCostTable(preset);
  const shapes = layerShapes(preset);

  return shapes.map((shape, l) => {
    const ops = arch.layers[l];
    const e = expansionRate(ops);
    const cost = table.perLayer[l];
    const depthwiseM = ops
      .filter((op) => op !== 'skip')
      .reduce((sum, op) => sum + cost.depthwiseM[(kernelSize(op) - 3) / 2], 0);
    const width = e * shape.cIn;
    const depthwiseParams = ops
      .filter((op) => op !== 'skip')
      .reduce((sum, op) => sum + kernelSize(op) ** 2 * shape.cIn, 0);
    // Same terms as costModel.paramCount (method.md 8b): expand conv + BN,
    // depthwise convs, one BN over the concatenation, project conv + BN.
    const params = shape.cIn * width + 2 * width + depthwiseParams + 2 * width;

    return {
      index: l,
      ops: [...ops],
      compact: formatArchitecture({ layers: [ops] }),
      expansionRate: e,
      cIn: shape.cIn,
      cOut: shape.cOut,
      stride: shape.stride,
      inSize: shape.inSize,
      flopsM: e * (cost.expandPerSubBlockM + cost.projectPerSubBlockM) + depthwiseM,
      params: params + width * shape.cOut + 2 * shape.cOut,
    };
  });
}

/**
 * The service over a registry, a job runner and a generator catalog.
 *
 * Listen to events with onEvent; call close() to detach from the job runner.
 */
export class RegistryWorkbenchService implements WorkbenchService {
  private readonly parts: ServiceParts;
  private readonly events = new EventEmitter();
  private readonly logs = new Map<string, string[]>();
  private readonly onProgress = (event: ProgressEvent) => this.handleProgress(event);
  private readonly onStatus = (event: StatusEvent) => this.handleStatus(event);
  private readonly onLog = (event: LogEvent) => this.appendLog(event.runId, event.line);

  constructor(parts: ServiceParts) {
    this.parts = parts;
    this.events.setMaxListeners(100);
    parts.jobs.on('progress', this.onProgress);
    parts.jobs.on('status', this.onStatus);
    parts.jobs.on('log', this.onLog);
  }

  /** Detaches from the job runner; the service no longer forwards events. */
  close(): void {
    this.parts.jobs.off('progress', this.onProgress);
    this.parts.jobs.off('status', this.onStatus);
    this.parts.jobs.off('log', this.onLog);
    this.events.removeAllListeners();
  }

  onEvent(listener: (event: WorkbenchEvent) => void): () => void {
    this.events.on('event', listener);
    return () => this.events.off('event', listener);
  }

  private appendLog(runId: string, line: string): void {
    const lines = this.logs.get(runId) ?? [];
    lines.push(line);
    if (lines.length > LOG_LINES_KEPT) lines.splice(0, lines.length - LOG_LINES_KEPT);
    this.logs.set(runId, lines);
    this.events.emit('event', { type: 'log', event: { runId, line } } satisfies WorkbenchEvent);
  }

  private handleProgress(event: ProgressEvent): void {
    this.events.emit('event', { type: 'progress', event } satisfies WorkbenchEvent);

    // Experiments report no epoch or step totals (0): log what is known.
    const parts = [`${new Date().toISOString()} ${event.stage}`];
    if (event.epochs > 0) parts.push(`epoch ${event.epoch}/${event.epochs}`);
    parts.push(event.steps > 0 ? `step ${event.step}/${event.steps}` : `step ${event.step}`);
    if (event.loss !== null && event.loss !== undefined) {
      parts.push(`loss ${event.loss.toFixed(4)}`);
    }
    if (event.accuracy !== null && event.accuracy !== undefined) {
      parts.push(`accuracy ${(event.accuracy * 100).toFixed(2)}%`);
    }
    if (event.etaSec !== null && event.etaSec !== undefined) {
      parts.push(`eta ${Math.round(event.etaSec)} s`);
    }
    this.appendLog(event.runId, parts.join(' '));
  }

  private handleStatus(event: StatusEvent): void {
    this.events.emit('event', { type: 'status', event } satisfies WorkbenchEvent);
    const why = event.error ? `: ${event.error}` : '';
    this.appendLog(event.runId, `${new Date().toISOString()} status ${event.status}${why}`);
  }

  private async summarize(run: Awaited<ReturnType<RegistryPort['getRun']>>): Promise<RunSummary> {
    const config = configOf(run);
    const [sweeps, archs] = await Promise.all([
      this.parts.registry.listSweeps(run.id),
      this.parts.registry.listArchitectures(run.id),
    ]);
    const accuracies = archs.map((a) => a.accuracy).filter((a): a is number => a !== null);
    const presetName = typeof config?.preset === 'string' ? config.preset : null;
    const preset = presetName && Object.hasOwn(PRESETS, presetName) ? PRESETS[presetName] : null;
    const budgets = config?.constraint ?? preset?.constraint ?? null;

    return {
      id: run.id,
      kind: run.kind,
      name: run.name,
      status: run.status,
      progress: run.progress,
      stage: run.stage,
      preset: presetName,
      budgets: budgets ? { lowM: budgets.lowM, highM: budgets.highM } : null,
      tau: sweeps.length > 0 ? sweeps[sweeps.length - 1].tau : null,
      bestAccuracy: accuracies.length > 0 ? Math.max(...accuracies) : null,
      backend: run.backend,
      forcedSampling: flagOf(config?.forcedSampling),
      shadowBatchNorm: flagOf(config?.shadowBatchNorm),
      createdAt: run.createdAt,
      startedAt: run.startedAt,
      endedAt: run.endedAt,
      error: run.error,
      parentRunId: run.parentRunId,
    };
  }

  private async run(runId: string) {
    return this.parts.registry.getRun(runId).catch(mapRegistryError);
  }

  async listRuns(payload: ApiParsed<'listRuns'>): Promise<RunSummary[]> {
    const runs = await this.parts.registry.listRuns().catch(mapRegistryError);
    const chosen = runs.filter(
      (r) =>
        (!payload.kind || r.kind === payload.kind) &&
        (!payload.status || r.status === payload.status),
    );
    return Promise.all(chosen.map((r) => this.summarize(r)));
  }

  async getRun(payload: ApiParsed<'getRun'>): Promise<RunDetail> {
    const run = await this.run(payload.runId);
    const summary = await this.summarize(run);
    const artifacts = await this.parts.registry.listArtifacts(run.id);

    return {
      ...summary,
      config: run.config,
      seed: run.seed,
      libraryVersions: run.libraryVersions,
      artifacts: artifacts.map((a) => ({
        kind: a.kind,
        path: a.path,
        sha256: a.sha256,
        bytes: a.bytes,
        createdAt: a.createdAt,
      })),
    };
  }

  async runMetrics(payload: ApiParsed<'runMetrics'>): Promise<MetricPoint[]> {
    await this.run(payload.runId);
    const rows = await this.parts.registry.getMetrics(payload.runId, { afterId: payload.afterId });
    return rows.map((r) => ({
      id: r.id,
      stage: r.stage,
      epoch: r.epoch,
      step: r.step,
      name: r.name,
      value: r.value,
      at: r.at,
    }));
  }

  /**
   * The run's log: the tail of its recorded log artifacts, then the lines
   * this process saw live (a run started by another process has only the
   * former).
   */
  async runLog(payload: ApiParsed<'runLog'>): Promise<string[]> {
    await this.run(payload.runId);
    const folder = path.resolve(this.parts.registry.runFolder(payload.runId));
    const artifacts = await this.parts.registry.listArtifacts(payload.runId);
    const lines: string[] = [];

    for (const artifact of artifacts.filter((a) => a.kind === 'log')) {
      const file = path.resolve(folder, artifact.path);
      // Paths come from the registry, but a log outside the run folder is never read.
      if (!file.startsWith(folder + path.sep) || !fs.existsSync(file)) continue;
      lines.push(...fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0));
    }

    lines.push(...(this.logs.get(payload.runId) ?? []));
    return lines.slice(-LOG_LINES_KEPT);
  }

  async runArchitectures(payload: ApiParsed<'runArchitectures'>): Promise<ArchitectureRecord[]> {
    await this.run(payload.runId);
    const rows = await this.parts.registry.listArchitectures(payload.runId);
    return rows.map((r) => ({
      id: r.id,
      runId: r.runId,
      budgetM: r.budgetM,
      compact: r.compact,
      flopsM: r.flopsM,
      params: r.params,
      accuracy: r.accuracy,
    }));
  }

  async runSweeps(payload: ApiParsed<'runSweeps'>): Promise<SweepRecord[]> {
    await this.run(payload.runId);
    const [sweeps, archs] = await Promise.all([
      this.parts.registry.listSweeps(payload.runId),
      this.parts.registry.listArchitectures(payload.runId),
    ]);
    const points = archs
      .filter((a) => a.budgetM !== null)
      .map((a) => ({ targetM: a.budgetM as number, flopsM: a.flopsM }));

    return sweeps.map((s) => ({
      id: s.id,
      runId: s.runId,
      tau: s.tau,
      tauP: s.tauP,
      pearson: s.pearson,
      pearsonP: s.pearsonP,
      n: s.n,
      createdAt: s.createdAt,
      points,
    }));
  }

  async listPresets(): Promise<PresetInfo[]> {
    return Object.values(PRESETS).map((preset) => ({
      name: preset.name,
      layers: preset.layers.length,
      inputSize: preset.inputSize,
      inputChannels: preset.inputChannels,
      constraint: { ...preset.constraint },
      flopsRangeM: flopsRangeM(preset),
      defaultConfig: defaultSearchConfig(preset.name),
    }));
  }

  /**
   * Everything wrong with a configuration, before launch: the schema's
   * problems with their paths, then what only the space can tell (unknown
   * preset, a constraint outside the FLOPs range, a prior that does not fit,
   * a data folder that does not exist).
   */
  async checkSearchConfig(payload: ApiParsed<'checkSearchConfig'>): Promise<ConfigCheck> {
    const parsed = searchConfigSchema.safeParse(payload.config);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => ({
        path: issue.path.length > 0 ? issue.path.map(String).join('.') : 'config',
        message: issue.message,
      }));
      return { ok: false, problems };
    }

    const problems = checkAgainstSpace(parsed.data);
    return { ok: problems.length === 0, problems };
  }

  async startSearch(payload: ApiParsed<'startSearch'>): Promise<{ runId: string }> {
    const problems = checkAgainstSpace(payload.config);
    if (problems.length > 0) {
      const text = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
      throw new ApiError('invalid-payload', `startSearch: invalid configuration: ${text}`);
    }

    const runId = await this.parts.jobs.startSearch(payload.config);
    const when = new Date().toISOString();
    this.appendLog(runId, `${when} queued search on preset ${payload.config.preset}`);
    return { runId };
  }

  async cancelRun(payload: ApiParsed<'cancelRun'>): Promise<{ runId: string }> {
    await this.run(payload.runId);
    await Promise.resolve(this.parts.jobs.cancel(payload.runId)).catch(mapRegistryError);
    return { runId: payload.runId };
  }

  async resumeRun(payload: ApiParsed<'resumeRun'>): Promise<{ runId: string }> {
    const run = await this.run(payload.runId);
    if (run.status !== 'interrupted' && run.status !== 'queued') {
      throw new ApiError(
        'conflict',
        `run ${run.id} is ${run.status}; only an interrupted (or queued) run can be resumed`,
      );
    }

    await Promise.resolve(this.parts.jobs.resume(payload.runId)).catch(mapRegistryError);
    return { runId: payload.runId };
  }

  /**
   * Starts one of the paper's experiments as a run of its kind. A
   * compare-search that trains its own supernet has its search config
   * checked against the space first, as startSearch does.
   */
  async startExperiment(payload: ApiParsed<'startExperiment'>): Promise<{ runId: string }> {
    const experiment = payload.experiment;
    if (experiment.kind === 'compare-search' && experiment.search) {
      const problems = checkAgainstSpace(experiment.search);
      if (problems.length > 0) {
        const text = problems.map((p) => `experiment.search.${p.path}: ${p.message}`).join('; ');
        throw new ApiError('invalid-payload', `startExperiment: invalid configuration: ${text}`);
      }
    }

    const runId = await this.parts.jobs.startExperiment(experiment).catch(mapExperimentError);
    this.appendLog(runId, `${new Date().toISOString()} queued ${experiment.kind}`);
    return { runId };
  }

  /**
   * The report a completed experiment run wrote (results/experiment.json).
   *
   * @throws ApiError not-found for an unknown run, a run that is not an
   *   experiment, or one that has not completed (its status is named).
   */
  async experimentResult(payload: ApiParsed<'experimentResult'>): Promise<ExperimentResult> {
    const run = await this.run(payload.runId);
    const kind = EXPERIMENT_KINDS.find((k) => k === run.kind);
    if (kind === undefined) {
      throw new ApiError('not-found', `run ${run.id} is a ${run.kind} run, not an experiment: ` +
        'it has no experiment results (its architectures and sweeps have their own calls)');
    }
    if (run.status !== 'completed') {
      const why = run.error ? ` (${run.error})` : '';
      throw new ApiError('not-found', `run ${run.id} (${kind}) has no results yet: it is ` +
        `${run.status}${why}; results are written when it completes`);
    }

    const file = path.join(this.parts.registry.runFolder(run.id), EXPERIMENT_RESULTS);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      throw new ApiError('not-found', `run ${run.id} (${kind}) completed but its results ` +
        `file ${file} is missing; run the experiment again`);
    }
    try {
      return { runId: run.id, kind, result: JSON.parse(text) } as ExperimentResult;
    } catch (err) {
      throw new ApiError('failed', `run ${run.id}: ${file} is not valid JSON ` +
        `(${(err as Error).message}); run the experiment again`);
    }
  }

  async describeArchitecture(
    payload: ApiParsed<'describeArchitecture'>,
  ): Promise<ArchitectureDetail> {
    const preset = presetOrError(payload.preset);
    const arch = readArchitecture(payload.text, preset);
    const classes = payload.classes ?? PRESET_CLASSES[preset.name] ?? 10;
    const layers = layerDetails(arch, preset);
    const total = flopsM(arch, preset);
    const params = paramCount(arch, preset, classes);

    return {
      preset: preset.name,
      compact: formatArchitecture(arch),
      classes,
      layers,
      fixedFlopsM: total - layers.reduce((s, l) => s + l.flopsM, 0),
      fixedParams: params - layers.reduce((s, l) => s + l.params, 0),
      flopsM: total,
      params,
    };
  }

  /**
   * A prior pool for the New search form: one prior per target, targets
   * spread evenly over the preset's constraint interval.
   */
  async priorPool(payload: ApiParsed<'priorPool'>): Promise<PriorPoolEntry[]> {
    const preset = presetOrError(payload.preset);
    const { lowM, highM } = preset.constraint;
    const n = payload.size;
    const targets = Array.from({ length: n }, (_, i) =>
      n === 1 ? (lowM + highM) / 2 : lowM + ((highM - lowM) * i) / (n - 1),
    );
    const options = { forcedSampling: payload.forcedSampling, minExpansion: payload.minExpansion };

    try {
      const pool = PriorPool.build(preset, options, targets, { seed: payload.seed });
      return pool.entries.map((e) => ({ compact: formatArchitecture(e.prior), flopsM: e.flopsM }));
    } catch (err) {
      throw new ApiError('invalid-payload', `priorPool: ${(err as Error).message}`);
    }
  }

  async listGenerators(): Promise<GeneratorInfo[]> {
    return this.parts.generators.list();
  }

  async generate(payload: ApiParsed<'generate'>): Promise<GeneratedItem[]> {
    return this.parts.generators.generate(payload.generatorId, payload.budgetsM);
  }
}

/** A preset by name, or an API error naming the known ones. */
function presetOrError(name: string): Preset {
  try {
    return getPreset(name);
  } catch (err) {
    throw new ApiError('invalid-payload', (err as Error).message);
  }
}

/** Reads an architecture as compact text or JSON; any valid architecture of the space. */
function readArchitecture(text: string, preset: Preset): Architecture {
  const anyValid = { forcedSampling: false, minExpansion: 1 };
  try {
    return text.trim().startsWith('{')
      ? parseArchitectureJson(text, preset, anyValid)
      : parseArchitectureText(text, preset, anyValid);
  } catch (err) {
    throw new ApiError('invalid-payload', `architecture: ${(err as Error).message}`);
  }
}

/**
 * The checks a schema cannot make: they need the preset's space.
 *
 * @returns problems with their config paths; empty when the config can run.
 */
export function checkAgainstSpace(config: SearchConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (!Object.hasOwn(PRESETS, config.preset)) {
    const known = Object.keys(PRESETS).join(', ');
    const message = `unknown preset '${config.preset}': choose one of ${known}`;
    return [{ path: 'preset', message }];
  }

  const preset = PRESETS[config.preset];
  const options = spaceOptionsOf(config);
  const range = flopsRangeM(preset, options);
  const constraint = config.constraint ?? preset.constraint;
  if (constraint.lowM < range.minM || constraint.highM > range.maxM) {
    problems.push({
      path: 'constraint',
      message:
        `the budget interval ${constraint.lowM}..${constraint.highM} MFLOPs must lie inside ` +
        `what preset '${preset.name}' can reach, ${range.minM.toFixed(3)}..` +
        `${range.maxM.toFixed(3)} MFLOPs`,
    });
  }

  if (config.prior.kind === 'architecture') {
    try {
      parseArchitectureText(config.prior.text, preset, options);
    } catch (err) {
      problems.push({ path: 'prior.text', message: (err as Error).message });
    }
  }

  if (config.dataDir !== undefined && !fs.existsSync(config.dataDir)) {
    problems.push({
      path: 'dataDir',
      message: `the data folder '${config.dataDir}' does not exist; pick an existing folder`,
    });
  }

  const { microBatch, batchSize } = config.supernet;
  if (microBatch !== undefined && microBatch > batchSize) {
    problems.push({
      path: 'supernet.microBatch',
      message:
        `micro-batch ${config.supernet.microBatch} is larger than the batch ` +
        `${config.supernet.batchSize}; make it at most the batch size`,
    });
  }

  return problems;
}
