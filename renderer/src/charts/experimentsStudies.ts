/**
 * Result charts of the studies: random subnets against generated ones, the
 * FS/SBN ablation (Fig 6a), the prior study (Fig 7b) and training from
 * scratch. Pure: a parsed `results/experiment.json` (and, for training, the
 * run's metric rows) in, an ECharts option or CSV text out.
 */
import type { EChartsOption } from 'echarts';

import type {
  AblationReport,
  MetricPoint,
  PriorStudyReport,
  RandomSubnetsReport,
  ScratchResult,
} from '../../../main/api/contract';
import { buildAblationScatterOption, type AblationGroup } from './ablation';
import { toCsv } from './csv';
import { accuracyAxis, budgetMarkers, COMPARE_METHODS, flopsAxis } from './experiments';
import { fixed, percent } from './format';
import { seriesColor } from './palette';

/** The colours of random-subnets' two groups, in its result chart and its metric curves. */
export const RANDOM_SUBNETS_COLORS = {
  random: seriesColor(1),
  generated: seriesColor(0),
} as const;

/**
 * The colour of each metric stage of an experiment kind, matching the
 * colour its result charts give the same method or group, so "random" is one
 * colour on the whole page. Empty for kinds whose stages have no such match.
 */
export function experimentStageColors(kind: string): Record<string, string> {
  if (kind === 'random-subnets') return { ...RANDOM_SUBNETS_COLORS };
  if (kind === 'compare-search' || kind === 'baseline-random' || kind === 'baseline-evolution') {
    return Object.fromEntries(COMPARE_METHODS.map((m, i) => [m.key, seriesColor(i)]));
  }
  return {};
}

/**
 * Random architectures and the generator's, accuracy against FLOPs. The
 * subtext gives the mean share of cheaper-or-equal random architectures a
 * generated one matches or beats.
 */
export function buildRandomSubnetsOption(report: RandomSubnetsReport): EChartsOption {
  return {
    animation: false,
    title: {
      text: 'Random vs generated architectures',
      subtext: `generated ones beat ${percent(report.meanBeatsShare)} of the random ones ` +
        'with no more FLOPs, on average',
      left: 'center',
    },
    tooltip: { trigger: 'item' },
    legend: { top: 44 },
    grid: { top: 80, left: 80, right: 20, bottom: 84 },
    xAxis: flopsAxis(),
    yAxis: accuracyAxis(),
    dataZoom: [{ type: 'inside' }, { type: 'slider', bottom: 8 }],
    series: [
      {
        name: `random (${report.random.length})`,
        type: 'scatter',
        symbolSize: 6,
        itemStyle: { color: RANDOM_SUBNETS_COLORS.random, opacity: 0.7 },
        data: report.random.map((p): [number, number] => [p.flopsM, p.accuracy]),
      },
      {
        name: `generated (${report.generated.length})`,
        type: 'scatter',
        symbol: 'diamond',
        symbolSize: 11,
        itemStyle: { color: RANDOM_SUBNETS_COLORS.generated },
        data: report.generated.map((p): [number, number] => [p.flopsM, p.accuracy]),
      },
    ],
  };
}

/** Every point of the random-subnet study as CSV. */
export function randomSubnetsCsv(report: RandomSubnetsReport): string {
  const row = (source: string) => (p: RandomSubnetsReport['random'][number]) =>
    [source, p.targetM, p.flopsM, p.accuracy, p.beatsShare, p.architecture];
  return toCsv(['source', 'target_mflops', 'mflops', 'accuracy', 'beats_share', 'architecture'],
    [...report.random.map(row('random')), ...report.generated.map(row('generated'))]);
}

type AblationSettingName = AblationReport['settings'][number]['name'];

/** "FS on, SBN off": a setting as the charts name it. */
export function settingLabel(setting: { forcedSampling: boolean; shadowBatchNorm: boolean })
  : string {
  const onOff = (v: boolean) => (v ? 'on' : 'off');
  return `FS ${onOff(setting.forcedSampling)}, SBN ${onOff(setting.shadowBatchNorm)}`;
}

/**
 * The ablation's settings as the Ablations view's groups, so the report
 * draws with the same scatter builder as grouped runs do; a point's "run"
 * is its setting's name.
 */
export function ablationReportGroups(report: AblationReport): AblationGroup[] {
  return report.settings.map((s) => ({
    key: s.name,
    label: settingLabel(s),
    forcedSampling: s.forcedSampling,
    shadowBatchNorm: s.shadowBatchNorm,
    runs: [],
    points: s.points.map((p) => ({ runId: s.name, flopsM: p.flopsM, accuracy: p.accuracy })),
    taus: [],
  }));
}

/**
 * Accuracy against FLOPs of the same K architectures on each setting's
 * supernet (the mean and sd of each are in the view's table).
 */
export function buildAblationReportOption(report: AblationReport): EChartsOption {
  return {
    ...buildAblationScatterOption(ablationReportGroups(report)),
    title: { text: `FS / SBN ablation: ${report.samples} architectures on each supernet`,
      left: 'center' },
    legend: { top: 32 },
    grid: { top: 76, left: 80, right: 20, bottom: 84 },
    xAxis: flopsAxis(),
    yAxis: accuracyAxis(),
  };
}

/** A setting's short name on the tau chart's axis: "neither", "FS", "SBN", "FS+SBN". */
export function settingShortLabel(name: AblationSettingName): string {
  return { neither: 'neither', fs: 'FS', sbn: 'SBN', 'fs-sbn': 'FS+SBN' }[name];
}

/**
 * Kendall tau-b between each pair of settings' accuracies over the shared
 * architectures: how far two supernets agree on the ranking. A pair whose
 * tau is undefined (one setting scored all alike) has no bar.
 */
export function buildAblationTauOption(report: AblationReport): EChartsOption {
  return {
    animation: false,
    title: { text: 'Ranking agreement between settings', left: 'center' },
    tooltip: { trigger: 'item' },
    grid: { top: 50, left: 80, right: 20, bottom: 50 },
    xAxis: {
      type: 'category',
      name: 'pair of settings',
      nameLocation: 'middle',
      nameGap: 28,
      data: report.kendallTau.map((t) =>
        `${settingShortLabel(t.a)} vs ${settingShortLabel(t.b)}`),
      axisLabel: { interval: 0 },
    },
    yAxis: { type: 'value', name: 'Kendall tau-b (−1…1)', nameLocation: 'middle', nameGap: 40,
      min: -1, max: 1 },
    series: [
      {
        name: 'Kendall tau-b',
        type: 'bar',
        itemStyle: { color: seriesColor(5) },
        data: report.kendallTau.map((t) => t.tau),
      },
    ],
  };
}

/** Every scored point of the ablation, and the pairwise taus, as CSV. */
export function ablationReportCsv(report: AblationReport): string {
  const points = report.settings.flatMap((s) =>
    s.points.map((p) => [s.name, s.forcedSampling, s.shadowBatchNorm, p.flopsM, p.accuracy,
      p.architecture, '', '']),
  );
  const taus = report.kendallTau.map((t) => ['', '', '', '', '', '', `${t.a} vs ${t.b}`, t.tau]);
  return toCsv(['setting', 'forced_sampling', 'shadow_batch_norm', 'mflops', 'accuracy',
    'architecture', 'tau_pair', 'kendall_tau'], [...points, ...taus]);
}

/** A prior's legend entry: its rank and its own supernet accuracy. */
export function priorLabel(prior: PriorStudyReport['priors'][number]): string {
  return `${prior.rank} prior (${percent(prior.prior.accuracy)})`;
}

/**
 * What each prior's generator found at the shared budgets, accuracy against
 * FLOPs, with the budgets as dashed vertical lines.
 */
export function buildPriorStudyOption(report: PriorStudyReport): EChartsOption {
  return {
    animation: false,
    title: {
      text: 'Generators from priors of different quality',
      subtext: 'legend: each prior\'s own supernet accuracy',
      left: 'center',
    },
    tooltip: { trigger: 'item' },
    legend: { top: 44 },
    grid: { top: 80, left: 80, right: 20, bottom: 84 },
    xAxis: flopsAxis('FLOPs (MFLOPs)', [...report.budgetsM,
      ...report.priors.flatMap((p) => p.budgets.map((b) => b.flopsM))]),
    yAxis: accuracyAxis(),
    dataZoom: [{ type: 'inside' }, { type: 'slider', bottom: 8 }],
    series: [
      ...report.priors.map((p, i) => ({
        name: priorLabel(p),
        type: 'scatter' as const,
        symbolSize: 9,
        itemStyle: { color: seriesColor(i) },
        data: p.budgets.map((b): [number, number] => [b.flopsM, b.accuracy]),
      })),
      budgetMarkers(report.budgetsM),
    ],
  };
}

/** Every generated pick of the prior study as CSV. */
export function priorStudyCsv(report: PriorStudyReport): string {
  const rows = report.priors.flatMap((p) =>
    p.budgets.map((b) => [p.rank, p.prior.accuracy, p.prior.architecture, b.targetM, b.flopsM,
      b.accuracy, b.architecture]),
  );
  return toCsv(['rank', 'prior_accuracy', 'prior', 'target_mflops', 'mflops', 'accuracy',
    'architecture'], rows);
}

/** The stage and metric name under which training from scratch logs its loss. */
export const SCRATCH_LOSS = { stage: 'train', name: 'loss' } as const;

/**
 * The per-step training loss of a train-scratch run, on an epoch axis: step
 * s of epoch e (of S logged steps) sits at e - 1 + s / S.
 */
export function scratchLossPoints(metrics: readonly MetricPoint[]): [number, number][] {
  const rows = metrics
    .filter((m) => m.stage === SCRATCH_LOSS.stage && m.name === SCRATCH_LOSS.name)
    .sort((a, b) => a.epoch - b.epoch || a.step - b.step);
  const stepsIn = new Map<number, number>();
  for (const r of rows) stepsIn.set(r.epoch, Math.max(stepsIn.get(r.epoch) ?? 0, r.step));
  return rows.map((r) => [r.epoch - 1 + r.step / (stepsIn.get(r.epoch) ?? 1), r.value]);
}

/**
 * Training from scratch: the loss of every logged step and each epoch's
 * mean (from the report), with the test accuracy and export folder in the
 * subtext.
 */
export function buildScratchLossOption(
  report: ScratchResult,
  metrics: readonly MetricPoint[],
): EChartsOption {
  return {
    animation: false,
    title: {
      text: `Training ${report.architecture} from scratch`,
      subtext: `test accuracy ${percent(report.testAccuracy, 2)} on ${report.testImages} ` +
        `images · ${fixed(report.flopsM)} MFLOPs · exported to ${report.exportDir ?? '(none)'}`,
      left: 'center',
    },
    tooltip: { trigger: 'axis' },
    legend: { top: 44 },
    grid: { top: 80, left: 70, right: 20, bottom: 84 },
    xAxis: { type: 'value', name: 'epoch', nameLocation: 'middle', nameGap: 28, min: 0 },
    yAxis: { type: 'value', name: 'training loss (cross-entropy)', scale: true },
    dataZoom: [{ type: 'inside' }, { type: 'slider', bottom: 8 }],
    series: [
      {
        name: 'loss per step',
        type: 'line',
        showSymbol: false,
        itemStyle: { color: seriesColor(0) },
        lineStyle: { width: 1 },
        data: scratchLossPoints(metrics),
      },
      {
        name: 'epoch mean',
        type: 'line',
        symbolSize: 8,
        itemStyle: { color: seriesColor(1) },
        data: report.epochLosses.map((loss, i): [number, number] => [i + 1, loss]),
      },
    ],
  };
}

/** The epoch means and logged steps of training from scratch as CSV. */
export function scratchCsv(report: ScratchResult, metrics: readonly MetricPoint[]): string {
  const epochs = report.epochLosses.map((loss, i) => ['epoch mean', i + 1, loss]);
  const steps = scratchLossPoints(metrics).map(([x, loss]) => ['step', x, loss]);
  return toCsv(['series', 'epoch', 'loss'], [...epochs, ...steps]);
}
