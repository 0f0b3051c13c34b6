import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { InputError, writeJsonAtomic } from "@transllm/core";

/** The English parts of one earlier conversation turn: q^α and a^α (`../shared/papers/000_1ce36f3811662daf.txt` Sec. 2.3). */
export interface EnglishTurn {
	queryEn: string;
	responseEn: string;
}

/** The key of a turn: SHA-256 of its target-language user and assistant text, as the client sends them back. */
export function turnKey(user: string, assistant: string): string {
	return createHash("sha256").update(JSON.stringify([user, assistant])).digest("hex");
}

/**
 * What a TCOT server remembers across a stateless API: per earlier turn, the English query and answer under the
 * hash of the turn's target-language text. Least recently used entries leave once `maxEntries` is reached; with a
 * `file`, the cache is loaded at start and rewritten atomically after each change (one write at a time; a burst
 * of changes is written once), so a restarted server still knows its conversations.
 */
export class TcotHistoryCache {
	private readonly entries = new Map<string, EnglishTurn>();
	private writing: Promise<void> = Promise.resolve();
	private dirty = false;

	private constructor(
		private readonly maxEntries: number,
		private readonly file: string | undefined,
	) {}

	static async open(options: { maxEntries?: number; file?: string } = {}): Promise<TcotHistoryCache> {
		const cache = new TcotHistoryCache(options.maxEntries ?? 10_000, options.file);
		if (options.file) {
			let text: string | undefined;
			try {
				text = await readFile(options.file, "utf8");
			} catch (error) {
				if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
			}
			if (text !== undefined) {
				let parsed: { version?: unknown; entries?: unknown };
				try {
					parsed = JSON.parse(text) as typeof parsed;
				} catch (error) {
					throw new InputError(`the TCOT history cache is not JSON: ${(error as Error).message}`, { file: options.file }, { cause: error });
				}
				if (parsed.version !== 1 || !Array.isArray(parsed.entries)) throw new InputError("the TCOT history cache must be { version: 1, entries: [[key, { queryEn, responseEn }], …] }", { file: options.file });
				parsed.entries.forEach((entry: unknown, index: number) => {
					const [key, turn] = Array.isArray(entry) ? (entry as [unknown, Partial<EnglishTurn> | undefined]) : [];
					if (typeof key !== "string" || typeof turn?.queryEn !== "string" || typeof turn.responseEn !== "string") throw new InputError(`entry ${index} is not [key, { queryEn, responseEn }]`, { file: options.file, field: `entries[${index}]` });
					cache.remember(key, { queryEn: turn.queryEn, responseEn: turn.responseEn });
				});
			}
		}
		return cache;
	}

	get size(): number {
		return this.entries.size;
	}

	get(key: string): EnglishTurn | undefined {
		const turn = this.entries.get(key);
		if (turn) {
			// Recently used entries stay longest.
			this.entries.delete(key);
			this.entries.set(key, turn);
		}
		return turn;
	}

	/** Stores a turn (and persists the cache when it has a file). */
	set(key: string, turn: EnglishTurn): Promise<void> {
		this.remember(key, turn);
		return this.persist();
	}

	/** Resolves once every change so far is on disk. */
	flush(): Promise<void> {
		return this.writing;
	}

	private remember(key: string, turn: EnglishTurn): void {
		this.entries.delete(key);
		this.entries.set(key, turn);
		while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
	}

	private persist(): Promise<void> {
		if (!this.file) return Promise.resolve();
		const file = this.file;
		this.dirty = true;
		this.writing = this.writing.then(async () => {
			if (!this.dirty) return;
			this.dirty = false;
			await writeJsonAtomic(file, { version: 1, entries: [...this.entries] });
		});
		return this.writing;
	}
}
