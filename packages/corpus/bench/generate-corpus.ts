import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { once } from "node:events";
import { SeededRng } from "@transllm/core";
import { udhrParagraphs } from "../test/udhr.js";

export interface GeneratedCorpus {
	files: string[];
	documents: number;
	bytes: number;
}

/**
 * A web-like Thai corpus built from real text: each document joins 2–8 random paragraphs of the two Thai UDHR
 * translations (udhr `tha`, `tha2`). Mixed in, as mC4 has them: English documents (5%), navigation menus of
 * repeated lines (3%), documents holding a listed sensitive word (2%), and near-duplicates of earlier documents
 * with one word changed (10%). Written as JSONL shards of about `shardBytes`.
 */
export async function generateCorpus(params: { dir: string; bytes: number; shardBytes?: number; seed?: number }): Promise<GeneratedCorpus> {
	const rng = new SeededRng(params.seed ?? 1);
	const thai = [...udhrParagraphs("tha"), ...udhrParagraphs("tha2")];
	const english = udhrParagraphs("eng");
	const menu = ["หน้าแรก", "ข่าวสาร", "ติดต่อเรา", "เกี่ยวกับเรา", "สมัครสมาชิก"];
	const shardBytes = params.shardBytes ?? 64 * 1024 * 1024;
	await mkdir(params.dir, { recursive: true });
	const files: string[] = [];
	const recent: string[] = [];
	let bytes = 0;
	let documents = 0;
	let stream: ReturnType<typeof createWriteStream> | undefined;
	let shardSize = 0;
	while (bytes < params.bytes) {
		if (!stream || shardSize >= shardBytes) {
			if (stream) {
				stream.end();
				await once(stream, "finish");
			}
			const file = join(params.dir, `shard-${String(files.length).padStart(4, "0")}.jsonl`);
			files.push(file);
			stream = createWriteStream(file);
			shardSize = 0;
		}
		const roll = rng.float();
		let text: string;
		if (roll < 0.05) text = rng.sample(english, 2 + rng.int(4)).join("\n");
		else if (roll < 0.08) text = Array.from({ length: 12 }, () => rng.pick(menu)).join("\n");
		else if (roll < 0.18 && recent.length > 0) text = `${rng.pick(recent)} ทั้งนี้`;
		else {
			text = rng.sample(thai, 2 + rng.int(7)).join("\n");
			if (roll < 0.2) text += "\nการค้าทาสต้องห้าม";
			if (recent.length < 1000) recent.push(text);
			else recent[rng.int(1000)] = text;
		}
		const line = `${JSON.stringify({ id: `doc-${documents}`, text, url: `https://th.example/${documents}` })}\n`;
		const size = Buffer.byteLength(line);
		if (!stream.write(line)) await once(stream, "drain");
		shardSize += size;
		bytes += size;
		documents += 1;
	}
	if (stream) {
		stream.end();
		await once(stream, "finish");
	}
	return { files, documents, bytes };
}
