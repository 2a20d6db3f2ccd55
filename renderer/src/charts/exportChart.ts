/**
 * Chart export: PNG from the live chart, SVG by rendering the same option
 * once with the SVG renderer, CSV from the chart's data. Files are handed to
 * the browser as blob downloads (no file-system access from the renderer).
 */
import type { EChartsOption } from 'echarts';
import { init } from 'echarts/core';

import { setupECharts } from './echartsSetup';

/**
 * Renders an option to an SVG document string, off screen.
 *
 * @param width, height the size in pixels.
 */
export function renderSvg(option: EChartsOption, width: number, height: number): string {
  setupECharts();
  const chart = init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ ...option, animation: false, backgroundColor: '#ffffff' });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/** Offers a blob as a download under the given file name. */
export function downloadBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.rel = 'noopener';
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Converts a data: URL (from getDataURL) to a Blob without fetching it. */
export function dataUrlToBlob(dataUrl: string): Blob {
  const [head, body] = dataUrl.split(',', 2);
  const type = /data:([^;]+)/.exec(head)?.[1] ?? 'application/octet-stream';
  if (head.includes(';base64')) {
    const bytes = Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
    return new Blob([bytes], { type });
  }
  return new Blob([decodeURIComponent(body)], { type });
}

/** A file-name-safe version of a title. */
export function fileStem(title: string): string {
  return title.trim().toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'chart';
}
