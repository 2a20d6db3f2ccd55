import { formatArchitecture } from '../space/architecture.js';
import type { Architecture, Preset } from '../space/types.js';
import type { GeneratedArchitecture, SweepEvaluation } from './generate.js';
import { runPaths, writeFileAtomic } from './runFolder.js';

/** One architecture of a sweep as scripts read it. */
export interface ArchitectureRow {
  targetM: number;
  flopsM: number;
  params: number;
  /** Supernet-estimated validation accuracy in [0, 1]; null when not scored. */
  accuracy: number | null;
  /** Compact text form, one token of six sub-blocks per layer. */
  text: string;
  layers: Architecture['layers'];
}

/** What a finished search reports (the `--json` line and results/summary.json). */
export interface SearchSummary {
  preset: string;
  backend: string;
  wallSeconds: number;
  /** Time of the generator's single forward pass for all budgets. */
  generationMs: number;
  /** Kendall tau-b, Pearson r (null where undefined, e.g. all FLOPs equal). */
  tau: number | null;
  tauP: number | null;
  pearson: number | null;
  pearsonP: number | null;
  n: number;
  meanAbsErrorM: number;
  overBudget: number;
  architectures: ArchitectureRow[];
}

/** Rows for results files from generated architectures. */
export function architectureRows(results: readonly GeneratedArchitecture[]): ArchitectureRow[] {
  return results.map((r) => ({
    targetM: round(r.targetM, 6),
    flopsM: round(r.flopsM, 6),
    params: r.params,
    accuracy: r.accuracy === undefined ? null : round(r.accuracy, 6),
    text: formatArchitecture(r.architecture),
    layers: r.architecture.layers,
  }));
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** A CSV of the sweep: one row per budget. */
export function architecturesCsv(rows: readonly ArchitectureRow[]): string {
  const header = 'target_mflops,flops_mflops,params,accuracy,architecture';
  const lines = rows.map((r) =>
    [r.targetM, r.flopsM, r.params, r.accuracy ?? '', `"${r.text}"`].join(','),
  );
  return `${[header, ...lines].join('\n')}\n`;
}

/** Builds the summary and writes results/summary.json, architectures.csv and sweep.json. */
export function writeSearchResults(
  runDir: string,
  input: {
    backend: string;
    wallSeconds: number;
    generationMs: number;
    sweep: SweepEvaluation;
    results: readonly GeneratedArchitecture[];
    preset: Preset;
  },
): SearchSummary {
  const { sweep } = input;
  const summary: SearchSummary = {
    preset: input.preset.name,
    backend: input.backend,
    wallSeconds: round(input.wallSeconds, 2),
    generationMs: round(input.generationMs, 3),
    tau: sweep.kendallTau.value ?? null,
    tauP: sweep.kendallTau.pValue ?? null,
    pearson: sweep.pearson.value ?? null,
    pearsonP: sweep.pearson.pValue ?? null,
    n: sweep.kendallTau.n,
    meanAbsErrorM: round(sweep.meanAbsErrorM, 6),
    overBudget: sweep.overBudget,
    architectures: architectureRows(input.results),
  };

  const paths = runPaths(runDir);
  writeFileAtomic(paths.summary, `${JSON.stringify(summary, null, 2)}\n`);
  writeFileAtomic(paths.architecturesCsv, architecturesCsv(summary.architectures));
  writeFileAtomic(
    paths.sweep,
    `${JSON.stringify({ tau: summary.tau, tauP: summary.tauP, pearson: summary.pearson,
      pearsonP: summary.pearsonP, n: summary.n }, null, 2)}\n`,
  );
  return summary;
}
