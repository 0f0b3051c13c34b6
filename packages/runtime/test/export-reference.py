"""Builds tiny Hugging Face checkpoints with transformers and records their float32 logits and greedy tokens.

Input (stdin, JSON): {"cases": [{"dir", "kind": "llama"|"mistral"|"qwen2", "config": {...}, "dtype": "float32"|"bfloat16",
"shard": "20KB" | null}], "prompts": [text, ...], "max_new_tokens": n}. Each dir already holds tokenizer.json.
Output (stdout, JSON): per case, the prompts' ids, float32 logits of the left-padded batch and greedy tokens per prompt.
"""
import json
import sys

import torch
from tokenizers import Tokenizer
from transformers import (LlamaConfig, LlamaForCausalLM, MistralConfig, MistralForCausalLM, Qwen2Config,
                          Qwen2ForCausalLM)

KINDS = {
    "llama": (LlamaConfig, LlamaForCausalLM),
    "mistral": (MistralConfig, MistralForCausalLM),
    "qwen2": (Qwen2Config, Qwen2ForCausalLM),
}

spec = json.load(sys.stdin)
torch.manual_seed(0)
results = []
for case in spec["cases"]:
    config_class, model_class = KINDS[case["kind"]]
    config = config_class(**case["config"])
    model = model_class(config).eval()
    # transformers' init (std 0.02, zero biases, unit norms) gives near-uniform logits; spread them so that greedy
    # decoding is far from ties and every weight (biases, norm gains) matters.
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if parameter.dim() == 1:
                parameter.copy_((1.0 if "norm" in name else 0.0) + 0.1 * torch.randn_like(parameter))
            else:
                parameter.normal_(0.0, 1.0 if "embed" in name else parameter.shape[1] ** -0.5)
    dtype = getattr(torch, case["dtype"])
    # The checkpoint in its dtype; the reference runs on the same values in float32 (bf16 widens exactly).
    model.to(dtype)
    save = {"max_shard_size": case["shard"]} if case.get("shard") else {}
    model.save_pretrained(case["dir"], **save)
    # The reference is what a user gets: the checkpoint loaded in float32 (bf16 widens exactly; buffers such as
    # the rotary inv_freq are computed afresh, not rounded through bf16).
    model = model_class.from_pretrained(case["dir"], dtype=torch.float32).eval()

    tokenizer = Tokenizer.from_file(f"{case['dir']}/tokenizer.json")
    ids = [tokenizer.encode(p).ids for p in spec["prompts"]]
    width = max(len(i) for i in ids)
    input_ids = torch.tensor([[0] * (width - len(i)) + i for i in ids])
    mask = torch.tensor([[0] * (width - len(i)) + [1] * len(i) for i in ids])
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        logits = model(input_ids=input_ids, attention_mask=mask, position_ids=positions).logits
        greedy = []
        for i in ids:
            out = model.generate(torch.tensor([i]), attention_mask=torch.ones(1, len(i), dtype=torch.long),
                                 max_new_tokens=spec["max_new_tokens"], do_sample=False,
                                 eos_token_id=config.eos_token_id, pad_token_id=0)
            tokens = out[0, len(i):].tolist()
            if config.eos_token_id in tokens:
                tokens = tokens[:tokens.index(config.eos_token_id)]
            greedy.append(tokens)
    results.append({"ids": ids, "width": width, "logits": logits.flatten().tolist(), "greedy": greedy})
json.dump(results, sys.stdout)
