/** The run registry: the API the CLI, the job runner and the desktop app share. */
export * from './errors.js';
export * from './paths.js';
export * from './registry.js';
export {
  ARTIFACT_KINDS,
  type ArtifactKind,
  RUN_KINDS,
  RUN_STATUSES,
  type RunKind,
  type RunStatus,
} from './schema.js';
