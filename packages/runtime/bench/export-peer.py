"""The export peer: what Optimum does for a decoder — transformers from_pretrained in float32, then
torch.onnx.export (TorchScript) with the weights as external data. Optimum is not installable here; this is the
exporter it calls. The graph here has no KV cache inputs (a lower bound on Optimum's with-past export, whose
weights are the same). Prints {seconds, maxRssMiB, ...} as the last line.

Usage: export-peer.py <hf dir> <out dir>
"""
import json
import os
import resource
import sys
import time

started = time.time()
import torch  # noqa: E402
from transformers import AutoModelForCausalLM  # noqa: E402

imported = time.time()
source, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
model = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32).eval()
loaded = time.time()


class Logits(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        return self.model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits


ids = torch.ones(1, 8, dtype=torch.long)
with torch.no_grad():
    torch.onnx.export(Logits(model), (ids, torch.ones(1, 8, dtype=torch.long)), os.path.join(out, "model.onnx"),
                      input_names=["input_ids", "attention_mask"], output_names=["logits"],
                      dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}},
                      opset_version=17, dynamo=False, external_data=True)
done = time.time()
size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
print(json.dumps({
    "peer": f"transformers {__import__('transformers').__version__} from_pretrained(float32) + torch {torch.__version__} torch.onnx.export(dynamo=False, external_data=True)",
    "seconds": round(done - imported, 1), "importSeconds": round(imported - started, 1), "loadSeconds": round(loaded - imported, 1),
    "maxRssMiB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), "outputGiB": round(size / 2**30, 3),
}))
