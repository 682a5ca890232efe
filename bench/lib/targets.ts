// The performance issue's targets, checked against one run's medians. A target whose scenario or
// peer was not run is reported as not measured rather than passed.
import type { Summary } from './report.ts';

export interface TargetCheck {
  target: string;
  measured: string;
  pass: boolean | null;
}

export interface ScaleFigures {
  snapshotBuildMs: number;
  rssMiB: number;
  /** Scale edge req/s ÷ 1-hostname edge req/s (medians of interleaved rounds). */
  throughputRatio: number;
}

const x = (n: number) => `${n.toFixed(2)}×`;

export function evaluateTargets(summaries: Summary[], scale: { figures: ScaleFigures } | null): TargetCheck[] {
  const get = (scenario: string, peer: string) => summaries.find((s) => s.scenario === scenario && s.peer === peer);
  const checks: TargetCheck[] = [];
  const add = (target: string, measured: () => [string, boolean] | null) => {
    const r = measured();
    checks.push(r === null ? { target, measured: 'not measured', pass: null } : { target, measured: r[0], pass: r[1] });
  };
  const both = (scenario: string, a: string, b: string) => {
    const sa = get(scenario, a);
    const sb = get(scenario, b);
    return sa && sb ? [sa, sb] as const : null;
  };

  add('keep-alive 1 KiB: proxy CPU/request ≤ 2× nginx (stretch 1×)', () => {
    const p = both('ka-1k', 'originpull', 'nginx');
    return p && [`${p[0].cpuUs.toFixed(1)} vs ${p[1].cpuUs.toFixed(1)} µs = ${x(p[0].cpuUs / p[1].cpuUs)}`, p[0].cpuUs <= 2 * p[1].cpuUs];
  });
  add('keep-alive 1 KiB: req/s ≥ 2× minimal undici proxy', () => {
    const p = both('ka-1k', 'originpull', 'undici-minimal');
    return p && [`${Math.round(p[0].rps)} vs ${Math.round(p[1].rps)} = ${x(p[0].rps / p[1].rps)}`, p[0].rps >= 2 * p[1].rps];
  });
  add('visitor Connection: close: req/s ≥ 2× minimal undici proxy', () => {
    const p = both('close-1k', 'originpull', 'undici-minimal');
    return p && [`${Math.round(p[0].rps)} vs ${Math.round(p[1].rps)} = ${x(p[0].rps / p[1].rps)}`, p[0].rps >= 2 * p[1].rps];
  });
  add('visitor Connection: close: ≤ 1 new upstream connection per 1,000 requests', () => {
    const s = get('close-1k', 'originpull');
    return s ? [`${s.upstreamNewPer1k.toFixed(3)} per 1,000 (${s.upstreamNew} in ${s.requests} requests)`, s.upstreamNewPer1k <= 1] : null;
  });
  add('visitor Connection: close: ≥ 99% of new upstream TLS connections resumed', () => {
    const s = get('close-1k', 'originpull');
    if (!s) return null;
    if (s.upstreamNew === 0) return ['no new upstream connection during the measured runs', true];
    return [`${s.resumedPct.toFixed(1)}% of ${s.upstreamNew}`, s.resumedPct >= 99];
  });
  add('keep-alive 64 KiB: req/s ≥ 0.7× nginx', () => {
    const p = both('ka-64k', 'originpull', 'nginx');
    return p && [`${Math.round(p[0].rps)} vs ${Math.round(p[1].rps)} = ${x(p[0].rps / p[1].rps)}`, p[0].rps >= 0.7 * p[1].rps];
  });
  add('keep-alive 1 KiB: p99 ≤ 2× nginx', () => {
    const p = both('ka-1k', 'originpull', 'nginx');
    return p && [`${p[0].p99.toFixed(2)} vs ${p[1].p99.toFixed(2)} ms = ${x(p[0].p99 / p[1].p99)}`, p[0].p99 <= 2 * p[1].p99];
  });
  add('HTTPS visitors, keep-alive 1 KiB: proxy CPU/request ≤ 1.6× nginx', () => {
    const p = both('tls-ka-1k', 'originpull', 'nginx');
    return p && [`${p[0].cpuUs.toFixed(1)} vs ${p[1].cpuUs.toFixed(1)} µs = ${x(p[0].cpuUs / p[1].cpuUs)}`, p[0].cpuUs <= 1.6 * p[1].cpuUs];
  });
  add('HTTPS visitors, a new TLS connection per request: proxy CPU/request ≤ 1.4× nginx', () => {
    const p = both('tls-new-1k', 'originpull', 'nginx');
    return p && [`${p[0].cpuUs.toFixed(1)} vs ${p[1].cpuUs.toFixed(1)} µs = ${x(p[0].cpuUs / p[1].cpuUs)}`, p[0].cpuUs <= 1.4 * p[1].cpuUs];
  });
  add('RSS under load ≤ 150 MiB (largest over the scenarios)', () => {
    const mine = summaries.filter((s) => s.peer === 'originpull');
    if (mine.length === 0) return null;
    const worst = Math.max(...mine.map((s) => s.rssMiB));
    return [`${worst.toFixed(0)} MiB`, worst <= 150];
  });
  add('AOP cert vs none: same throughput within 5%', () => {
    const p = both('aop', 'originpull', 'originpull-noaop');
    return p && [`${Math.round(p[0].rps)} with vs ${Math.round(p[1].rps)} without = ${x(p[0].rps / p[1].rps)}`, Math.abs(p[0].rps / p[1].rps - 1) <= 0.05];
  });
  add('--workers 2 on both cores: more req/s than 1 worker (2-core caveat: see README)', () => {
    const p = both('workers', 'originpull-w2', 'originpull');
    return p && [`${Math.round(p[0].rps)} vs ${Math.round(p[1].rps)} = ${x(p[0].rps / p[1].rps)}`, p[0].rps > p[1].rps];
  });
  add('scale: snapshot build ≤ 3 s', () => scale && [`${(scale.figures.snapshotBuildMs / 1000).toFixed(2)} s`, scale.figures.snapshotBuildMs <= 3000]);
  add('scale: edge RSS ≤ 500 MiB', () => scale && [`${scale.figures.rssMiB.toFixed(0)} MiB`, scale.figures.rssMiB <= 500]);
  add('scale: keep-alive throughput within 5% of the 1-hostname edge', () => scale && [x(scale.figures.throughputRatio), scale.figures.throughputRatio >= 0.95]);
  return checks;
}

export function renderTargets(checks: TargetCheck[]): string {
  const mark = (p: boolean | null) => (p === null ? '·' : p ? 'PASS' : 'MISS');
  return checks.map((c) => `- ${mark(c.pass)} ${c.target}: ${c.measured}`).join('\n');
}
