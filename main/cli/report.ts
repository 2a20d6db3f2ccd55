import type { SearchSummary } from '../engine/pipeline/results.js';

function fixed(value: number | null, digits: number): string {
  return value === null ? 'undefined' : value.toFixed(digits);
}

function pValue(value: number | null): string {
  if (value === null) return 'undefined';
  return value < 1e-4 ? value.toExponential(2) : value.toFixed(4);
}

/**
 * The human-readable report of a sweep: one row per budget (target and
 * generated FLOPs, parameters, supernet accuracy, architecture), then how
 * well the generated FLOPs follow the targets.
 */
export function formatSummary(summary: SearchSummary): string {
  const header = ['target MFLOPs', 'generated MFLOPs', 'params', 'accuracy', 'architecture'];
  const rows = summary.architectures.map((a) => [
    a.targetM.toFixed(4),
    a.flopsM.toFixed(4),
    String(a.params),
    a.accuracy === null ? '-' : `${(a.accuracy * 100).toFixed(2)}%`,
    a.text,
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (c < 4 ? cell.padStart(widths[c]) : cell)).join('  ');

  return [
    line(header),
    ...rows.map(line),
    '',
    `Kendall tau-b ${fixed(summary.tau, 4)} (p ${pValue(summary.tauP)}), ` +
      `Pearson ${fixed(summary.pearson, 4)} (p ${pValue(summary.pearsonP)}), n ${summary.n}`,
    `mean |generated - target| ${summary.meanAbsErrorM.toFixed(4)} MFLOPs, ` +
      `${summary.overBudget} of ${summary.n} over budget`,
    `backend ${summary.backend}; one generator forward pass for all ${summary.n} budgets: ` +
      `${summary.generationMs.toFixed(1)} ms; wall time ${summary.wallSeconds.toFixed(1)} s`,
  ].join('\n');
}
