"""TransLLM training with TRL + PEFT, from the settings.json that `transllm train plan` writes (@transllm/train).

    python transllm_train.py --settings settings.json check
    python transllm_train.py --settings settings.json target_pretraining translation_pretraining transfer_finetuning merge
    python transllm_train.py --settings settings.json clo clo_merge      # the CLO option, exact loss (Eq. 8-12)
    python transllm_train.py --settings settings.json prom prom_merge    # the PROM option, pivoted objective (Eq. 3)
    accelerate launch --config_file <yours> transllm_train.py --settings settings.json ...   # many GPUs (ZeRO-2)

Stages (../shared/papers/000_1ce36f3811662daf.txt Sec. 2.2, App. A.1-A.2): every stage trains LoRA r 64, alpha 128,
dropout 0.05 on q,k,v,o,gate,up,down, and embed_tokens/lm_head in full as PEFT `modules_to_save` (what LLaMA-Factory's
`additional_target` does, so both engines produce the same adapter and merge). Stage 2 continues stage 1's adapter,
stage 3 stage 2's; the adapter is merged only after stage 3 (Sec. 2.2.3). No stage resizes the embeddings: `check`
refuses a checkpoint whose rows do not cover the tokenizer, and `merge` refuses an adapter of another size.
Tested with TRL 1.13, transformers 5.18, PEFT 0.21.
"""

import argparse
import copy
import dataclasses
import json
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model", "chat_template.jinja"]


def log(message):
    print(f"[transllm-train] {message}", flush=True)


def read_jsonl(path):
    rows = []
    with open(path, encoding="utf8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as error:
                    sys.exit(f"{path}:{number}: not JSON: {error}")
    return rows


# --- data: the row layouts transllm writes (see src/data-files.ts) ---------------------------------------------------

SHAREGPT_ROLES = {"human": "user", "gpt": "assistant", "system": "system", "user": "user", "assistant": "assistant"}


def conversation(row, where):
    """A row as chat messages: sharegpt `conversations`, TRL `messages` or alpaca instruction/input/output."""
    if "conversations" in row:
        return [{"role": SHAREGPT_ROLES[m["from"]], "content": m["value"]} for m in row["conversations"]]
    if "messages" in row:
        return [{"role": m["role"], "content": m["content"]} for m in row["messages"]]
    if "instruction" in row and "output" in row:
        query = row["instruction"] + (f"\n{row['input']}" if row.get("input") else "")
        return [{"role": "user", "content": query}, {"role": "assistant", "content": row["output"]}]
    sys.exit(f"{where}: not a chat row (conversations, messages or instruction/output)")


def prompt_completion(row, system, where):
    """Conversational prompt/completion: TRL's SFTTrainer then trains on the last assistant turn only."""
    messages = conversation(row, where)
    if not messages or messages[-1]["role"] != "assistant":
        sys.exit(f"{where}: the last message must be the assistant's answer")
    if system is not None and messages[0]["role"] != "system":
        messages = [{"role": "system", "content": system}] + messages
    return {"prompt": messages[:-1], "completion": messages[-1:]}


def preference(row, where):
    """Conversational preference row from LLaMA-Factory pairwise or TRL standard rows (clo pairs)."""
    if "instruction" in row:
        prompt = row["instruction"] + (f"\n{row['input']}" if row.get("input") else "")
    elif isinstance(row.get("prompt"), str):
        prompt = row["prompt"]
    else:
        sys.exit(f"{where}: not a preference row (instruction/chosen/rejected or prompt/chosen/rejected)")
    return {
        "prompt": [{"role": "user", "content": prompt}],
        "chosen": [{"role": "assistant", "content": row["chosen"]}],
        "rejected": [{"role": "assistant", "content": row["rejected"]}],
    }


def load_rows(entries, convert):
    from datasets import Dataset

    rows = []
    for entry in entries:
        for index, row in enumerate(read_jsonl(entry["file"])):
            rows.append(convert(row, f"{entry['file']}:{index + 1}"))
    return Dataset.from_list(rows) if rows else None


# --- vocabulary ------------------------------------------------------------------------------------------------------


def embedding_rows(model_dir):
    """Rows of embed_tokens and lm_head, read from the safetensors headers (no weights loaded)."""
    from safetensors import safe_open

    index = Path(model_dir) / "model.safetensors.index.json"
    files = sorted(set(json.loads(index.read_text())["weight_map"].values())) if index.exists() else ["model.safetensors"]
    rows = {}
    for name in files:
        with safe_open(str(Path(model_dir) / name), framework="pt") as handle:
            for key in handle.keys():
                if key.endswith("embed_tokens.weight") or key.endswith("lm_head.weight"):
                    rows[key.rsplit(".", 2)[-2]] = handle.get_slice(key).get_shape()[0]
    return rows.get("embed_tokens"), rows.get("lm_head", rows.get("embed_tokens"))


def check_vocabulary(model_dir, special_tokens):
    """The precondition of every stage and the merge: nothing will ever resize the embeddings."""
    from transformers import AutoConfig, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    config = AutoConfig.from_pretrained(model_dir)
    embed, head = embedding_rows(model_dir)
    problems = []
    if embed is None:
        problems.append("no embed_tokens.weight in the safetensors")
    if config.vocab_size != embed or head != embed:
        problems.append(f"config.json vocab_size {config.vocab_size}, embed_tokens {embed} rows, lm_head {head} rows: they must agree")
    if embed is not None and len(tokenizer) > embed:
        problems.append(f"the tokenizer has {len(tokenizer)} tokens but the embeddings {embed} rows: run `transllm tokenizer resize-embeddings` first")
    vocab = tokenizer.get_vocab()
    missing = [t for t in special_tokens if t not in vocab]
    if missing:
        problems.append(f"the tokenizer lacks the special tokens {', '.join(missing)}: extend it with them (`transllm tokenizer extend`)")
    klass = json.loads((Path(model_dir) / "tokenizer_config.json").read_text()).get("tokenizer_class", "") if (Path(model_dir) / "tokenizer_config.json").exists() else ""
    if klass.startswith("LlamaTokenizer"):
        problems.append(f"tokenizer_config.json says {klass}: set PreTrainedTokenizerFast so transformers keeps tokenizer.json's normalizer")
    return {"tokenizer": len(tokenizer), "rows": embed, "problems": problems}


# --- trainers --------------------------------------------------------------------------------------------------------


def training_kwargs(config_class, stage, settings, has_eval):
    """TrainingArguments from the paper's hyper-parameters (App. A.2) of one stage."""
    import torch

    hp = stage["hyperparameters"]
    fields = {f.name for f in dataclasses.fields(config_class)}
    bf16 = bool(hp["bf16"])
    if bf16 and not (torch.cuda.is_available() and torch.cuda.is_bf16_supported()):
        log("bf16 needs a GPU that supports it: training in float32 here")
        bf16 = False
    kwargs = dict(
        output_dir=stage["output_dir"],
        learning_rate=hp["learning_rate"],
        weight_decay=hp["weight_decay"],
        num_train_epochs=hp["num_train_epochs"],
        max_steps=hp.get("max_steps") or -1,
        lr_scheduler_type=hp["lr_scheduler_type"],
        lr_scheduler_kwargs=hp.get("lr_scheduler_kwargs") or {},
        per_device_train_batch_size=hp["per_device_train_batch_size"],
        gradient_accumulation_steps=hp["gradient_accumulation_steps"],
        logging_steps=hp["logging_steps"],
        save_steps=hp["eval_steps"] if has_eval and hp.get("eval_steps") else hp["save_steps"],
        save_strategy="steps",
        bf16=bf16,
        report_to="none",
        seed=settings.get("seed", 42),
        max_length=hp["cutoff_len"],
    )
    # transformers >= 5 (after 5.8) dropped warmup_ratio: there a float warmup_steps < 1 is the ratio.
    if "warmup_ratio" in fields:
        kwargs["warmup_ratio"] = hp["warmup_ratio"]
    else:
        kwargs["warmup_steps"] = float(hp["warmup_ratio"])
    if has_eval:
        kwargs.update(
            eval_strategy="steps",
            eval_steps=hp["eval_steps"],
            per_device_eval_batch_size=hp["per_device_train_batch_size"],
            load_best_model_at_end=True,
            metric_for_best_model="eval_loss",
            greater_is_better=False,
        )
    if settings.get("deepspeed") and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        kwargs["deepspeed"] = settings["deepspeed"]  # ZeRO-2 (App. A.2) under accelerate/torchrun
    return kwargs


def lora_config(settings, target_modules=None, modules_to_save=None):
    from peft import LoraConfig

    lora = settings["lora"]
    return LoraConfig(
        r=lora["r"],
        lora_alpha=lora["alpha"],
        lora_dropout=lora["dropout"],
        target_modules=target_modules or lora["target_modules"],
        modules_to_save=lora["modules_to_save"] if modules_to_save is None else modules_to_save,
        task_type="CAUSAL_LM",
    )


def load_base(path):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(path, dtype="auto")


def new_adapter(base, settings):
    """A new LoRA adapter, its random initialisation (lora_A) drawn after seeding, so two runs of a plan start alike
    (the Trainer seeds only later, when the adapter already exists)."""
    from peft import get_peft_model
    from transformers import set_seed

    set_seed(settings.get("seed", 42))
    return get_peft_model(base, lora_config(settings))


def trainable_model(stage, settings):
    """The stage's model: a new LoRA adapter, or the previous stage's adapter trained further."""
    from peft import PeftModel

    base = load_base(stage["model"])
    if stage.get("adapter"):
        log(f"continuing the adapter {stage['adapter']}")
        return PeftModel.from_pretrained(base, stage["adapter"], is_trainable=True)
    return new_adapter(base, settings)


def finish(trainer, stage):
    trainer.save_model(stage["output_dir"])
    Path(stage["output_dir"], "log_history.json").write_text(json.dumps(trainer.state.log_history, indent=1))
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    if losses:
        log(f"{stage['name']}: loss {losses[0]:.4f} -> {losses[-1]:.4f} over {trainer.state.global_step} steps")


def sequential(trainer_class):
    """A trainer that keeps the file's row order (pair layouts: CLO, PROM)."""
    from torch.utils.data import SequentialSampler

    class Sequential(trainer_class):
        def _get_train_sampler(self, train_dataset=None):
            return SequentialSampler(train_dataset if train_dataset is not None else self.train_dataset)

    return Sequential


def run_pretraining(stage, settings, tokenizer):
    """Stages 1-2: next-token prediction on plain text (LLaMA-Factory `stage: pt`)."""
    from trl import SFTConfig, SFTTrainer

    train = load_rows(stage["train"], lambda row, where: {"text": row["text"]} if "text" in row else sys.exit(f"{where}: no text field"))
    evaluation = None
    val_size = stage["hyperparameters"].get("val_size")
    if val_size and len(train) > 1:
        split = train.train_test_split(test_size=max(1, round(len(train) * val_size)), seed=settings.get("seed", 42))
        train, evaluation = split["train"], split["test"]
    args = SFTConfig(dataset_text_field="text", packing=False, **training_kwargs(SFTConfig, stage, settings, evaluation is not None))
    trainer = SFTTrainer(model=trainable_model(stage, settings), args=args, train_dataset=train, eval_dataset=evaluation, processing_class=tokenizer)
    trainer.train()
    finish(trainer, stage)


def run_finetuning(stage, settings, tokenizer):
    """Stage 3: SFT on the TCOT / recovery-KD / translation mix, loss on the answers, validation on the held-out split."""
    from trl import SFTConfig, SFTTrainer

    system = settings.get("system_prompt")
    train = load_rows(stage["train"], lambda row, where: prompt_completion(row, system, where))
    evaluation = load_rows(stage.get("validation") or [], lambda row, where: prompt_completion(row, system, where))
    args = SFTConfig(**training_kwargs(SFTConfig, stage, settings, evaluation is not None))
    trainer = SFTTrainer(model=trainable_model(stage, settings), args=args, train_dataset=train, eval_dataset=evaluation, processing_class=tokenizer)
    trainer.train()
    finish(trainer, stage)


def run_clo(stage, settings, tokenizer):
    """The CLO option: DPO on the pairs of `transllm clo pairs` with the exact loss of Eq. 8-12 (clo_trainer.py)."""
    from trl import DPOConfig

    sys.path.insert(0, str(HERE))
    from clo_trainer import CLODPOTrainer

    clo = settings["clo"]
    hp = stage["hyperparameters"]
    if hp["per_device_train_batch_size"] % 2:
        sys.exit("CLO needs an even per-device batch size: rows 2k and 2k+1 are one English/target pair")
    train = load_rows(stage["train"], preference)
    evaluation = load_rows(stage.get("validation") or [], preference)
    args = DPOConfig(beta=clo["beta"], **training_kwargs(DPOConfig, stage, settings, evaluation is not None))
    Path(stage["output_dir"]).mkdir(parents=True, exist_ok=True)
    clo_log = Path(stage["output_dir"], "clo_log.jsonl")
    clo_log.unlink(missing_ok=True)
    trainer = CLODPOTrainer(
        model=load_base(stage["model"]),
        args=args,
        train_dataset=train,
        eval_dataset=evaluation,
        processing_class=tokenizer,
        # CLO Sec. 3.2 trains the attention layers only; rank etc. as TransLLM (CLO names none).
        peft_config=lora_config(settings, target_modules=clo["target_modules"], modules_to_save=[]),
        clo_lambda=clo["lambda"],
        clo_log=str(clo_log),
    )
    trainer.train()
    finish(trainer, stage)


def decoder_layers(model):
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return base.model.layers


def pivot_hidden(model, n, input_ids, attention_mask):
    """h_n, the output of decoder layer n (1-based) before any final norm, and the model's outputs, in one forward.

    transformers' `hidden_states[L]` is already normalised by the final norm, so for n = L the pivot head would
    normalise twice (PROM's RECIPE.md, fixed); a hook on the layer is right for every n.
    """
    captured = {}
    hook = decoder_layers(model)[n - 1].register_forward_hook(lambda _m, _i, out: captured.update(h=out[0] if isinstance(out, tuple) else out))
    try:
        outputs = model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
    finally:
        hook.remove()
    return captured["h"], outputs


def prom_trainer_class():
    import torch
    import torch.nn.functional as F
    from trl import SFTTrainer

    class PROMTrainer(sequential(SFTTrainer)):
        """PROM's pivoted objective (003_1fd9d4be5b8f566c.txt Eq. 3): L = lam * L_{n,e} + L_{N,t}.

        Rows 2k are target-language rows (final-layer cross-entropy, L_{N,t}), rows 2k+1 English rows (h_n through a
        second LM head with label smoothing alpha, L_{n,e}). The second head (a copy of the final norm and lm_head,
        trainable; PROM does not say how it starts) is attached to the model so the optimizer trains it; it is not
        part of the saved adapter.
        """

        def __init__(self, *args, pivot_layer, label_smoothing, lam, **kwargs):
            super().__init__(*args, **kwargs)
            self.pivot_layer, self.label_smoothing, self.lam = pivot_layer, label_smoothing, lam

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            input_ids, labels = inputs["input_ids"], inputs["labels"]
            if input_ids.shape[0] % 2:
                raise ValueError("PROM batches alternate target/English rows: use an even per-device batch size")
            h, outputs = pivot_hidden(model, self.pivot_layer, input_ids, inputs["attention_mask"])
            target_logits = outputs.logits[0::2, :-1].float()
            loss_t = F.cross_entropy(target_logits.flatten(0, 1), labels[0::2, 1:].flatten(), ignore_index=-100)
            base = model.get_base_model() if hasattr(model, "get_base_model") else model
            pivot = base.prom_pivot
            pivot_logits = pivot["head"](pivot["norm"](h[1::2]))[:, :-1].float()
            loss_e = F.cross_entropy(pivot_logits.flatten(0, 1), labels[1::2, 1:].flatten(), ignore_index=-100, label_smoothing=self.label_smoothing)
            loss = self.lam * loss_e + loss_t
            mode = "train" if model.training else "eval"
            self._metrics[mode]["prom/loss_t"].append(loss_t.detach().item())
            self._metrics[mode]["prom/loss_e"].append(loss_e.detach().item())
            return (loss, outputs) if return_outputs else loss

    return PROMTrainer


def run_prom(stage, settings, tokenizer):
    """The PROM option on the merged model: target rows and their English originals, alternating."""
    import torch
    from trl import SFTConfig, SFTTrainer

    prom = settings["prom"]
    system = settings.get("system_prompt")
    target = [prompt_completion(row, system, f"{e['file']}:{i + 1}") for e in stage["train"] for i, row in enumerate(read_jsonl(e["file"]))]
    base = load_base(stage["model"])
    if prom["lambda"] == 0:  # PROM Sec. 2.3: no English pivot, L = L_{N,t}
        from datasets import Dataset

        args = SFTConfig(**training_kwargs(SFTConfig, stage, settings, False))
        trainer = SFTTrainer(model=new_adapter(base, settings), args=args, train_dataset=Dataset.from_list(target), processing_class=tokenizer)
    else:
        from datasets import Dataset

        english = [prompt_completion(row, system, f"{path}:{i + 1}") for path in prom["english"] for i, row in enumerate(read_jsonl(path))]
        if len(english) != len(target):
            sys.exit(f"PROM pairs each target row with its English original: {len(target)} target rows, {len(english)} English rows")
        if stage["hyperparameters"]["per_device_train_batch_size"] % 2:
            sys.exit("PROM batches alternate target/English rows: use an even per-device batch size")
        rows = [row for pair in zip(target, english) for row in pair]
        n = prom["pivot_layer"]
        if not 1 <= n <= base.config.num_hidden_layers:
            sys.exit(f"pivot layer {n} is outside 1..{base.config.num_hidden_layers}")
        pivot = torch.nn.ModuleDict({"norm": copy.deepcopy(base.model.norm), "head": copy.deepcopy(base.lm_head)})
        model = new_adapter(base, settings)
        model.get_base_model().prom_pivot = pivot
        for parameter in pivot.parameters():
            parameter.requires_grad_(True)
        args = SFTConfig(shuffle_dataset=False, **training_kwargs(SFTConfig, stage, settings, False))
        trainer = prom_trainer_class()(
            model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer, pivot_layer=n, label_smoothing=prom["label_smoothing"], lam=prom["lambda"]
        )
    trainer.train()
    if hasattr(trainer.model.get_base_model(), "prom_pivot"):
        del trainer.model.get_base_model().prom_pivot  # training-only head, not part of the adapter
    finish(trainer, stage)


def run_merge(stage, settings):
    """Merges the adapter into the checkpoint it was trained on; embed_tokens/lm_head keep the checkpoint's rows."""
    from peft import PeftModel
    from safetensors import safe_open

    adapter = Path(stage["adapter"])
    rows, _ = embedding_rows(stage["model"])
    adapter_file = adapter / "adapter_model.safetensors"
    with safe_open(str(adapter_file), framework="pt") as handle:
        for key in handle.keys():
            if key.endswith("embed_tokens.weight") or key.endswith("lm_head.weight"):
                size = handle.get_slice(key).get_shape()[0]
                if size != rows:
                    sys.exit(f"{adapter_file}: {key} has {size} rows but {stage['model']} has {rows}: the adapter was trained on another vocabulary size")
    model = PeftModel.from_pretrained(load_base(stage["model"]), str(adapter)).merge_and_unload()
    out = Path(stage["output_dir"])
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    # The tokenizer files are copied byte for byte: a re-saved tokenizer could change tokenizer_class or the normalizer.
    for name in TOKENIZER_FILES:
        if (Path(stage["model"]) / name).exists():
            shutil.copyfile(Path(stage["model"]) / name, out / name)
    log(f"merged {adapter} into {out}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--settings", required=True, help="settings.json written by `transllm train plan`")
    parser.add_argument("stages", nargs="+", help="check, target_pretraining, translation_pretraining, transfer_finetuning, merge, clo, clo_merge, prom, prom_merge")
    args = parser.parse_args()
    settings = json.loads(Path(args.settings).read_text())
    by_name = {stage["name"]: stage for stage in settings["stages"]}
    for name in args.stages:
        if name != "check" and name not in by_name:
            sys.exit(f"{args.settings}: no stage {name!r} in this plan (stages: {', '.join(by_name)})")
    from transformers import AutoTokenizer

    for name in args.stages:
        stage = by_name.get(name)
        model_dir = stage["model"] if stage else settings["model"]
        if name == "check" or not name.endswith("merge"):
            report = check_vocabulary(model_dir, settings["special_tokens"])
            if report["problems"]:
                sys.exit(f"{model_dir}: the vocabulary does not agree:\n- " + "\n- ".join(report["problems"]))
            log(f"{model_dir}: {report['tokenizer']} tokens, {report['rows']} embedding rows: no stage will resize")
        if name == "check":
            continue
        log(f"stage {name} -> {stage['output_dir']}")
        if name.endswith("merge"):
            run_merge(stage, settings)
            continue
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.unk_token or tokenizer.eos_token  # App. A.2 pads with <PAD>/unk, never a new token
        {"target_pretraining": run_pretraining, "translation_pretraining": run_pretraining, "transfer_finetuning": run_finetuning, "clo": run_clo, "prom": run_prom}[name](stage, settings, tokenizer)


if __name__ == "__main__":
    main()
