/** A running mean / variance / min / max (Welford), mergeable exactly across shards and workers. */
export interface MetricStats {
	n: number;
	mean: number;
	/** Sum of squared deviations from the mean (M2). */
	m2: number;
	min: number;
	max: number;
}

export function emptyMetric(): MetricStats {
	return { n: 0, mean: 0, m2: 0, min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY };
}

export function addToMetric(metric: MetricStats, value: number): void {
	metric.n += 1;
	const delta = value - metric.mean;
	metric.mean += delta / metric.n;
	metric.m2 += delta * (value - metric.mean);
	if (value < metric.min) metric.min = value;
	if (value > metric.max) metric.max = value;
}

/** Chan et al.'s parallel combination: merging two shards gives the statistics of their union. */
export function mergeMetrics(a: MetricStats, b: MetricStats): MetricStats {
	if (a.n === 0) return { ...b };
	if (b.n === 0) return { ...a };
	const n = a.n + b.n;
	const delta = b.mean - a.mean;
	return {
		n,
		mean: a.mean + (delta * b.n) / n,
		m2: a.m2 + b.m2 + (delta * delta * a.n * b.n) / n,
		min: Math.min(a.min, b.min),
		max: Math.max(a.max, b.max),
	};
}

export function metricVariance(metric: MetricStats): number {
	return metric.n > 1 ? metric.m2 / (metric.n - 1) : 0;
}

/**
 * Counters and metrics of one pipeline step, mergeable so per-shard stats add up to the run's
 * (datatrove's `stat_update` / `MetricStats`).
 */
export class Stats {
	readonly counters: Record<string, number> = {};
	readonly metrics: Record<string, MetricStats> = {};

	count(name: string, n = 1): void {
		this.counters[name] = (this.counters[name] ?? 0) + n;
	}

	observe(name: string, value: number): void {
		const metric = (this.metrics[name] ??= emptyMetric());
		addToMetric(metric, value);
	}

	merge(other: Stats | StatsJson): this {
		for (const [name, n] of Object.entries(other.counters)) this.count(name, n);
		for (const [name, metric] of Object.entries(other.metrics)) {
			this.metrics[name] = mergeMetrics(this.metrics[name] ?? emptyMetric(), metric);
		}
		return this;
	}

	toJSON(): StatsJson {
		return { counters: { ...this.counters }, metrics: structuredClone(this.metrics) };
	}

	static fromJSON(json: StatsJson): Stats {
		return new Stats().merge(json);
	}
}

export interface StatsJson {
	counters: Record<string, number>;
	metrics: Record<string, MetricStats>;
}
