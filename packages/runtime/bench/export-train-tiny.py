"""Trains a tiny Llama on UDHR text (the fixture tokenizer in <dir>/tokenizer.json, text in <dir>/train.txt) and
saves it with save_pretrained, so that quantization has a model whose perplexity means something.
Prints {shape, steps, finalLoss} as the last line.

Usage: export-train-tiny.py <dir>
"""
import json
import math
import sys

import torch
from tokenizers import Tokenizer
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
torch.set_num_threads(1)
directory = sys.argv[1]
tokenizer = Tokenizer.from_file(f"{directory}/tokenizer.json")
ids = []
for line in open(f"{directory}/train.txt", encoding="utf8").read().split("\n"):
    ids += tokenizer.encode(line).ids
CONTEXT, BATCH, STEPS = 64, 8, 200
data = torch.tensor(ids)
config = LlamaConfig(vocab_size=512, hidden_size=128, intermediate_size=352, num_hidden_layers=4, num_attention_heads=4,
                     num_key_value_heads=2, max_position_embeddings=512, bos_token_id=1, eos_token_id=2,
                     tie_word_embeddings=False)
model = LlamaForCausalLM(config)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1, (s + 1) / 30) * 0.5 * (1 + math.cos(math.pi * s / STEPS)))
losses = []
for step in range(STEPS):
    starts = torch.randint(0, len(data) - CONTEXT - 1, (BATCH,))
    batch = torch.stack([data[s:s + CONTEXT] for s in starts])
    loss = model(input_ids=batch, labels=batch).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    schedule.step()
    optimizer.zero_grad()
    losses.append(loss.item())
model.save_pretrained(directory)
print(json.dumps({"shape": "4 layers, hidden 128, 4 heads / 2 KV heads, intermediate 352, vocab 512 (1.0M parameters)",
                  "steps": STEPS, "tokens": len(ids), "finalLoss": round(sum(losses[-20:]) / len(losses[-20:]), 3)}))
