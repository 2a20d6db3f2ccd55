/**
 * The reports the experiments return, and the option types those reports
 * embed. The API contract hands these to the renderer, so this module holds
 * types only and imports nothing that needs Node (no fs, no workers, no
 * tfjs): only other type modules that are Node-free themselves. The engine
 * modules that produce the reports re-export them under the same names.
 */
import type { SearchConfig } from '../pipeline/config.js';

// ---------------------------------------------------------- options --

/** Which images score an architecture (CPU-sized by default). */
export interface ScoringOptions {
  /** Validation images scored (a balanced subset); all of the split when absent. */
  validationImages?: number;
  /** Training batches that recalibrate BN before scoring (0: no recalibration). */
  recalibrationBatches: number;
  /** Images per recalibration batch. */
  recalibrationBatchSize: number;
  /** Seed of the validation subset and of the recalibration images. */
  seed: number;
}

/** Settings of one random search. */
export interface RandomSearchOptions {
  /** Distinct architectures scored (paper: 1,000). */
  samples: number;
  seed: number;
}

/** Settings of one evolutionary search. */
export interface EvolutionOptions {
  /** Architectures scored per generation (paper: 50). */
  population: number;
  /** Best architectures kept as parents (paper: 10). */
  parents: number;
  /** Generations, the random first one included (paper: 20). */
  generations: number;
  /** Share of each generation bred by mutation; the rest by crossover (0.5). */
  mutationShare: number;
  /** Chance that a mutation redraws a layer (0.1, as in single-path one-shot NAS). */
  mutationRate: number;
  seed: number;
}

/** Settings of both baselines; a search for budget i uses seed + i. */
export interface BaselineSettings {
  random: Omit<RandomSearchOptions, 'seed'>;
  evolution: Omit<EvolutionOptions, 'seed'>;
  seed: number;
}

// --------------------------------------------------------- ablation --

/** One supernet setting of the ablation. */
export interface AblationSetting {
  /** Also the sub-folder name. */
  name: 'neither' | 'fs' | 'sbn' | 'fs-sbn';
  forcedSampling: boolean;
  shadowBatchNorm: boolean;
}

/** One architecture scored on one supernet. */
export interface AblationPoint {
  flopsM: number;
  accuracy: number;
  architecture: string;
}

/** What one setting's supernet gave. */
export interface AblationSettingReport extends AblationSetting {
  runDir: string;
  /** Seconds spent training in this call (near 0 when it resumed a finished one). */
  supernetSeconds: number;
  /** Projection BNs per unified block: one per expansion rate with SBN, else one. */
  projectionBatchNorms: number;
  /**
   * The next batch the supernet's fair sampler would train, drawn from the
   * sampler state its last checkpoint saved: the paths this setting trains.
   */
  trainingPaths: string[];
  /** The K architectures, in the shared order. */
  points: AblationPoint[];
  meanAccuracy: number;
  /** Population standard deviation over the K accuracies. */
  stdAccuracy: number;
  scoringSeconds: number;
}

/** Kendall tau-b between two settings' accuracies over the same K architectures. */
export interface SettingsTau {
  a: AblationSetting['name'];
  b: AblationSetting['name'];
  /** null when either setting scored all K alike. */
  tau: number | null;
}

export interface AblationReport {
  settings: AblationSettingReport[];
  /** The K architectures every supernet scored (FS-valid, so valid in all four). */
  architectures: { architecture: string; flopsM: number }[];
  kendallTau: SettingsTau[];
  samples: number;
  seed: number;
  preset: string;
  classes: number;
  backend: string;
  scoring: ScoringOptions & { validationCount: number };
}

// ---------------------------------------------------- compare search --

/** What one method found for one budget. */
export interface BudgetPick {
  targetM: number;
  flopsM: number;
  /** Supernet validation accuracy in [0, 1] from the shared scorer. */
  accuracy: number;
  architecture: string;
}

export interface MethodReport {
  /** Total search seconds over all budgets. */
  searchSeconds: number;
  budgets: BudgetPick[];
}

/** Where SGNAS's generator training time came from. */
export type TimeSource = 'measured' | 'recorded' | 'checkpoint-times';

export interface CompareSearchReport {
  sgnas: MethodReport & {
    generatorTrainSeconds: number;
    generationSeconds: number;
    timeSource: TimeSource;
  };
  random: MethodReport & { evaluations: number };
  evolution: MethodReport & { evaluations: number };
  budgetsM: number[];
  runDir: string;
  /** Seconds of supernet training, when measured or recorded (shared by all methods). */
  supernetTrainSeconds: number | null;
  backend: string;
  scoring: ScoringOptions & { validationCount: number };
  baselines: BaselineSettings;
}

// ------------------------------------------------------ prior study --

/**
 * The four quality ranks of the prior study, from the worst prior to the
 * best; priorStudy.ts lists them in this order as PRIOR_RANKS.
 */
export type PriorRank = 'worst' | 'lower-middle' | 'upper-middle' | 'best';

/** A candidate prior and its supernet accuracy. */
export interface PriorCandidate {
  seed: number;
  architecture: string;
  flopsM: number;
  /** Supernet validation accuracy in [0, 1] from the shared scorer. */
  accuracy: number;
}

/** One budget of one generator. */
export interface PriorBudgetPick {
  targetM: number;
  flopsM: number;
  accuracy: number;
  architecture: string;
}

/** What the generator trained from one prior found. */
export interface PriorReport {
  rank: PriorRank;
  prior: PriorCandidate;
  runDir: string;
  generatorSeconds: number;
  budgets: PriorBudgetPick[];
  meanAccuracy: number;
  /** Target vs generated FLOPs over the budgets. */
  kendallTau: number | null;
  pearson: number | null;
  meanAbsErrorM: number;
  overBudget: number;
}

export interface PriorStudyReport {
  /** Every candidate, sorted by accuracy (ties by seed). */
  candidates: PriorCandidate[];
  /** The four picked, worst first. */
  priors: PriorReport[];
  budgetsM: number[];
  /** The space's FLOPs range: every generated architecture lies inside it. */
  flopsRangeM: { minM: number; maxM: number };
  generator: SearchConfig['generator'];
  preset: string;
  classes: number;
}

// --------------------------------------------------- random subnets --

/** One scored point of the study. */
export interface StudyPoint {
  flopsM: number;
  accuracy: number;
  architecture: string;
  /** The budget the generator was asked for (generated points only). */
  targetM?: number;
  /**
   * Generated points only: the share of random architectures with no more
   * FLOPs that this one scores at least as well as (absent when none is as cheap).
   */
  beatsShare?: number;
}

export interface RandomSubnetsReport {
  random: StudyPoint[];
  generated: StudyPoint[];
  /**
   * Mean beatsShare over the generated points that have one; NaN in memory
   * (null in the JSON report) when none does.
   */
  meanBeatsShare: number | null;
}

// ---------------------------------------------------- train scratch --

/** The outcome of training from scratch. */
export interface ScratchResult {
  architecture: string;
  flopsM: number;
  params: number;
  /** Top-1 on the test set (images never used for search or selection). */
  testAccuracy: number;
  testImages: number;
  trainImages: number;
  /** Mean training loss of each epoch. */
  epochLosses: number[];
  trainSeconds: number;
  /** The exported tfjs model folder (model.json + weights.bin), when asked. */
  exportDir: string | null;
}
