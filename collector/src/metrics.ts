// Prometheus text exposition for the collector's /metrics: counters, gauges and one histogram, no dependency.
type Labels = Record<string, string>;

const key = (labels: Labels) =>
  Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');

class Counter {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.values.get(key(labels)) ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [k, v] of this.values) lines.push(`${this.name}${k ? `{${k}}` : ''} ${v}`);
    return lines.join('\n');
  }
}

class Gauge {
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => number,
  ) {}
  render(): string {
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} gauge`,
      `${this.name} ${this.read()}`,
    ].join('\n');
  }
}

class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: number[],
  ) {
    this.counts = buckets.map(() => 0);
  }
  observe(value: number): void {
    this.sum += value;
    this.count++;
    this.buckets.forEach((b, i) => {
      if (value <= b) this.counts[i]!++;
    });
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    this.buckets.forEach((b, i) => {
      lines.push(`${this.name}_bucket{le="${b}"} ${this.counts[i]}`);
    });
    lines.push(
      `${this.name}_bucket{le="+Inf"} ${this.count}`,
      `${this.name}_sum ${this.sum}`,
      `${this.name}_count ${this.count}`,
    );
    return lines.join('\n');
  }
}

export class CollectorMetrics {
  readonly polls = new Counter('tod_collector_polls_total', 'Device polls by outcome');
  readonly breakerSkips = new Counter(
    'tod_collector_breaker_skips_total',
    'Polls skipped because the device breaker was open',
  );
  readonly publishes = new Counter('tod_collector_publishes_total', 'Event publishes by outcome');
  readonly outboxDropped = new Counter(
    'tod_collector_outbox_dropped_total',
    'Metric events dropped by the outbox bound',
  );
  readonly pollDuration = new Histogram(
    'tod_collector_poll_duration_seconds',
    'Duration of a device poll',
    [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  );
  readonly pollLateness = new Histogram(
    'tod_collector_poll_lateness_seconds',
    'How late a poll started after it was due',
    [0.1, 0.5, 1, 2, 5, 10, 30],
  );
  readonly leaseAttempts = new Counter(
    'tod_collector_lease_attempts_total',
    'HA lease attempts before polling a shared device, by outcome (acquired, renewed, reclaimed, kept, elsewhere, lost, error)',
  );
  readonly leaseReleases = new Counter(
    'tod_collector_lease_releases_total',
    'HA leases released (device removed or graceful stop), by outcome',
  );
  readonly backups = new Counter(
    'tod_collector_backups_total',
    'Configuration backups by outcome (ok, failed)',
  );
  private readonly gauges: Gauge[] = [];

  gauge(name: string, help: string, read: () => number): void {
    this.gauges.push(new Gauge(name, help, read));
  }

  render(): string {
    return (
      [
        this.polls,
        this.breakerSkips,
        this.publishes,
        this.outboxDropped,
        this.leaseAttempts,
        this.leaseReleases,
        this.backups,
        this.pollDuration,
        this.pollLateness,
        ...this.gauges,
      ]
        .map((m) => m.render())
        .join('\n') + '\n'
    );
  }
}
