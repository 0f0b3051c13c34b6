# The Python peer of the runtime benchmark (bench/decode.ts): a plain onnxruntime + numpy greedy loop on the same
# model.onnx, as a Python user would write it: left-padded prefill (position_ids = cumsum(mask) - 1, pads at 1, as
# transformers), then one run() per token feeding present.* back as past_key_values.*, argmax in numpy.
# It serves JSON lines on stdin (one request per line) so that the benchmark can interleave it with the runtime
# in the same run; each reply is one JSON line on stdout.
import json
import resource
import sys
import time

import numpy as np
import onnxruntime as ort


def open_session(model, threads):
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def generate(session, layers, kv_heads, head_dim, prompts, new_tokens, pad_id, eos_ids):
    batch = len(prompts)
    width = max(len(p) for p in prompts)
    ids = np.full((batch, width), pad_id, dtype=np.int64)
    mask = np.zeros((batch, width), dtype=np.int64)
    for row, prompt in enumerate(prompts):
        ids[row, width - len(prompt):] = prompt
        mask[row, width - len(prompt):] = 1
    positions = np.cumsum(mask, axis=1) - 1
    positions[mask == 0] = 1
    empty = np.zeros((batch, kv_heads, 0, head_dim), dtype=np.float32)
    past = {f"past_key_values.{i}.{kv}": empty for i in range(layers) for kv in ("key", "value")}
    names = [o.name for o in session.get_outputs()]
    tokens = [[] for _ in range(batch)]
    done = np.zeros(batch, dtype=bool)
    feeds = {"input_ids": ids, "attention_mask": mask, "position_ids": positions, **past}
    for _ in range(new_tokens):
        outputs = dict(zip(names, session.run(None, feeds)))
        following = outputs["logits"][:, -1, :].argmax(axis=-1)
        for row in range(batch):
            if not done[row]:
                if int(following[row]) in eos_ids:
                    done[row] = True
                else:
                    tokens[row].append(int(following[row]))
        if done.all():
            break
        mask = np.concatenate([mask, np.ones((batch, 1), dtype=np.int64)], axis=1)
        feeds = {
            "input_ids": following.reshape(batch, 1).astype(np.int64),
            "attention_mask": mask,
            "position_ids": feeds["position_ids"][:, -1:] + 1,
        }
        for i in range(layers):
            for kv in ("key", "value"):
                feeds[f"past_key_values.{i}.{kv}"] = outputs[f"present.{i}.{kv}"]
    return tokens


def main():
    sessions = {}
    for line in sys.stdin:
        request = json.loads(line)
        key = (request["model"], request.get("threads", 0))
        if key not in sessions:
            sessions[key] = open_session(*key)
        session = sessions[key]
        start = time.perf_counter()
        cpu = time.process_time()
        tokens = generate(session, request["layers"], request["kvHeads"], request["headDim"], request["prompts"],
                          request["newTokens"], request["padId"], set(request["eosIds"]))
        seconds = time.perf_counter() - start
        cpu_seconds = time.process_time() - cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"seconds": seconds, "cpuSeconds": cpu_seconds, "tokens": tokens, "peakRssMiB": peak}), flush=True)


main()
