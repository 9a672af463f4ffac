// The medians of repeated benchmark runs.
//
// scripts/bench.sh runs each tests/bench/*.bench.mjs BENCH_RUNS times and
// pipes all their JSON lines, each tagged with its `run` number, into this
// program. It prints every line as it came, then one summary line per
// figure: lines of different runs belong to the same figure when all their
// string and boolean fields and their identifying numbers (viewers,
// doorbells, step, ...) are equal; every other number, also inside nested
// objects, becomes the median over the runs, with the per-run values of
// `value`, `p50` and `p95` kept in `runs_value`, `runs_p50`, `runs_p95`.
//
//   node lib/bench-median.mjs < lines.jsonl

import { createInterface } from 'node:readline';

// Numbers that name a configuration rather than measure it.
const IDENTIFYING = new Set(['viewers', 'doorbells', 'step', 'fps', 'seconds',
  'openings', 'presses', 'cores', 'target', 'phase_index', 'width', 'height']);
// Conditions of one run, different in every run and not a figure.
const CONDITIONS = new Set(['run', 'runs', 'loadavg', 'loadavg_1m', 'loadavg_before', 'commit', 'started']);

/* The median of numbers (the mean of the middle two for an even count). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/* The key that says which lines of different runs are one figure. */
function figureKey(line) {
  const parts = [];
  for (const [name, value] of Object.entries(line).sort(([a], [b]) => a.localeCompare(b))) {
    if (CONDITIONS.has(name) || (value !== null && typeof value === 'object')) continue;
    if (typeof value === 'number' && !IDENTIFYING.has(name)) continue;
    parts.push(`${name}=${JSON.stringify(value)}`);
  }
  return parts.join(' ');
}

/* The lines of one figure folded into one: numbers become their median. */
function medianOf(group, path) {
  const summary = {};
  for (const [name, value] of Object.entries(group[0])) {
    if (CONDITIONS.has(name) || IDENTIFYING.has(name) || typeof value === 'string' || typeof value === 'boolean') {
      summary[name] = value;
    } else if (typeof value === 'number') {
      const values = group.map((line) => line[name]).filter((v) => typeof v === 'number');
      summary[name] = +median(values).toFixed(3);
      if (!path && (name === 'value' || name === 'p50' || name === 'p95')) summary[`runs_${name}`] = values;
    } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      summary[name] = medianOf(group.map((line) => line[name] || {}), `${path}${name}.`);
    } else {
      summary[name] = value;
    }
  }
  return summary;
}

/* One summary line per figure, over the runs that printed it. */
export function summarise(lines) {
  const groups = new Map();
  for (const line of lines) {
    if (typeof line.figure !== 'string' || line.figure === 'warning' || line.run === undefined) continue;
    const key = figureKey(line);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(line);
  }
  const summaries = [];
  for (const group of groups.values()) {
    const summary = medianOf(group, '');
    summary.median_of_runs = group.length;
    delete summary.run; delete summary.loadavg; delete summary.started;
    summary.loadavg_1m = group.map((line) => line.loadavg_1m);
    summaries.push(summary);
  }
  return summaries;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const lines = [];
  for await (const text of createInterface({ input: process.stdin })) {
    if (!text.trim()) continue;
    console.log(text);
    try { lines.push(JSON.parse(text)); } catch { /* a log line, printed as it came */ }
  }
  for (const summary of summarise(lines))
    console.log(JSON.stringify({ summary: true, ...summary }));
}
