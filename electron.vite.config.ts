import { resolve } from 'node:path';

import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'electron-vite';

const root = import.meta.dirname;

/**
 * Build layout: main process from main/index.ts, the preload from
 * preload/index.ts, the Vue renderer from renderer/. Everything lands in out/.
 *
 * The preload is emitted as CommonJS (out/preload/index.cjs): Electron runs an
 * ES-module preload only with the sandbox off, and we keep the sandbox on.
 */
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      // The job worker is its own entry: the job runner forks it as a child
      // process (out/main/jobWorker.js beside out/main/index.js).
      rolldownOptions: {
        input: {
          index: resolve(root, 'main/index.ts'),
          jobWorker: resolve(root, 'main/jobs/jobWorker.ts'),
          supernetReplica: resolve(root, 'main/engine/train/parallel/replica.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: resolve(root, 'preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'renderer',
    plugins: [vue()],
    build: {
      outDir: resolve(root, 'out/renderer'),
      rolldownOptions: { input: { index: resolve(root, 'renderer/index.html') } },
    },
  },
});
