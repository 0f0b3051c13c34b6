"""Regenerates src/llamafactory-fields.json: every key LLaMA-Factory's HfArgumentParser accepts, read from its hparams
dataclasses (AST only, LLaMA-Factory need not be installed) plus transformers' Seq2SeqTrainingArguments.

    python scripts/update-llamafactory-fields.py <LLaMA-Factory git dir> <transformers wheel> [commit]

The transformers wheel must lie inside LLaMA-Factory's pinned range (pyproject.toml: transformers>=4.55.0,<=5.8.0):
TrainingArguments changes between transformers releases (5.x after 5.8 dropped `warmup_ratio`), and LLaMA-Factory
parses the training keys with the transformers it runs on. Its training_args.py files are read by AST, not imported.
"""

import ast
import json
import subprocess
import sys
import zipfile
from pathlib import Path

FILES = ["model_args", "data_args", "finetuning_args", "generating_args", "training_args", "parser"]


def _no_init(statement):
    """A dataclass field declared with init=False (internal state, not an argument)."""
    call = statement.value
    return isinstance(call, ast.Call) and any(k.arg == "init" and isinstance(k.value, ast.Constant) and k.value.value is False for k in call.keywords)


def git(repo, *args):
    return subprocess.run(["git", "--git-dir", repo, *args], check=True, capture_output=True, text=True).stdout


def main():
    repo, wheel, commit = sys.argv[1], sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else "HEAD")
    commit = git(repo, "rev-parse", commit).strip()
    date = git(repo, "show", "-s", "--format=%cI", commit).strip()
    classes = {}
    for name in FILES:
        tree = ast.parse(git(repo, "show", f"{commit}:src/llamafactory/hparams/{name}.py"))
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                own = [s.target.id for s in node.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name) and not s.target.id.startswith("_")]
                bases = [b.id if isinstance(b, ast.Name) else ast.unparse(b) for b in node.bases]
                classes[node.name] = (own, bases)

    transformers_version = Path(wheel).name.split("-")[1]
    with zipfile.ZipFile(wheel) as archive:
        hf_classes = {}
        for member in ("transformers/training_args.py", "transformers/training_args_seq2seq.py"):
            for node in ast.parse(archive.read(member).decode("utf8")).body:
                if isinstance(node, ast.ClassDef):
                    hf_classes[node.name] = [s.target.id for s in node.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name) and not _no_init(s)]
    hf_training = sorted(set(hf_classes["TrainingArguments"]) | set(hf_classes["Seq2SeqTrainingArguments"]))

    def fields(cls):
        if cls == "BaseTrainingArguments":  # transformers' Seq2SeqTrainingArguments
            return set(hf_training)
        if cls not in classes:
            return set()
        own, bases = classes[cls]
        out = set(own)
        for base in bases:
            out |= fields(base)
        return out

    groups = {
        "model": sorted(fields("ModelArguments")),
        "data": sorted(fields("DataArguments")),
        "finetuning": sorted(fields("FinetuningArguments")),
        "generating": sorted(fields("GeneratingArguments")),
        "training": sorted(fields("TrainingArguments")),
        "ktransformers_runtime": sorted(fields("_KTransformersRuntimeArguments")),
    }
    out = {
        "source": {
            "repository": "hiyouga/LLaMA-Factory",
            "commit": commit,
            "date": date,
            "files": [f"src/llamafactory/hparams/{name}.py" for name in FILES],
            "transformers": transformers_version,
        },
        # parser.py: _TRAIN_ARGS (llamafactory-cli train) and _INFER_ARGS (llamafactory-cli export / chat)
        "train": ["model", "data", "training", "finetuning", "generating"],
        "export": ["model", "data", "finetuning", "generating", "ktransformers_runtime"],
        "groups": groups,
    }
    target = Path(__file__).resolve().parent.parent / "src" / "llamafactory-fields.json"
    target.write_text(json.dumps(out, indent=1) + "\n")
    print(f"{target}: {sum(len(v) for v in groups.values())} fields from {commit[:12]} ({date}), transformers {transformers_version}")


if __name__ == "__main__":
    main()
