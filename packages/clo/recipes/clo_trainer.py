"""The exact CLO objective for LLaMA-Factory's and TRL's DPO trainers (written by `transllm clo pairs`).

CLO (Cross-Lingual Optimization, ../shared/papers/004_804f498cca6890cb.txt, App. A Eq. 8-12):

    L_CLO = lam * L_SFT + (1 - lam) * L_CL                                   (Eq. 8)
    L_SFT = 1/N sum_i -log pi(y_t | x_t)          -- target-language rows only  (Eq. 9)
    L_CL  = -1/N sum_i [log sigmoid(z_en) + log sigmoid(z_t)]                 (Eq. 10)
    z_en  = beta (log pi/pi_ref (y_en | x_en) - log pi/pi_ref (y_t  | x_en))  (Eq. 11)
    z_t   = beta (log pi/pi_ref (y_t  | x_t)  - log pi/pi_ref (y_en | x_t))   (Eq. 12)

Stock trainers add their NLL term (LLaMA-Factory `pref_ftx`, TRL `rpo_alpha` / the `sft` loss) to EVERY chosen
answer, English rows included; the paper (Sec. 7.2, Table 5) uses the target rows only. The classes below
replace the trainer's loss with Eq. 8-12. They rely on the layout written by `transllm clo pairs`: rows
alternate English (even positions) / target (odd positions), the sampler is sequential and the per-device
batch size is even, so rows 2k and 2k+1 of every batch are one pair. Each batch is checked for this.

L_SFT is the per-token mean NLL of each target answer (what `pref_ftx` uses), averaged over the pairs.
lam is derived from `pref_ftx` (LLaMA-Factory) or `rpo_alpha` (TRL) as gamma / (1 + gamma), so the
exported pref_ftx = 1.0 gives the paper's lam = 0.5.

LLaMA-Factory:  python train_clo.py clo_<lang>_dpo.yaml      (multi-GPU: torchrun --nproc_per_node N train_clo.py ...)
TRL:            CLODPOTrainer(model=..., ref_model=..., args=DPOConfig(beta=0.1, rpo_alpha=1.0, ...), train_dataset=...)
"""

import torch
import torch.nn.functional as F

IGNORE_INDEX = -100
LAYOUT_HINT = (
    "the batch is not in the CLO pair layout (rows 2k and 2k+1 must be an English row and its translation): "
    "keep the file's row order (LLaMA-Factory: disable_shuffling: true; TRL: CLODPOTrainer's sequential sampler), "
    "use an even per-device batch size, and check the file with `transllm clo validate`"
)


def clo_loss(policy_chosen_logps, policy_rejected_logps, reference_chosen_logps, reference_rejected_logps, chosen_nll, beta=0.1, lam=0.5):
    """Eq. 8-12 over one batch of 2N rows; row 2i is pair i's English row, row 2i+1 its target row.

    The *_logps are per-row sums of token log-probabilities; chosen_nll is each row's NLL of its chosen answer.
    Returns (L_CLO, L_SFT, L_CL, z_en, z_t).
    """
    if policy_chosen_logps.shape[0] % 2 != 0:
        raise ValueError(LAYOUT_HINT)
    z = beta * ((policy_chosen_logps - reference_chosen_logps) - (policy_rejected_logps - reference_rejected_logps))
    z_en, z_t = z[0::2], z[1::2]  # Eq. 11, Eq. 12
    l_cl = -(F.logsigmoid(z_en) + F.logsigmoid(z_t)).mean()  # Eq. 10
    l_sft = chosen_nll[1::2].mean()  # Eq. 9: the target rows' NLL only
    return lam * l_sft + (1 - lam) * l_cl, l_sft, l_cl, z_en, z_t  # Eq. 8


def _mirrors(answer_a, answer_b):
    """Whether two token-id rows hold the same answer (compared on their common prefix: truncation may differ)."""
    n = min(answer_a.numel(), answer_b.numel())
    return n == 0 or torch.equal(answer_a[:n], answer_b[:n])


def check_pair_layout(chosen_rows, rejected_rows):
    """chosen_rows/rejected_rows: lists of 1-D answer token-id tensors, one per row of the batch."""
    if len(chosen_rows) % 2 != 0:
        raise ValueError(LAYOUT_HINT)
    for k in range(0, len(chosen_rows), 2):
        if not (_mirrors(chosen_rows[k], rejected_rows[k + 1]) and _mirrors(chosen_rows[k + 1], rejected_rows[k])):
            raise ValueError(f"{LAYOUT_HINT} (rows {k} and {k + 1} are not one pair)")


def _metrics(prefix, l_sft, l_cl, z_en, z_t):
    return {
        f"{prefix}clo/l_sft": l_sft.detach().item(),
        f"{prefix}clo/l_cl": l_cl.detach().item(),
        f"{prefix}clo/z_en": z_en.detach().mean().item(),
        f"{prefix}clo/z_t": z_t.detach().mean().item(),
        f"{prefix}rewards/accuracies": torch.cat([z_en > 0, z_t > 0]).float().mean().item(),
    }


def llamafactory_clo_trainer(base):
    """Subclasses LLaMA-Factory's CustomDPOTrainer (stage dpo, pref_loss sigmoid) with the exact CLO loss."""

    class CLOTrainer(base):
        def get_batch_loss_metrics(self, model, batch, train_eval="train"):
            labels = batch["labels"]  # chosen rows first, then the rejected rows (PairwiseDataCollatorWithPadding)
            rows = labels.shape[0] // 2
            answers = [row[row != IGNORE_INDEX] for row in labels]
            check_pair_layout(answers[:rows], answers[rows:])
            outputs = self.concatenated_forward(model, batch)
            if isinstance(outputs, dict):  # newer LLaMA-Factory releases
                policy_chosen_logps, policy_rejected_logps = outputs["chosen_logps"], outputs["rejected_logps"]
                policy_chosen_logps_avg = outputs["chosen_logps_avg"]
            else:  # earlier releases return a tuple ending with the per-token average
                policy_chosen_logps, policy_rejected_logps, policy_chosen_logps_avg = outputs[0], outputs[1], outputs[-1]
            reference_chosen_logps, reference_rejected_logps = self.compute_reference_log_probs(model, batch)
            gamma = float(self.finetuning_args.pref_ftx)
            loss, l_sft, l_cl, z_en, z_t = clo_loss(
                policy_chosen_logps,
                policy_rejected_logps,
                reference_chosen_logps,
                reference_rejected_logps,
                -policy_chosen_logps_avg,
                beta=self.beta,
                lam=gamma / (1.0 + gamma),
            )
            return loss, _metrics("eval_" if train_eval == "eval" else "", l_sft, l_cl, z_en, z_t)

    return CLOTrainer


def _trl_trainer():
    from torch.utils.data import SequentialSampler
    from trl import DPOTrainer

    class CLODPOTrainer(DPOTrainer):
        """TRL's DPOTrainer (concatenated_forward / compute_ref_log_probs API) with a sequential sampler and Eq. 8-12."""

        def _get_train_sampler(self, train_dataset=None):
            return SequentialSampler(train_dataset if train_dataset is not None else self.train_dataset)

        def get_batch_loss_metrics(self, model, batch, train_eval="train"):
            chosen = [ids[mask.bool()] for ids, mask in zip(batch["chosen_input_ids"], batch["chosen_attention_mask"])]
            rejected = [ids[mask.bool()] for ids, mask in zip(batch["rejected_input_ids"], batch["rejected_attention_mask"])]
            check_pair_layout(chosen, rejected)
            outputs = self.concatenated_forward(model, batch)
            if "ref_chosen_logps" in batch:
                reference_chosen_logps, reference_rejected_logps = batch["ref_chosen_logps"], batch["ref_rejected_logps"]
            else:
                reference_chosen_logps, reference_rejected_logps = self.compute_ref_log_probs(batch)
            tokens = batch["chosen_attention_mask"].sum(-1).clamp(min=1)
            gamma = float(self.args.rpo_alpha if self.args.rpo_alpha is not None else 1.0)
            loss, l_sft, l_cl, z_en, z_t = clo_loss(
                outputs["chosen_logps"],
                outputs["rejected_logps"],
                reference_chosen_logps,
                reference_rejected_logps,
                -outputs["chosen_logps"] / tokens,
                beta=self.beta,
                lam=gamma / (1.0 + gamma),
            )
            return loss, _metrics("eval_" if train_eval == "eval" else "", l_sft, l_cl, z_en, z_t)

    return CLODPOTrainer


def __getattr__(name):
    # `from clo_trainer import CLODPOTrainer` imports TRL only when asked for.
    if name == "CLODPOTrainer":
        return _trl_trainer()
    raise AttributeError(name)
