// Apache ECharts, only the parts the page draws (tree-shaken by esbuild). Every chart has
// a table beside it with the same figures (the table fallback).
import * as echarts from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, TooltipComponent, LegendComponent, TitleComponent, DataZoomComponent, MarkAreaComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([BarChart, LineChart, GridComponent, TooltipComponent, LegendComponent, TitleComponent, DataZoomComponent, MarkAreaComponent, CanvasRenderer]);

const live = new Set();
const font = 'system-ui, "Noto Sans CJK SC", "Noto Sans", sans-serif';

export function chart(el, option) {
  const c = echarts.init(el, null, { renderer: 'canvas' });
  c.setOption({ textStyle: { fontFamily: font }, animation: false, ...option });
  live.add(c);
  return c;
}

export function disposeCharts() {
  for (const c of live) c.dispose();
  live.clear();
}

window.addEventListener('resize', () => { for (const c of live) c.resize(); });
