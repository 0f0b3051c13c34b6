import { rm } from "node:fs/promises";
import { join } from "node:path";
import { InputError, JsonlWriter, RejectsWriter, escapeSpecialTokens, guardedSpecialTokens, readJsonl, specialTokenProblem, writeFileAtomic, writeJsonAtomic } from "@transllm/core";
import type { BadRecordPolicy, SpecialTokenPolicy } from "@transllm/core";
import { PROM_DEFAULTS } from "./regulation-decision.js";

/** Settings a trainer needs for PROM's pivoted objective (Eq. 3: L = λ·L_{n,e} + L_{N,t}). */
export interface PivotedSettings {
	/** n: the decoder layer (1-based) whose output h_n, before the final norm, goes through the pivot LM head for English rows. */
	pivot_layer: number;
	/** α: label smoothing of L_{n,e} (PROM: 0.1). */
	label_smoothing: number;
	/** λ: weight of L_{n,e}; 0 when the probe found no English pivot (PROM Sec. 2.3). */
	lambda: number;
	lang: string;
	source: string;
}

interface TranslatedRecord {
	id?: string;
	query_en: string;
	response_en: string;
	query_t: string;
	response_t: string;
	lang?: string;
}

const RECIPE = (settings: PivotedSettings): string => `# PROM pivoted objective — training recipe

Data: \`english.jsonl\` holds the English rows s_e (for L_{n,e}), \`target.jsonl\` the target-language rows s_t
(and translation rows s_{e→t}, if you add them) for L_{N,t}. Both are TRL conversational rows (\`messages\`).
Settings (\`settings.json\`): pivot layer n = ${settings.pivot_layer}, label smoothing α = ${settings.label_smoothing},
λ = ${settings.lambda}${settings.lambda === 0 ? " — the probe found no English pivot, so L_{n,e} is switched off and training is plain SFT on target.jsonl" : ""}.

The objective (../shared/papers/003_1fd9d4be5b8f566c.txt Eq. 3): L = λ · L_{n,e} + L_{N,t}, where L_{N,t} is the usual
next-token cross-entropy of the final layer on target rows, and L_{n,e} is the cross-entropy, with label smoothing
α, of h_n — the output of decoder layer n — passed through a second LM head, on English rows. PROM does not say
how the second head is initialised; we copy the model's final norm and lm_head into it (\`pivot_head\` below).

h_n is taken with a forward hook on decoder layer n, not from \`output_hidden_states\`: transformers' last
hidden state (\`hidden_states[L]\`) is already after the final norm, so for n = L that would normalise twice.

\`\`\`python
import copy, torch.nn.functional as F
pivot_norm, pivot_head = copy.deepcopy(model.model.norm), copy.deepcopy(model.lm_head)   # trainable

def prom_loss(model, batch_t, batch_e, n=${settings.pivot_layer}, alpha=${settings.label_smoothing}, lam=${settings.lambda}):
    loss_t = model(**batch_t).loss                                   # L_{N,t}
    if lam == 0:
        return loss_t
    captured = {}
    layer = model.get_decoder().layers[n - 1]                        # decoder layer n (1-based), before any final norm
    hook = layer.register_forward_hook(lambda _m, _i, out: captured.update(h=out[0] if isinstance(out, tuple) else out))
    try:
        model(input_ids=batch_e["input_ids"], attention_mask=batch_e["attention_mask"])
    finally:
        hook.remove()
    logits = pivot_head(pivot_norm(captured["h"]))[:, :-1].flatten(0, 1)
    labels = batch_e["labels"][:, 1:].flatten()                      # -100 on prompt tokens
    loss_e = F.cross_entropy(logits.float(), labels, ignore_index=-100, label_smoothing=alpha)   # L_{n,e}
    return lam * loss_e + loss_t
\`\`\`

Draw batch_t from target.jsonl and batch_e from english.jsonl at each step (PROM trains 3 epochs, lr 2e-5, 3% warm-up,
batch 32; Sec. 3.1). \`transllm train plan --prom <this dir>\` (@transllm/train) runs exactly this objective with TRL.
`;

/**
 * Splits translated SFT records into PROM's English rows (for the layer-n head loss) and target rows, and writes
 * the trainer settings and the recipe.
 */
export async function writePivotedData(params: {
	input: string;
	outDir: string;
	lang: string;
	lambda: number;
	pivotLayer: number;
	labelSmoothing?: number;
	source?: string;
	onBadRecord?: BadRecordPolicy;
	/**
	 * Texts holding `</s>`, `<EN>`, `<RESPONSE>`, a language-ID or chat control token (core's one policy): `error`
	 * (default) makes the record a bad record, `escape` escapes the tokens, `allow` keeps them.
	 */
	specialTokens?: SpecialTokenPolicy;
	overwrite?: boolean;
}): Promise<{ english: number; target: number; rejected: number; settings: PivotedSettings }> {
	const englishPath = join(params.outDir, "english.jsonl");
	const targetPath = join(params.outDir, "target.jsonl");
	const english = await JsonlWriter.open(englishPath, { overwrite: params.overwrite });
	const target = await JsonlWriter.open(targetPath, { overwrite: params.overwrite });
	const rejects = await RejectsWriter.open(targetPath);
	const row = (id: string | undefined, lang: string, query: string, response: string) => ({
		...(id !== undefined ? { id } : {}),
		lang,
		messages: [
			{ role: "user", content: query },
			{ role: "assistant", content: response },
		],
	});
	const specialTokens = params.specialTokens ?? "error";
	const guarded = guardedSpecialTokens();
	const fields = ["query_en", "response_en", "query_t", "response_t"] as const;
	let rows = 0;
	try {
		for await (const { value } of readJsonl<TranslatedRecord>(params.input, {
			onBadRecord: params.onBadRecord,
			rejects,
			required: [...fields],
			validate: (record) => (record.lang !== undefined && record.lang !== params.lang ? `record language "${String(record.lang)}" is not ${params.lang}` : specialTokens === "error" ? specialTokenProblem(record, fields, guarded) : undefined),
		})) {
			if (specialTokens === "escape") for (const field of fields) value[field] = escapeSpecialTokens(value[field], guarded);
			await english.write(row(value.id, "en", value.query_en, value.response_en));
			await target.write(row(value.id, params.lang, value.query_t, value.response_t));
			rows += 1;
		}
		// No row is no PROM data (issue 16: never exit 0 with nothing useful).
		if (rows === 0) {
			throw new InputError(rejects.count > 0 ? `every record was rejected (${rejects.count}, see ${rejects.path}): nothing was produced` : "the input holds no record: nothing was produced", { file: params.input });
		}
	} catch (error) {
		// This step is not resumable: a failed run leaves no partial files that would block the next one.
		await english.close();
		await target.close();
		await rejects.close();
		await Promise.all([english.partialPath, target.partialPath].map((path) => rm(path, { force: true })));
		throw error;
	}
	const settings: PivotedSettings = {
		pivot_layer: params.pivotLayer,
		label_smoothing: params.labelSmoothing ?? PROM_DEFAULTS.labelSmoothing,
		lambda: params.lambda,
		lang: params.lang,
		source: params.source ?? "configured",
	};
	const counts = { english: await english.finish(), target: await target.finish(), rejected: rejects.count };
	await rejects.close();
	await writeJsonAtomic(join(params.outDir, "settings.json"), settings);
	await writeFileAtomic(join(params.outDir, "RECIPE.md"), RECIPE(settings));
	return { ...counts, settings };
}
