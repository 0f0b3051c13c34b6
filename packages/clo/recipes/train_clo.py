"""Runs LLaMA-Factory's DPO stage with the exact CLO loss of clo_trainer.py (Eq. 8-12, target-only NLL).

    python train_clo.py clo_<lang>_dpo.yaml [key=value ...]
    torchrun --nproc_per_node <devices> train_clo.py clo_<lang>_dpo.yaml
"""

from llamafactory.train.dpo import trainer, workflow

from clo_trainer import llamafactory_clo_trainer

# LLaMA-Factory >= 0.9.4 imports CustomDPOTrainer inside run_dpo (`from .trainer import CustomDPOTrainer`), so the
# class must be replaced in llamafactory.train.dpo.trainer; 0.9.3 imported it into workflow at module load.
CLOTrainer = llamafactory_clo_trainer(trainer.CustomDPOTrainer)
trainer.CustomDPOTrainer = CLOTrainer
if hasattr(workflow, "CustomDPOTrainer"):
    workflow.CustomDPOTrainer = CLOTrainer

if __name__ == "__main__":
    from llamafactory.train.tuner import run_exp

    run_exp()  # reads the YAML given as the first argument, like `llamafactory-cli train`
