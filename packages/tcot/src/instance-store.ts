import type { InstanceKind, InstanceParts, TrainingInstance } from "./training-instance.js";

/**
 * A text as an InstanceStore keeps it: JSON-escaped once (a translated record's English answer is in four
 * instances), and whether it starts with a low or ends with a high surrogate (a pair split between two parts must
 * be escaped as one character, see InstanceStore).
 */
export interface StoredText {
	raw: string;
	escaped: string;
	startsLow: boolean;
	endsHigh: boolean;
}

// What JSON.stringify escapes in a string: quote, backslash, control characters and (lone) surrogates.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** `raw` escaped as JSON string content (JSON.stringify without the quotes; a text without escapes is itself). */
export function storedText(raw: string): StoredText {
	const escaped = NEEDS_ESCAPE.test(raw) ? JSON.stringify(raw).slice(1, -1) : raw;
	const first = raw.charCodeAt(0);
	const last = raw.charCodeAt(raw.length - 1);
	return { raw, escaped, startsLow: first >= 0xdc00 && first <= 0xdfff, endsHigh: last >= 0xd800 && last <= 0xdbff };
}

/**
 * Training instances held as runs of JSON-escaped pieces, without joining their texts: each record text is escaped
 * once and shared by every instance that repeats it, and an exported line is joined from the pieces and written
 * straight into a byte buffer (see writeInstances). Holding 300,000 joined instances and serialising each cost `tcot build` half
 * its time (V8 flattening the joined strings, escaping each text again, garbage collection); the store keeps one
 * string per text and a few numbers per instance.
 *
 * The pieces of a run, joined, are exactly the JSON escape of the joined text: JSON.stringify escapes character by
 * character, except a surrogate pair, which it keeps whole and escapes when lone. A run whose parts would split a
 * pair is therefore joined first and escaped as one piece.
 */
export class InstanceStore {
	private readonly pieces: string[] = [];
	private readonly first: number[] = [];
	private readonly queryCount: number[] = [];
	private readonly responseCount: number[] = [];
	private readonly length: number[] = [];
	private readonly heads: string[] = [];
	private readonly tails: string[] = [];
	private readonly groups: string[] = [];
	private readonly kinds: InstanceKind[] = [];
	private readonly langs: string[] = [];
	private readonly literals = new Map<string, StoredText>();

	/** Instances held. */
	get size(): number {
		return this.first.length;
	}

	/** Adds an instance; returns its index. */
	add(parts: InstanceParts<StoredText>): number {
		const index = this.size;
		this.set(index, parts);
		return index;
	}

	/** Adds an instance made elsewhere (a task's part of a sharded build). */
	addInstance(instance: TrainingInstance): number {
		return this.add({
			idHead: instance.id,
			idTail: "",
			kind: instance.kind,
			lang: instance.lang,
			group: instance.group,
			query: [storedText(instance.query)],
			response: [storedText(instance.response)],
		});
	}

	/** Replaces the instance at `index` (its old pieces are left unused). */
	replace(index: number, parts: InstanceParts<StoredText>): void {
		this.set(index, parts);
	}

	private set(index: number, parts: InstanceParts<StoredText>): void {
		const start = this.pieces.length;
		this.first[index] = start;
		this.queryCount[index] = this.push(parts.query);
		this.responseCount[index] = this.push(parts.response);
		let length = 0;
		for (let piece = start; piece < this.pieces.length; piece++) length += (this.pieces[piece] as string).length;
		this.length[index] = length;
		this.heads[index] = parts.idHead;
		this.tails[index] = parts.idTail;
		this.groups[index] = parts.group;
		this.kinds[index] = parts.kind;
		this.langs[index] = parts.lang;
	}

	private push(run: readonly (string | StoredText)[]): number {
		const start = this.pieces.length;
		let endsHigh = false;
		for (const part of run) {
			const text = typeof part === "string" ? this.literal(part) : part;
			if (text.raw === "") continue;
			if (endsHigh && text.startsLow) {
				this.pieces.length = start;
				this.pieces.push(storedText(run.map((each) => (typeof each === "string" ? each : each.raw)).join("")).escaped);
				return 1;
			}
			this.pieces.push(text.escaped);
			endsHigh = text.endsHigh;
		}
		return this.pieces.length - start;
	}

	private literal(text: string): StoredText {
		let stored = this.literals.get(text);
		if (stored === undefined) {
			stored = storedText(text);
			this.literals.set(text, stored);
		}
		return stored;
	}

	id(index: number): string {
		return (this.heads[index] as string) + (this.tails[index] as string);
	}

	group(index: number): string {
		return this.groups[index] as string;
	}

	kind(index: number): InstanceKind {
		return this.kinds[index] as InstanceKind;
	}

	lang(index: number): string {
		return this.langs[index] as string;
	}

	/** Orders two instances by id (as `a.id < b.id`): instances of one record share the head, and compare by their tails. */
	compareIds(a: number, b: number): number {
		const head = this.heads[a] as string;
		const same = head === this.heads[b];
		const x = same ? (this.tails[a] as string) : this.id(a);
		const y = same ? (this.tails[b] as string) : this.id(b);
		return x < y ? -1 : x > y ? 1 : 0;
	}

	/** UTF-16 length of the escaped query and response together (a UTF-8 bound is three bytes per unit). */
	escapedLength(index: number): number {
		return this.length[index] as number;
	}

	/** `line` followed by the escaped query or response of an instance. */
	appendEscaped(index: number, field: "query" | "response", line: string): string {
		let piece = (this.first[index] as number) + (field === "query" ? 0 : (this.queryCount[index] as number));
		const end = piece + ((field === "query" ? this.queryCount : this.responseCount)[index] as number);
		let joined = line;
		for (; piece < end; piece++) joined += this.pieces[piece] as string;
		return joined;
	}

	/** The instance at `index` as an object (its texts joined and unescaped). */
	instance(index: number): TrainingInstance {
		const start = this.first[index] as number;
		const middle = start + (this.queryCount[index] as number);
		const text = (from: number, to: number) => JSON.parse(`"${this.pieces.slice(from, to).join("")}"`) as string;
		return {
			id: this.id(index),
			kind: this.kind(index),
			lang: this.lang(index),
			query: text(start, middle),
			response: text(middle, middle + (this.responseCount[index] as number)),
			group: this.group(index),
		};
	}
}
