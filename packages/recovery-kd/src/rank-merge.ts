import { InputError, JsonlWriter, readJsonl } from "@transllm/core";

/**
 * Merges the outputs of ranks 0…W-1 of a sharded step (`rank`/`worldSize`) into one file in input order,
 * byte-identical to an unsharded run's output: item i of the input went to rank i mod W, and each rank wrote its
 * items in input order; an item a rank set aside (its `<part>.rejects.jsonl`) is simply not in its part. `ids` are
 * the input's item ids in the order the step read them.
 */
export async function mergeRankOutputs(options: { ids: AsyncIterable<string>; parts: readonly string[]; out: string }): Promise<{ out: string; records: number }> {
	const readers = options.parts.map((part) => readJsonl<{ id: string | number }>(part)[Symbol.asyncIterator]());
	const heads = await Promise.all(readers.map((reader) => reader.next()));
	const writer = await JsonlWriter.open(options.out, { overwrite: true });
	let index = 0;
	let records = 0;
	try {
		for await (const id of options.ids) {
			const rank = index++ % readers.length;
			const head = heads[rank];
			if (head && !head.done && String(head.value.value.id) === id) {
				await writer.write(head.value.value);
				records += 1;
				heads[rank] = await (readers[rank] as (typeof readers)[number]).next();
			}
		}
		for (const [rank, head] of heads.entries()) {
			if (head && !head.done) throw new InputError(`record "${head.value.value.id}" is not among rank ${rank}'s items of the input (ranks ${readers.length}): the parts and the input do not belong together`, { file: options.parts[rank] });
		}
		await writer.finish();
	} catch (error) {
		await writer.close();
		throw error;
	}
	return { out: options.out, records };
}
