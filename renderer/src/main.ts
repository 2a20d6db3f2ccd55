/**
 * Renderer entry: picks the API transport (Electron bridge or the local HTTP
 * host), then mounts the app.
 */
import { createPinia } from 'pinia';
import { createApp } from 'vue';
import { z } from 'zod';

import { ApiClient, detectTransport, provideApi } from './api/client';
import App from './App.vue';
import { startRouter } from './router';
import './style.css';

// The CSP forbids eval; zod's JIT would try it (and log a violation) first.
z.config({ jitless: true });

try {
  provideApi(new ApiClient(detectTransport(window)));
  startRouter();
  createApp(App).use(createPinia()).mount('#app');
} catch (err) {
  const box = document.getElementById('app');
  if (box) box.textContent = (err as Error).message;
}
