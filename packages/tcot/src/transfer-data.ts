import { ConfigError, InputError, SeededRng, guardedSpecialTokens } from "@transllm/core";
import { normalizeLanguage, tcotSpecialTokens } from "./special-tokens.js";
import type { SpecialTokenPolicy, TextOrigin } from "@transllm/core";
import { InstanceStore, storedText } from "./instance-store.js";
import type { StoredText } from "./instance-store.js";
import { instancePart, recoveryKdParts, tcotLanguage, tcotParts, translatedTexts } from "./training-instance.js";
import type { InstanceKind, InstanceParts, KdRecord, TrainingInstance, TranslatedRecord } from "./training-instance.js";
import { translationLanguages, translationParts } from "./translation-instances.js";
import type { InstructionLanguage, ParallelPair } from "./translation-instances.js";
import type { TranslationTemplate } from "./translation-templates.js";

/**
 * Held-out validation size: "We use 2K examples as the validation set" (`../shared/papers/000_1ce36f3811662daf.txt`
 * App. A.2, transfer fine-tuning; Sec. 3.1 holds out the last 2K Alpaca queries).
 */
export const DEFAULT_VALIDATION_SIZE = 2000;

export interface TransferDataOptions {
	/** Seed of every random choice (templates, split, order): the same inputs and seed give the same files. */
	seed: string | number;
	/** Instances held out for validation (default 2,000). */
	validationSize?: number;
	/** Target languages to keep; records in other languages are counted as `filtered` (default: all). */
	langs?: readonly string[];
	templates?: readonly TranslationTemplate[];
	instructionLanguage?: InstructionLanguage;
	specialTokens?: SpecialTokenPolicy;
	/** Also derive the recovery-KD instance of a translated record whose id no KD record had (default true). */
	recoveryKdFromTranslated?: boolean;
	/** Make translation instances from the (q^α, q^β) and (a^α, a^β) pairs of translated records (default true). */
	translationFromTranslated?: boolean;
}

export type SplitName = "train" | "validation";

export interface TransferDataCounts {
	/** Instances per split, kind and language: `counts.train["tcot"]["th"]`. */
	instances: Record<SplitName, Partial<Record<InstanceKind, Record<string, number>>>>;
	/** Records read per source, and records skipped because their language is not in `langs`. */
	records: { kd: number; translated: number; parallel: number; filtered: number };
}

export interface TransferData {
	train: TrainingInstance[];
	validation: TrainingInstance[];
	/** `<EN>`, `<RESPONSE>` and the language-ID token of every target language in the data. */
	specialTokens: string[];
	/** Target languages present, sorted. */
	langs: string[];
	counts: TransferDataCounts;
}

/** TransferData with the instances left in their store: train and validation are indices into it, for writers. */
export interface MixedTransferData extends Omit<TransferData, "train" | "validation"> {
	store: InstanceStore;
	train: number[];
	validation: number[];
}

/**
 * Collects recovery-KD, TCOT and translation instances (Sec. 2.2.3) from records, then mixes them at random with a
 * held-out validation split ("Finally, we randomly mix all the data mentioned above", Sec. 2.2.3). Every random
 * choice comes from the seed, and per-instance draws are keyed by the instance id, so the output does not depend
 * on the order of the input files. The instances are held in an InstanceStore (each record text escaped once).
 */
export class TransferDataBuilder {
	private readonly store = new InstanceStore();
	/** Ids with a recovery-KD instance, and which of them came from a translated record (id → index in the store). */
	private readonly kdIds = new Set<string>();
	private readonly derivedKd = new Map<string, number>();
	private readonly translatedKeys = new Set<string>();
	private readonly pairIds = new Set<string>();
	private readonly foundLangs = new Set<string>();
	private readonly keep: Set<string> | undefined;
	private readonly guardTokens: readonly string[];
	private readonly rng: SeededRng;
	private readonly records = { kd: 0, translated: 0, parallel: 0, filtered: 0 };

	constructor(private readonly options: TransferDataOptions) {
		this.rng = new SeededRng(options.seed);
		this.keep = options.langs ? new Set(options.langs.map(normalizeLanguage)) : undefined;
		if (this.keep?.has("en")) throw new ConfigError("langs are target languages; English is the source language α and cannot be one");
		// core's one training-data policy: chat control tokens, <RESPONSE> and every language-ID token (any may be a target later).
		this.guardTokens = guardedSpecialTokens();
	}

	private instanceOptions(origin: TextOrigin) {
		return { specialTokens: this.options.specialTokens, guardTokens: this.guardTokens, origin };
	}

	/** An English recovery-KD record → one recovery-KD instance. A repeated id is an InputError. */
	addKdRecord(record: KdRecord, origin: TextOrigin = {}): void {
		const derived = this.derivedKd.get(record.id);
		if (this.kdIds.has(record.id) && derived === undefined) throw new InputError(`duplicate KD record id ${JSON.stringify(record.id)}`, { ...origin, field: "id" });
		const options = { specialTokens: this.options.specialTokens, origin, record: record.id };
		const queryEn = storedText(instancePart(record.query_en, "query_en", this.guardTokens, options));
		const instance = recoveryKdParts(record.id, { queryEn, responseEn: storedText(instancePart(record.response_en, "response_en", this.guardTokens, options)) });
		this.records.kd += 1;
		// A KD record wins over the one derived from a translated record with its id, whichever came first.
		if (derived !== undefined) {
			this.store.replace(derived, instance);
			this.derivedKd.delete(record.id);
			return;
		}
		this.kdIds.add(record.id);
		this.store.add(instance);
	}

	/**
	 * A translated record → a TCOT instance, four translation instances (q and a, both directions) and, once per
	 * id, the recovery-KD instance of its English side. Returns false when its language is filtered out.
	 */
	addTranslatedRecord(record: TranslatedRecord, origin: TextOrigin = {}): boolean {
		const lang = normalizeLanguage(record.lang);
		if (this.keep && !this.keep.has(lang)) {
			this.records.filtered += 1;
			return false;
		}
		const key = `${record.id}\u0000${lang}`;
		if (this.translatedKeys.has(key)) throw new InputError(`duplicate translated record id ${JSON.stringify(record.id)} for ${lang}`, { ...origin, field: "id" });
		tcotLanguage({ id: record.id, lang }, origin);
		// Each text is checked once and escaped once, however many instances hold it.
		const checked = translatedTexts(record, this.instanceOptions(origin));
		const texts = { queryT: storedText(checked.queryT), queryEn: storedText(checked.queryEn), responseEn: storedText(checked.responseEn), responseT: storedText(checked.responseT) };
		const built: InstanceParts<StoredText>[] = [tcotParts(record.id, lang, texts)];
		if (this.options.translationFromTranslated ?? true) {
			for (const [part, source, target] of [
				["query", texts.queryEn, texts.queryT],
				["response", texts.responseEn, texts.responseT],
			] as const) {
				const rng = this.rng.fork(`template/${record.id}:${part}:${lang}`);
				built.push(...translationParts({ source, target, sourceLang: "en", targetLang: lang }, this.translationOptions(rng, record.id, `:${part}`, record.id)));
			}
		}
		this.translatedKeys.add(key);
		this.records.translated += 1;
		this.foundLangs.add(lang);
		for (const instance of built) this.store.add(instance);
		if ((this.options.recoveryKdFromTranslated ?? true) && !this.kdIds.has(record.id)) {
			this.kdIds.add(record.id);
			this.derivedKd.set(record.id, this.store.add(recoveryKdParts(record.id, texts)));
		}
		return true;
	}

	/** A parallel pair → two translation instances. `id` must be unique among pairs. Returns false when filtered. */
	addParallelPair(pair: ParallelPair, id: string, origin: TextOrigin = {}): boolean {
		const langs = [normalizeLanguage(pair.sourceLang), normalizeLanguage(pair.targetLang)];
		const target = langs.find((lang) => lang !== "en");
		if (this.keep && (target === undefined || !this.keep.has(target) || !langs.every((lang) => lang === "en" || this.keep?.has(lang)))) {
			this.records.filtered += 1;
			return false;
		}
		if (this.pairIds.has(id)) throw new InputError(`duplicate parallel pair id ${JSON.stringify(id)}`, { ...origin, field: "id" });
		this.pairIds.add(id);
		const group = `parallel:${id}`;
		const { sourceLang, targetLang } = translationLanguages(pair, { id: group, origin });
		const options = { specialTokens: this.options.specialTokens, origin, record: group };
		const source = storedText(instancePart(pair.source, "source", this.guardTokens, options));
		const texts = { source, target: storedText(instancePart(pair.target, "target", this.guardTokens, options)), sourceLang, targetLang };
		for (const instance of translationParts(texts, this.translationOptions(this.rng.fork(`template/${group}`), group, "", group))) this.store.add(instance);
		this.records.parallel += 1;
		for (const lang of langs) if (lang !== "en") this.foundLangs.add(lang);
		return true;
	}

	private translationOptions(rng: SeededRng, idHead: string, idMid: string, group: string) {
		return { rng, templates: this.options.templates, instructionLanguage: this.options.instructionLanguage, idHead, idMid, group };
	}

	/** Adds what another builder collected (a task's part of a sharded build). */
	addCollected(part: CollectedTransferData): void {
		for (const instance of part.instances) this.store.addInstance(instance);
		for (const key of Object.keys(this.records) as (keyof typeof this.records)[]) this.records[key] += part.records[key];
		for (const lang of part.langs) this.foundLangs.add(lang);
	}

	/** Everything added, not yet mixed: a rank's share of a sharded build. */
	collected(): CollectedTransferData {
		return { instances: Array.from({ length: this.store.size }, (_, index) => this.store.instance(index)), records: { ...this.records }, langs: this.langs() };
	}

	/** The instances held, unmixed, with the record counts and languages (a rank of a sharded build writes them). */
	collectedStore(): { store: InstanceStore; records: TransferDataCounts["records"]; langs: string[] } {
		return { store: this.store, records: { ...this.records }, langs: this.langs() };
	}

	private langs(): string[] {
		return [...this.foundLangs].sort();
	}

	/** Splits and mixes everything added, leaving the instances in the store. */
	mix(): MixedTransferData {
		const store = this.store;
		const { train, validation } = mixOrder(store.size, (index) => store.group(index), (a, b) => store.compareIds(a, b), this.options);
		const count = (indices: readonly number[]) => countInstances(store, indices);
		const langs = this.langs();
		return { store, train, validation, specialTokens: tcotSpecialTokens(langs), langs, counts: { instances: { train: count(train), validation: count(validation) }, records: { ...this.records } } };
	}

	/** Splits and mixes everything added. */
	finish(): TransferData {
		const { store, train, validation, ...rest } = this.mix();
		return { train: train.map((index) => store.instance(index)), validation: validation.map((index) => store.instance(index)), ...rest };
	}
}

/** The instances, record counts and languages one builder collected (a rank of a sharded build writes them). */
export interface CollectedTransferData {
	instances: TrainingInstance[];
	records: TransferDataCounts["records"];
	langs: string[];
}

/**
 * Splits and mixes the instances of one or more builders. The mix sorts the instances first, so the parts of a
 * build sharded by record id (records of one id meet in one part) give the same data as one builder.
 */
export function finishTransferData(parts: readonly CollectedTransferData[], options: { seed: string | number; validationSize?: number }): TransferData {
	const builder = new TransferDataBuilder(options);
	for (const part of parts) builder.addCollected(part);
	return builder.finish();
}

function countInstances(store: InstanceStore, indices: readonly number[]): Partial<Record<InstanceKind, Record<string, number>>> {
	const counts: Partial<Record<InstanceKind, Record<string, number>>> = {};
	for (const index of indices) {
		const byLang = (counts[store.kind(index)] ??= {});
		const lang = store.lang(index);
		byLang[lang] = (byLang[lang] ?? 0) + 1;
	}
	return counts;
}

/**
 * Random mixing with a held-out validation split. Instances are grouped by `group` (one KD query with all its
 * translations, or one parallel pair); groups are shuffled and taken whole into validation while they fit, so
 * the validation set holds at most `validationSize` instances (exactly that many unless no remaining group fits)
 * and none of its queries is seen in training. Both splits are then shuffled.
 */
export function mixTransferData(
	instances: readonly TrainingInstance[],
	options: { seed: string | number; validationSize?: number },
): { train: TrainingInstance[]; validation: TrainingInstance[] } {
	const byId = (a: number, b: number) => {
		const x = (instances[a] as TrainingInstance).id;
		const y = (instances[b] as TrainingInstance).id;
		return x < y ? -1 : x > y ? 1 : 0;
	};
	const { train, validation } = mixOrder(instances.length, (index) => (instances[index] as TrainingInstance).group, byId, options);
	const at = (index: number) => instances[index] as TrainingInstance;
	return { train: train.map(at), validation: validation.map(at) };
}

/** mixTransferData on instance indices: `groupOf` and `compareIds` give what it reads of each instance. */
function mixOrder(
	count: number,
	groupOf: (index: number) => string,
	compareIds: (a: number, b: number) => number,
	options: { seed: string | number; validationSize?: number },
): { train: number[]; validation: number[] } {
	const validationSize = options.validationSize ?? DEFAULT_VALIDATION_SIZE;
	if (!Number.isInteger(validationSize) || validationSize < 0) throw new ConfigError(`validation size must be a non-negative integer, got ${validationSize}`);
	if (count > 0 && validationSize >= count) {
		throw new ConfigError(`validation size ${validationSize} leaves no training data: only ${count} instances (lower --val-size)`);
	}
	const groups = new Map<string, number[]>();
	for (let index = 0; index < count; index++) {
		const key = groupOf(index);
		const group = groups.get(key);
		if (group) group.push(index);
		else groups.set(key, [index]);
	}
	// Sorting first makes the result depend on the seed and the instances only, not on the order they came in.
	const sorted = [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, group]) => group.sort(compareIds));
	const rng = new SeededRng(options.seed);
	const shuffled = rng.fork("split").shuffle(sorted);
	const train: number[] = [];
	const validation: number[] = [];
	for (const group of shuffled) {
		if (validation.length + group.length <= validationSize) validation.push(...group);
		else train.push(...group);
	}
	return { train: rng.fork("mix/train").shuffle(train), validation: rng.fork("mix/validation").shuffle(validation) };
}
