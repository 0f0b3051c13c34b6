/** Model families with a built-in chat template, for models whose tokenizer_config.json carries none. */
export type ChatFamily = "llama-2" | "llama-3" | "chatml" | "mistral" | "gemma";

export interface BuiltinChatTemplate {
	/** A Jinja chat template (rendered by @huggingface/jinja like a model's own `chat_template`). */
	template: string;
	bos_token: string;
	eos_token: string;
}

// Shared prologue: a leading system message is taken out of the turns; the turns must alternate user/assistant.
const SPLIT_SYSTEM =
	"{%- if messages[0]['role'] == 'system' -%}{%- set system = messages[0]['content'] -%}{%- set turns = messages[1:] -%}" +
	"{%- else -%}{%- set system = none -%}{%- set turns = messages -%}{%- endif -%}";
const ALTERNATE =
	"{%- if (m['role'] == 'user') != (loop.index0 % 2 == 0) -%}{{ raise_exception('conversation roles must alternate user/assistant/user/... after an optional system message') }}{%- endif -%}";

/**
 * Templates written from each family's published prompt format (they render what the official templates render;
 * the golden tests pin the exact strings). The system message goes where the family puts it: Llama-2 wraps it in
 * `<<SYS>>` inside the first instruction (`../shared/papers/000_1ce36f3811662daf.txt` App. A.3, Table 12); Mistral and
 * Gemma, which have no system role, prepend it to the first user message with a blank line.
 */
export const BUILTIN_CHAT_TEMPLATES: Record<ChatFamily, BuiltinChatTemplate> = {
	// <s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {assistant} </s><s>[INST] {user} [/INST]
	"llama-2": {
		template:
			SPLIT_SYSTEM +
			"{%- for m in turns -%}" +
			ALTERNATE +
			"{%- if m['role'] == 'user' -%}" +
			"{%- if loop.first and system is not none -%}{%- set text = '<<SYS>>\\n' + system + '\\n<</SYS>>\\n\\n' + m['content'] -%}{%- else -%}{%- set text = m['content'] -%}{%- endif -%}" +
			"{{ bos_token + '[INST] ' + text | trim + ' [/INST]' }}" +
			"{%- else -%}{{ ' ' + m['content'] | trim + ' ' + eos_token }}{%- endif -%}" +
			"{%- endfor -%}",
		bos_token: "<s>",
		eos_token: "</s>",
	},
	// <|begin_of_text|><|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>…<|start_header_id|>assistant<|end_header_id|>\n\n
	"llama-3": {
		template:
			"{{- bos_token -}}" +
			"{%- for m in messages -%}{{ '<|start_header_id|>' + m['role'] + '<|end_header_id|>\\n\\n' + m['content'] | trim + '<|eot_id|>' }}{%- endfor -%}" +
			"{%- if add_generation_prompt -%}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif -%}",
		bos_token: "<|begin_of_text|>",
		eos_token: "<|eot_id|>",
	},
	// <|im_start|>{role}\n{content}<|im_end|>\n…<|im_start|>assistant\n
	chatml: {
		template:
			"{%- for m in messages -%}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{%- endfor -%}" +
			"{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}",
		bos_token: "",
		eos_token: "<|im_end|>",
	},
	// Mistral-7B-Instruct (tokenizer v1): <s>[INST] {user} [/INST]{assistant}</s>[INST] {user} [/INST]
	mistral: {
		template:
			SPLIT_SYSTEM +
			"{{- bos_token -}}" +
			"{%- for m in turns -%}" +
			ALTERNATE +
			"{%- if m['role'] == 'user' -%}" +
			"{%- if loop.first and system is not none -%}{%- set text = system + '\\n\\n' + m['content'] -%}{%- else -%}{%- set text = m['content'] -%}{%- endif -%}" +
			"{{ '[INST] ' + text + ' [/INST]' }}" +
			"{%- else -%}{{ m['content'] + eos_token }}{%- endif -%}" +
			"{%- endfor -%}",
		bos_token: "<s>",
		eos_token: "</s>",
	},
	// <bos><start_of_turn>user\n{content}<end_of_turn>\n<start_of_turn>model\n{content}<end_of_turn>\n…<start_of_turn>model\n
	gemma: {
		template:
			SPLIT_SYSTEM +
			"{{- bos_token -}}" +
			"{%- for m in turns -%}" +
			ALTERNATE +
			"{%- if m['role'] == 'assistant' -%}{%- set role = 'model' -%}{%- else -%}{%- set role = m['role'] -%}{%- endif -%}" +
			"{%- if loop.first and system is not none -%}{%- set prefix = system + '\\n\\n' -%}{%- else -%}{%- set prefix = '' -%}{%- endif -%}" +
			"{{ '<start_of_turn>' + role + '\\n' + prefix + m['content'] | trim + '<end_of_turn>\\n' }}" +
			"{%- endfor -%}" +
			"{%- if add_generation_prompt -%}{{ '<start_of_turn>model\\n' }}{%- endif -%}",
		bos_token: "<bos>",
		eos_token: "<eos>",
	},
};

/** End-of-turn and end-of-sequence texts of these families, which a decoded output may end with. */
export const EOS_TEXTS: readonly string[] = ["</s>", "<|eot_id|>", "<|end_of_text|>", "<|im_end|>", "<|endoftext|>", "<end_of_turn>", "<eos>"];
