/**
 * The names of the API calls, alone: the preload needs only these, and must
 * not bundle the schemas. contract.ts checks at compile time that this list
 * and its API object name the same calls.
 */
export const API_CALL_NAMES = [
  'listRuns',
  'getRun',
  'runMetrics',
  'runLog',
  'runArchitectures',
  'runSweeps',
  'listPresets',
  'checkSearchConfig',
  'startSearch',
  'cancelRun',
  'resumeRun',
  'startExperiment',
  'experimentResult',
  'describeArchitecture',
  'priorPool',
  'listGenerators',
  'generate',
] as const;

/** The IPC channel of call `name` is IPC_PREFIX + name. */
export const IPC_PREFIX = 'sgnas:';

/** The channel the main process pushes progress, status and log events on. */
export const IPC_EVENT_CHANNEL = 'sgnas:event';
