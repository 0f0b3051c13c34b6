"""Runs LLaMA-Factory's DPO stage with the exact CLO loss of clo_trainer.py (Eq. 8-12, target-only NLL).

    python train_clo.py clo_<lang>_dpo.yaml [key=value ...]
    torchrun --nproc_per_node <devices> train_clo.py clo_<lang>_dpo.yaml
"""

from llamafactory.train.dpo import workflow

from clo_trainer import llamafactory_clo_trainer

# run_dpo looks CustomDPOTrainer up in its module when it runs, so replacing it here swaps the loss only.
workflow.CustomDPOTrainer = llamafactory_clo_trainer(workflow.CustomDPOTrainer)

if __name__ == "__main__":
    from llamafactory.train.tuner import run_exp

    run_exp()  # reads the YAML given as the first argument, like `llamafactory-cli train`
