// The pipeline diagram (SVG): each stage of TransLLM with the command that runs it, the package behind it and the
// files it writes, top to bottom in pipeline order. Drawn from this table so that a new stage is one more row.
const stages: { stage: string; command: string; pkg: string; writes: string }[] = [
	{ stage: "1–2. Clean + dedup target text", command: "transllm corpus clean / dedup run", pkg: "@transllm/corpus · dedup", writes: "th-clean/dedup/kept/*.jsonl" },
	{ stage: "3. Vocabulary extension", command: "transllm tokenizer fertility / extend", pkg: "@transllm/tokenizer", writes: "tokenizer.json · id-map.json" },
	{ stage: "4. Translation pre-training text", command: "transllm corpus parallel / augment", pkg: "@transllm/corpus", writes: "translation_pretraining.jsonl" },
	{ stage: "5. Recovery KD: the model answers", command: "transllm kd generate", pkg: "@transllm/recovery-kd · runtime", writes: "kd.jsonl (query_en, response_en)" },
	{ stage: "6. Machine-translate the pairs", command: "transllm kd translate", pkg: "@transllm/recovery-kd", writes: "kd.th.jsonl (+ query_t, response_t)" },
	{ stage: "7. Transfer fine-tuning data", command: "transllm tcot build", pkg: "@transllm/tcot", writes: "train.jsonl · dataset_info.json" },
	{ stage: "7′. PROM probe, CLO pairs", command: "transllm probe / pivot-data / clo pairs", pkg: "@transllm/prom-probe · clo", writes: "report.json · probe.svg · clo_th.jsonl" },
	{ stage: "8. Train (LoRA, LLaMA-Factory / TRL)", command: "llamafactory-cli train", pkg: "—", writes: "Hugging Face checkpoint (LoRA merged)" },
	{ stage: "8′. Export to ONNX (fp32 … int4)", command: "transllm export", pkg: "@transllm/runtime", writes: "model.onnx · model.onnx_data" },
	{ stage: "9. TCOT inference, serving, chat", command: "transllm generate / serve --tcot / chat", pkg: "@transllm/runtime · recovery-kd", writes: "answers.jsonl · /v1/chat/completions" },
	{ stage: "10. Forgetting, CLO quantities", command: "transllm score / clo score", pkg: "@transllm/runtime · clo", writes: "scores.jsonl" },
];

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function pipelineDiagram(): string {
	const rowHeight = 64;
	const top = 64;
	const width = 980;
	const height = top + stages.length * rowHeight + 16;
	const rows = stages.map((row, index) => {
		const y = top + index * rowHeight;
		const arrow =
			index < stages.length - 1
				? `<line x1="220" y1="${y + 48}" x2="220" y2="${y + rowHeight}" class="flow" marker-end="url(#arrow)"/>`
				: "";
		return [
			`<g>`,
			`<rect x="20" y="${y}" width="600" height="48" rx="8" class="stage"/>`,
			`<text x="36" y="${y + 20}" class="title">${escape(row.stage)}</text>`,
			`<text x="36" y="${y + 38}" class="command">${escape(row.command)}</text>`,
			`<text x="604" y="${y + 20}" text-anchor="end" class="pkg">${escape(row.pkg)}</text>`,
			`<line x1="620" y1="${y + 24}" x2="652" y2="${y + 24}" class="flow" marker-end="url(#arrow)"/>`,
			`<rect x="656" y="${y + 8}" width="304" height="32" rx="4" class="file"/>`,
			`<text x="668" y="${y + 29}" class="filename">${escape(row.writes)}</text>`,
			arrow,
			`</g>`,
		].join("");
	});
	return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="pipeline-title">
<title id="pipeline-title">The transllm pipeline: stages, the command and package of each, and the files it writes</title>
<style>
text { font-family: ui-sans-serif, system-ui, -apple-system, "Segoe UI", sans-serif; fill: #1f2328; }
.heading { font-size: 18px; font-weight: 600; }
.title { font-size: 14px; font-weight: 600; }
.command { font-size: 12.5px; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; fill: #3451b2; }
.pkg { font-size: 11.5px; fill: #59636e; }
.filename { font-size: 12px; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; fill: #1f2328; }
.stage { fill: #f1f4ff; stroke: #3451b2; stroke-width: 1.2; }
.file { fill: #fff8e6; stroke: #b7791f; stroke-width: 1; stroke-dasharray: 4 2; }
.flow { stroke: #59636e; stroke-width: 1.4; }
#arrow path { fill: #59636e; }
</style>
<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>
<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>
<text x="20" y="32" class="heading">English chat LLM → chat LLM in the target language (TransLLM, with LLaMAX, PROM and CLO)</text>
<text x="20" y="48" class="pkg">each stage: the command and package that run it → the files it writes; transllm run transllm.yaml runs them all, resumably</text>
${rows.join("\n")}
</svg>
`;
}
