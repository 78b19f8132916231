import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parser as promql } from '@prometheus-io/lezer-promql';
import { createServiceMetrics } from '@tessera/service-kit';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { discoverServices } from './services.ts';

// The compose stack's Prometheus must scrape every service, and the Grafana dashboard must chart
// only series the code exports: a renamed metric would otherwise leave an empty panel, silently.

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const observability = `${repoRoot}/infra/observability`;

interface ComposeFile {
  services: Record<string, { environment?: Record<string, string>; volumes?: string[] }>;
}
interface AlertRules {
  groups: {
    name: string;
    rules: {
      alert: string;
      expr: string;
      for: string;
      labels: Record<string, string>;
      annotations: Record<string, string>;
    }[];
  }[];
}
interface Dashboard {
  panels: { title: string; targets: { expr: string }[] }[];
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.includes('.spec.'))
    .map((e) => path.join(e.parentPath, e.name));
}

/**
 * Every series name the platform exports: the kit's registry, the gauges read at scrape time
 * (`gaugeOnScrape`, the kit's `countOnScrape`) and each service's own `metrics.histogram(...)`.
 */
async function exportedSeries(): Promise<Set<string>> {
  const kit = createServiceMetrics('probe', { processMetrics: true });
  const names = kit.registry.getMetricsAsArray().map((metric) => metric.name);
  const files = [
    ...(await sourceFiles(`${repoRoot}/services`)),
    ...(await sourceFiles(`${repoRoot}/packages/service-kit/src`)),
  ];
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    for (const match of text.matchAll(
      /(?:metrics\.histogram|gaugeOnScrape|countOnScrape)\(\s*'([a-z_:]+)'/g,
    )) {
      names.push(match[1]!);
    }
  }
  const series = new Set<string>();
  for (const name of names) for (const suffix of ['', '_bucket', '_count', '_sum']) series.add(name + suffix);
  return series;
}

/**
 * The metric names a PromQL expression reads, by Prometheus's own grammar (the parser its web UI
 * uses): each vector selector's name. Throws on a syntax error, with where it is.
 */
function seriesIn(expr: string): string[] {
  const names: string[] = [];
  promql.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) throw new SyntaxError(`PromQL syntax error at ${node.from} in: ${expr}`);
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') {
        names.push(expr.slice(node.from, node.to));
      }
    },
  });
  return names;
}

describe('observability in docker-compose', () => {
  it("scrapes every service's own port and the gateway's metrics port", async () => {
    const compose = parse(await readFile(`${repoRoot}/docker-compose.yml`, 'utf8')) as ComposeFile;
    const prometheus = parse(await readFile(`${observability}/prometheus.yml`, 'utf8')) as {
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    const targets = prometheus.scrape_configs.flatMap((job) => job.static_configs.flatMap((c) => c.targets));
    const services = await discoverServices(`${repoRoot}/services`);
    expect(services.length).toBe(7);
    for (const service of services) {
      expect(compose.services[service.name]?.environment?.PORT).toBe(String(service.port));
      expect(targets).toContain(`${service.name}:${service.port}`);
    }
    const metricsPort = compose.services.gateway?.environment?.GATEWAY_METRICS_PORT;
    expect(metricsPort).toMatch(/^\d+$/);
    expect(targets).toContain(`gateway:${metricsPort}`);
    expect(targets).toHaveLength(services.length + 1);
  });

  it('charts only series the code exports, in every panel', async () => {
    const dashboard = JSON.parse(
      await readFile(`${observability}/grafana/dashboards/tessera.json`, 'utf8'),
    ) as Dashboard;
    const exported = await exportedSeries();
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(10);
    for (const panel of dashboard.panels) {
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      for (const { expr } of panel.targets) {
        const read = seriesIn(expr);
        expect(read.length, expr).toBeGreaterThan(0);
        for (const name of read) expect(exported, `${panel.title}: ${name}`).toContain(name);
      }
    }
  });

  it('alerts on series the code exports, each rule lasting a while, with a severity and what to do', async () => {
    const prometheus = parse(await readFile(`${observability}/prometheus.yml`, 'utf8')) as {
      rule_files: string[];
    };
    const compose = parse(await readFile(`${repoRoot}/docker-compose.yml`, 'utf8')) as ComposeFile;
    // Each rule file Prometheus loads is one compose mounts from this folder.
    expect(prometheus.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
    expect(compose.services.prometheus?.volumes).toContain(
      './infra/observability/alerts.yml:/etc/prometheus/alerts.yml:ro',
    );
    const rules = parse(await readFile(`${observability}/alerts.yml`, 'utf8')) as AlertRules;
    const all = rules.groups.flatMap((group) => group.rules);
    expect(all.length).toBeGreaterThanOrEqual(8);
    expect(new Set(all.map((rule) => rule.alert)).size).toBe(all.length);
    // `up` is Prometheus's own series for each scrape target.
    const exported = new Set([...(await exportedSeries()), 'up']);
    for (const rule of all) {
      expect(rule.alert).toMatch(/^Tessera[A-Z][A-Za-z]+$/);
      const read = seriesIn(rule.expr);
      expect(read.length, rule.alert).toBeGreaterThan(0);
      for (const name of read) expect(exported, `${rule.alert}: ${name}`).toContain(name);
      expect(rule.for, rule.alert).toMatch(/^\d+[mh]$/);
      expect(['critical', 'warning'], rule.alert).toContain(rule.labels.severity);
      expect(rule.annotations.summary?.length, rule.alert).toBeGreaterThan(10);
      expect(rule.annotations.description?.length, rule.alert).toBeGreaterThan(40);
    }
    // What waits for an operator has an alert that holds until it is dealt with.
    const reads = all.flatMap((rule) => seriesIn(rule.expr));
    for (const gauge of ['tessera_dead_letters_open', 'tessera_job_items_parked', 'tessera_outbox_backlog']) {
      expect(reads).toContain(gauge);
    }
  });

  it('reads the expressions it checks the way Prometheus does', () => {
    expect(
      seriesIn(
        'histogram_quantile(0.99, sum by (service, le) (rate(http_request_duration_seconds_bucket[5m])))',
      ),
    ).toEqual(['http_request_duration_seconds_bucket']);
    expect(seriesIn('max by (service) (tessera_outbox_backlog)')).toEqual(['tessera_outbox_backlog']);
    expect(seriesIn('sum(rate(a_sum[1m])) / sum(rate(b_count{x="y"}[1m]))')).toEqual(['a_sum', 'b_count']);
    expect(seriesIn('min_over_time(tessera_outbox_backlog[10m]) > 100')).toEqual(['tessera_outbox_backlog']);
    expect(seriesIn('up == 0')).toEqual(['up']);
    expect(() => seriesIn('sum(rate(a_total[5m])')).toThrow(SyntaxError);
    expect(() => seriesIn('max by service (a)')).toThrow(SyntaxError);
  });
});
