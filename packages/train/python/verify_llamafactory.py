"""Parse a transllm training plan's LLaMA-Factory YAMLs with LLaMA-Factory's own argument parser.

`transllm train verify` runs this with the Python that will train. Training YAMLs go through
llamafactory.hparams.get_train_args (the HfArgumentParser that rejects unknown keys, plus LLaMA-Factory's own
checks), merge YAMLs through get_infer_args, as `llamafactory-cli train` / `export` do. Nothing is trained or
loaded: output_dir goes to a temporary directory, and on a machine without CUDA `use_cpu` is set (the YAMLs ask
for bf16 on GPUs, which transformers checks against the hardware). One JSON line per file on stdout.
"""
import json
import sys
import tempfile

import yaml


def main(paths):
    try:
        import llamafactory
        from llamafactory.hparams import get_infer_args, get_train_args
    except Exception as error:  # noqa: BLE001 - the reason goes to the user
        print(json.dumps({"importable": False, "error": f"{type(error).__name__}: {error}"}), flush=True)
        return 2
    import torch
    import transformers

    cuda = torch.cuda.is_available()
    print(json.dumps({"importable": True, "llamafactory": getattr(llamafactory, "__version__", "unknown"), "transformers": transformers.__version__, "cuda": cuda}), flush=True)
    failed = 0
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            args = yaml.safe_load(handle)
        report = {"file": path}
        try:
            if "export_dir" in args:
                model_args, _data, _finetuning, _generating = get_infer_args(dict(args))
                report.update(ok=True, command="export", adapter=model_args.adapter_name_or_path)
            else:
                args["output_dir"] = tempfile.mkdtemp(prefix="transllm-verify-")
                if not cuda:
                    args["use_cpu"] = True
                _model, data, training, finetuning, _generating = get_train_args(dict(args))
                report.update(
                    ok=True,
                    command="train",
                    stage=finetuning.stage,
                    lora_rank=finetuning.lora_rank,
                    lora_alpha=finetuning.lora_alpha,
                    learning_rate=training.learning_rate,
                    warmup=getattr(training, "warmup_ratio", None) or training.warmup_steps,
                    cutoff_len=data.cutoff_len,
                )
        except BaseException as error:  # noqa: BLE001 - LLaMA-Factory raises ValueError, SystemExit, ImportError …
            failed += 1
            report.update(ok=False, error=f"{type(error).__name__}: {error}".strip())
        print(json.dumps(report), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
