/**
 * The running metric totals in the Prometheus text exposition format (version 0.0.4): counters for
 * requests, upstream calls, tokens, cost, retries, fallbacks, repairs, moderation verdicts and the
 * per-task token efficiency (lib/metrics/tasks.ts), and latency histograms in seconds; plus gauges the
 * caller passes (budget, breakers).
 */
import { nanosToUsd } from '../pricing';
import { LATENCY_BOUNDS_MS, split } from './fields';
import { taskCounter } from './tasks';

type Labels = Record<string, string>;
interface Family {
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  samples: Map<string, { name: string; labels: Labels; value: number }>;
}

export interface Gauge {
  name: string;
  help: string;
  samples: { labels: Labels; value: number }[];
}

const escapeLabel = (value: string) =>
  value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
const labelText = (labels: Labels) => {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};

export function toPrometheus(totals: Record<string, number>, gauges: Gauge[] = []): string {
  const families = new Map<string, Family>();
  const add = (
    family: string,
    meta: Omit<Family, 'samples'>,
    name: string,
    labels: Labels,
    value: number,
  ) => {
    const f = families.get(family) ?? { ...meta, samples: new Map() };
    families.set(family, f);
    const id = name + labelText(labels);
    const sample = f.samples.get(id) ?? { name, labels, value: 0 };
    sample.value += value;
    f.samples.set(id, sample);
  };
  const counter = (name: string, help: string, labels: Labels, value: number) =>
    add(name, { help, type: 'counter' }, name, labels, value);
  // Histogram buckets arrive per bucket; they are made cumulative below.
  const histograms = new Map<
    string,
    { help: string; series: Map<string, { labels: Labels; counts: number[]; sumMs: number }> }
  >();
  const observe = (
    family: string,
    help: string,
    labels: Labels,
    bucket: number | null,
    count: number,
    sumMs = 0,
  ) => {
    const h = histograms.get(family) ?? { help, series: new Map() };
    histograms.set(family, h);
    const id = labelText(labels);
    const s = h.series.get(id) ?? {
      labels,
      counts: new Array(LATENCY_BOUNDS_MS.length + 1).fill(0),
      sumMs: 0,
    };
    h.series.set(id, s);
    if (bucket !== null) s.counts[bucket] = (s.counts[bucket] ?? 0) + count;
    s.sumMs += sumMs;
  };

  for (const [field, value] of Object.entries(totals)) {
    const [kind, endpoint = '', ...rest] = split(field);
    if (kind === 'q') {
      const [status = '', cache = '-', variant = '-', measure] = rest;
      const labels = { endpoint, status, cache, variant };
      if (measure === 'n') counter('cag_requests_total', 'Client requests answered.', labels, value);
      if (measure === 'ms')
        observe('cag_request_duration_seconds', 'Client request latency.', { endpoint }, null, 0, value);
    } else if (kind === 'qh') {
      observe(
        'cag_request_duration_seconds',
        'Client request latency.',
        { endpoint },
        Number(rest[0]),
        value,
      );
    } else if (kind === 'qe') {
      counter(
        'cag_request_errors_total',
        'Client requests answered with an error, by code.',
        { endpoint, code: rest[0] ?? '' },
        value,
      );
    } else if (kind === 'u') {
      const [capability = '', provider = '', model = '', outcome = '', variant = '-', measure] = rest;
      const labels = { endpoint, capability, provider, model, outcome, variant };
      if (measure === 'n')
        counter(
          'cag_upstream_calls_total',
          'Upstream model calls (retries and fallback included).',
          labels,
          value,
        );
      else if (measure === 'ms')
        observe(
          'cag_upstream_call_duration_seconds',
          'Upstream call latency.',
          { endpoint, model },
          null,
          0,
          value,
        );
      else if (measure === 'in' || measure === 'cached' || measure === 'out')
        counter(
          'cag_upstream_tokens_total',
          'Tokens billed upstream.',
          { ...labels, type: { in: 'input', cached: 'cached', out: 'output' }[measure] },
          value,
        );
      else if (measure === 'cost')
        counter('cag_upstream_cost_usd_total', 'Cost of upstream calls in USD.', labels, nanosToUsd(value));
      else if (measure === 'retries')
        counter('cag_upstream_retries_total', 'Retries of upstream calls.', labels, value);
      else if (measure === 'fallback')
        counter('cag_upstream_fallbacks_total', 'Calls a backup provider served.', labels, value);
      else if (measure === 'repair')
        counter('cag_upstream_repairs_total', 'Repair calls for invalid structured output.', labels, value);
    } else if (kind === 'uh') {
      const [model = '', bucket] = rest;
      observe(
        'cag_upstream_call_duration_seconds',
        'Upstream call latency.',
        { endpoint, model },
        Number(bucket),
        value,
      );
    } else if (kind === 't') {
      const sample = taskCounter(endpoint, rest[0] ?? '', value); // `t|task|measure`
      if (sample) counter(sample.name, sample.help, sample.labels, sample.value);
    } else if (kind === 'mod') {
      counter(
        'cag_moderation_verdicts_total',
        'Moderation verdicts by outcome (passed or the rejecting layer).',
        { endpoint, outcome: rest[0] ?? '' },
        value,
      );
    }
  }

  const lines: string[] = [];
  for (const [family, f] of families) {
    lines.push(`# HELP ${family} ${f.help}`, `# TYPE ${family} ${f.type}`);
    for (const s of f.samples.values()) lines.push(`${s.name}${labelText(s.labels)} ${s.value}`);
  }
  for (const [family, h] of histograms) {
    lines.push(`# HELP ${family} ${h.help}`, `# TYPE ${family} histogram`);
    for (const s of h.series.values()) {
      let cumulative = 0;
      s.counts.forEach((count, i) => {
        cumulative += count;
        const bound = LATENCY_BOUNDS_MS[i];
        const le = bound === undefined ? '+Inf' : String(bound / 1000);
        lines.push(`${family}_bucket${labelText({ ...s.labels, le })} ${cumulative}`);
      });
      lines.push(
        `${family}_sum${labelText(s.labels)} ${s.sumMs / 1000}`,
        `${family}_count${labelText(s.labels)} ${cumulative}`,
      );
    }
  }
  for (const g of gauges) {
    lines.push(`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} gauge`);
    for (const s of g.samples) lines.push(`${g.name}${labelText(s.labels)} ${s.value}`);
  }
  return `${lines.join('\n')}\n`;
}
