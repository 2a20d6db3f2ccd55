/**
 * Saving and loading a tfjs LayersModel as a folder in the standard tfjs
 * layout (model.json with the topology and a weights manifest, plus one
 * weights.bin), the layout `tf.loadLayersModel` reads over HTTP and
 * tfjs-node reads from `file://`. Pure tfjs in Node has no file handler, so
 * this one writes the files itself.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

/**
 * An IOHandler over a folder: `model.save(folderIO(dir))` writes it and
 * `tf.loadLayersModel(folderIO(dir))` reads it back.
 */
export function folderIO(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (!artifacts.weightData || !artifacts.weightSpecs) {
        throw new Error(`cannot save a model without weights to ${dir}`);
      }
      mkdirSync(dir, { recursive: true });
      const weights = tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as tf.io.ModelJSON['modelTopology'],
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs }],
      };
      writeFileSync(path.join(dir, WEIGHTS_BIN), new Uint8Array(weights));
      writeFileSync(path.join(dir, MODEL_JSON), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      const file = path.join(dir, MODEL_JSON);
      let modelJson: tf.io.ModelJSON;
      try {
        modelJson = JSON.parse(readFileSync(file, 'utf8')) as tf.io.ModelJSON;
      } catch (err) {
        throw new Error(
          `cannot read ${file} (${(err as Error).message}): pass the folder an export wrote`,
        );
      }
      const groups = modelJson.weightsManifest ?? [];
      const buffers = groups.flatMap((g) =>
        g.paths.map((p) => {
          const bytes = readFileSync(path.join(dir, p));
          return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
        }),
      );
      return {
        modelTopology: modelJson.modelTopology,
        format: modelJson.format,
        generatedBy: modelJson.generatedBy,
        convertedBy: modelJson.convertedBy,
        weightSpecs: groups.flatMap((g) => g.weights),
        weightData: tf.io.CompositeArrayBuffer.join(buffers as ArrayBuffer[]),
      };
    },
  };
}
