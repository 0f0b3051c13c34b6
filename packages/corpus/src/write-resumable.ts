import { JsonlWriter } from "@transllm/core";

/**
 * Writes a deterministic stream of records to a JSONL output atomically and resumably: with `resume`, a finished
 * output is left as it is, and an unfinished one keeps its complete records and receives the rest of the stream
 * (the records it already holds are skipped, not written twice). Without either, an existing output is an error
 * unless `overwrite`. Returns the number of records in the output.
 */
export async function writeResumable<T>(
	path: string,
	records: AsyncIterable<T> | Iterable<T>,
	options: { resume?: boolean; overwrite?: boolean },
): Promise<number> {
	const writer = await JsonlWriter.open<T>(path, { resume: options.resume, overwrite: options.overwrite });
	if (writer.alreadyComplete) return writer.count;
	let skip = writer.resumedCount;
	try {
		for await (const record of records) {
			if (skip > 0) {
				skip -= 1;
				continue;
			}
			await writer.write(record);
		}
		return await writer.finish();
	} catch (error) {
		await writer.close();
		throw error;
	}
}
