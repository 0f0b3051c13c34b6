import { ConfigError, SeededRng } from "@transllm/core";
import type { CloPair, CloRow } from "./clo-pair.js";

/** What happens to the pairs that do not fill a last global step. */
export type RemainderPolicy = "drop" | "keep";

export interface BatchLayoutOptions {
	/** Rows per device per step (`per_device_train_batch_size`); even, so that a batch holds whole pairs. */
	perDeviceBatchSize: number;
	/** Data-parallel devices (processes); one optimizer step sees perDeviceBatchSize × devices rows. */
	devices?: number;
	/** Seed of the pair-level shuffle. */
	seed?: string | number;
	/** Pairs held out for validation (App. B: the checkpoint with the lowest validation loss is kept). */
	validationPairs?: number;
	/**
	 * `drop` (default): the pairs that would leave the last step short are set aside (and reported), so every
	 * step has perDeviceBatchSize × devices / 2 pairs; `keep`: the last step is short (pairs still stay whole).
	 */
	remainder?: RemainderPolicy;
}

export interface BatchLayout<T> {
	/** Training pairs in their final order. */
	train: T[];
	/** Held-out pairs (the first `validationPairs` of the shuffle). */
	validation: T[];
	/** Pairs left out by the `drop` remainder policy. */
	dropped: T[];
	perDeviceBatchSize: number;
	devices: number;
	/** Pairs per per-device batch (N of Eq. 9–10 on one device). */
	pairsPerDeviceBatch: number;
	/** Rows per optimizer step over all devices (before gradient accumulation). */
	rowsPerStep: number;
	/** Optimizer steps per epoch (the last may be short with `keep`). */
	steps: number;
}

/** Checks a per-device batch size and device count; a clear error names the flag. */
export function checkBatchGeometry(perDeviceBatchSize: number, devices: number): void {
	if (!Number.isInteger(perDeviceBatchSize) || perDeviceBatchSize < 2 || perDeviceBatchSize % 2 !== 0) {
		throw new ConfigError(
			`per-device batch size must be an even integer ≥ 2 (each English row travels with its translated row), got ${perDeviceBatchSize}`,
		);
	}
	if (!Number.isInteger(devices) || devices < 1) throw new ConfigError(`number of devices must be an integer ≥ 1, got ${devices}`);
}

/**
 * Orders CLO pairs so that each English row and its translated row land in the same batch (App. A: "data
 * pairs within the same batch"). Pairs are shuffled (never rows), each pair is written as two adjacent rows
 * (English first), and the per-device batch size is even, so with the trainer's sequential sampler
 * (LLaMA-Factory `disable_shuffling: true`, TRL: a SequentialSampler) every per-device batch — and thus every
 * step on every device, since accelerate deals out whole consecutive batches — holds whole pairs.
 */
export function layoutCloBatches<T>(pairs: readonly T[], options: BatchLayoutOptions): BatchLayout<T> {
	const devices = options.devices ?? 1;
	const perDeviceBatchSize = options.perDeviceBatchSize;
	checkBatchGeometry(perDeviceBatchSize, devices);
	const validationPairs = options.validationPairs ?? 0;
	if (!Number.isInteger(validationPairs) || validationPairs < 0) throw new ConfigError(`validation pairs must be an integer ≥ 0, got ${validationPairs}`);
	if (validationPairs > pairs.length) throw new ConfigError(`cannot hold out ${validationPairs} validation pairs from ${pairs.length} pairs`);
	const shuffled = new SeededRng(options.seed ?? 0).fork("clo-layout").shuffle(pairs.slice());
	const validation = shuffled.slice(0, validationPairs);
	const rest = shuffled.slice(validationPairs);
	const pairsPerStep = (perDeviceBatchSize * devices) / 2;
	const full = rest.length - (rest.length % pairsPerStep);
	const keep = (options.remainder ?? "drop") === "keep";
	const train = keep ? rest : rest.slice(0, full);
	const dropped = keep ? [] : rest.slice(full);
	return {
		train,
		validation,
		dropped,
		perDeviceBatchSize,
		devices,
		pairsPerDeviceBatch: perDeviceBatchSize / 2,
		rowsPerStep: perDeviceBatchSize * devices,
		steps: Math.ceil(train.length / pairsPerStep),
	};
}

/** The rows of laid-out pairs: English row, then its target row, pair after pair. */
export function* cloRows(pairs: Iterable<CloPair>): Generator<CloRow> {
	for (const pair of pairs) {
		yield pair.en;
		yield pair.target;
	}
}
