// Turns measured runs into the table: medians over interleaved rounds, the spread between rounds
// (how noisy the box was), and each figure's ratio to nginx measured in the same run.

export interface RunSample {
  scenario: string;
  peer: string;
  round: number;
  rps: number;
  p50: number;
  p99: number;
  /** Proxy CPU (user + system, whole process tree) per request, µs; NaN for `direct`. */
  cpuUs: number;
  /** Kernel share of that CPU time, %. */
  sysPct: number;
  /** Largest VmRSS of the proxy tree seen during the run, bytes; NaN for `direct`. */
  rssBytes: number;
  requests: number;
  errors: number;
  /** New origin connections during the run, and how many resumed a TLS session. */
  upstreamNew: number;
  upstreamResumed: number;
}

export interface Summary {
  scenario: string;
  peer: string;
  rounds: number;
  rps: number;
  /** (max − min) / median of req/s over the rounds. */
  rpsSpread: number;
  p50: number;
  p99: number;
  cpuUs: number;
  sysPct: number;
  rssMiB: number;
  requests: number;
  errors: number;
  upstreamNewPer1k: number;
  /** Resumed share of new origin connections (NaN when there were none). */
  resumedPct: number;
  upstreamNew: number;
  ratio: { rps: number; p99: number; cpuUs: number; rssMiB: number } | null;
}

export function median(values: number[]): number {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

export function summarize(samples: RunSample[], reference = 'nginx'): Summary[] {
  const groups = new Map<string, RunSample[]>();
  for (const s of samples) {
    const key = `${s.scenario}\0${s.peer}`;
    let list = groups.get(key);
    if (list === undefined) groups.set(key, (list = []));
    list.push(s);
  }
  const out: Summary[] = [];
  for (const list of groups.values()) {
    const rps = list.map((s) => s.rps);
    const upstreamNew = sum(list.map((s) => s.upstreamNew));
    const requests = sum(list.map((s) => s.requests));
    const m = median(rps);
    out.push({
      scenario: list[0].scenario,
      peer: list[0].peer,
      rounds: list.length,
      rps: m,
      rpsSpread: list.length > 1 ? (Math.max(...rps) - Math.min(...rps)) / m : 0,
      p50: median(list.map((s) => s.p50)),
      p99: median(list.map((s) => s.p99)),
      cpuUs: median(list.map((s) => s.cpuUs)),
      sysPct: median(list.map((s) => s.sysPct)),
      rssMiB: median(list.map((s) => s.rssBytes)) / 1024 / 1024,
      requests,
      errors: sum(list.map((s) => s.errors)),
      upstreamNewPer1k: requests > 0 ? (upstreamNew / requests) * 1000 : NaN,
      resumedPct: upstreamNew > 0 ? (sum(list.map((s) => s.upstreamResumed)) / upstreamNew) * 100 : NaN,
      upstreamNew,
      ratio: null,
    });
  }
  for (const s of out) {
    const ref = out.find((r) => r.scenario === s.scenario && r.peer === reference);
    if (ref === undefined) continue;
    s.ratio = { rps: s.rps / ref.rps, p99: s.p99 / ref.p99, cpuUs: s.cpuUs / ref.cpuUs, rssMiB: s.rssMiB / ref.rssMiB };
  }
  return out;
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '–');
const ratio = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '–' : `${n.toFixed(2)}×`);

/** A Markdown table (readable in a terminal too). */
export function renderTable(summaries: Summary[], titles: Record<string, string>): string {
  const head = [
    'scenario',
    'peer',
    'req/s',
    '±',
    'vs nginx',
    'p50 ms',
    'p99 ms',
    'vs nginx',
    'CPU µs/req',
    'sys %',
    'vs nginx',
    'RSS MiB',
    'new upstream conns /1k req',
    'resumed %',
    'errors',
  ];
  const rows = summaries.map((s) => [
    titles[s.scenario] ?? s.scenario,
    s.peer,
    fmt(s.rps),
    s.rounds > 1 ? `${fmt(s.rpsSpread * 100)}%` : '–',
    ratio(s.ratio?.rps),
    fmt(s.p50, 2),
    fmt(s.p99, 2),
    ratio(s.ratio?.p99),
    fmt(s.cpuUs, 1),
    fmt(s.sysPct),
    ratio(s.ratio?.cpuUs),
    fmt(s.rssMiB),
    fmt(s.upstreamNewPer1k, 2),
    fmt(s.resumedPct, 1),
    fmt(s.errors),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i < 2 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|')}|`, ...rows.map(line)].join('\n');
}
