/**
 * Registers the ECharts parts the workbench uses (smaller than the full
 * bundle). Both renderers are registered: canvas draws on screen, SVG makes
 * the SVG export and draws in happy-dom tests.
 */
import { BarChart, BoxplotChart, LineChart, ScatterChart } from 'echarts/charts';
import {
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  TitleComponent,
  TooltipComponent,
} from 'echarts/components';
import { use } from 'echarts/core';
import { CanvasRenderer, SVGRenderer } from 'echarts/renderers';

let done = false;

/** Registers the chart types, components and renderers once. */
export function setupECharts(): void {
  if (done) return;
  use([
    BarChart,
    BoxplotChart,
    LineChart,
    ScatterChart,
    DataZoomComponent,
    GridComponent,
    LegendComponent,
    MarkLineComponent,
    TitleComponent,
    TooltipComponent,
    CanvasRenderer,
    SVGRenderer,
  ]);
  done = true;
}
