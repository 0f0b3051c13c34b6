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
Under LLaMA-Factory lam is derived from `pref_ftx` as gamma / (1 + gamma), so the exported pref_ftx = 1.0 gives the
paper's lam = 0.5; the TRL trainer takes lam directly (`clo_lambda`).

LLaMA-Factory (>= 0.9.3):  python train_clo.py clo_<lang>_dpo.yaml   (multi-GPU: torchrun --nproc_per_node N train_clo.py ...)
TRL (>= 1.0):              CLODPOTrainer(model=..., args=DPOConfig(beta=0.1, ...), clo_lambda=0.5, train_dataset=...)
                           or `python transllm_train.py clo` from @transllm/train, which builds it from the settings.
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


def sequence_logps(logits, input_ids, completion_mask):
    """Per-row sum of the completion tokens' log-probabilities and their count (TRL's DPO convention: shift by one)."""
    logps = torch.gather(logits[..., :-1, :].float().log_softmax(-1), 2, input_ids[..., 1:].unsqueeze(-1)).squeeze(-1)
    mask = completion_mask[..., 1:].to(logps.dtype)
    return (logps * mask).sum(-1), mask.sum(-1)


def _trl_trainer():
    import json

    from torch.utils.data import SequentialSampler
    from trl import DPOTrainer

    class CLODPOTrainer(DPOTrainer):
        """TRL's DPOTrainer (TRL >= 1.0) with a sequential sampler and the exact CLO loss, Eq. 8-12.

        TRL 1.x computes the loss in `_compute_loss(model, inputs, return_outputs)`, called by `compute_loss` for
        training and evaluation alike (`get_batch_loss_metrics`, `concatenated_forward` and `rpo_alpha` are gone), so
        that is the method replaced here. lam is CLO's lambda (App. B: 0.5); `clo_log` names a JSONL file that gets,
        per batch, the four log-probability sums of every pair and the loss that ran (an audit trail, and what the
        test compares with @transllm/clo's `cloObjective`).
        """

        def __init__(self, *args, clo_lambda=0.5, clo_log=None, **kwargs):
            super().__init__(*args, **kwargs)
            self.clo_lambda = float(clo_lambda)
            self.clo_log = clo_log

        def _get_train_sampler(self, train_dataset=None):
            return SequentialSampler(train_dataset if train_dataset is not None else self.train_dataset)

        def _compute_loss(self, model, inputs, return_outputs):
            mode = "train" if self.model.training else "eval"
            input_ids, completion_mask = inputs["input_ids"], inputs["completion_mask"]
            rows = input_ids.shape[0] // 2  # the collator stacks [chosen rows; rejected rows]
            answers = [ids[mask.bool()] for ids, mask in zip(input_ids, completion_mask)]
            check_pair_layout(answers[:rows], answers[rows:])
            model_kwargs = {k: v for k, v in inputs.items() if k not in ("completion_mask", "ref_chosen_logps", "ref_rejected_logps")}
            outputs = model(**model_kwargs, use_cache=False)
            logps, tokens = sequence_logps(outputs.logits, input_ids, completion_mask)
            policy_chosen, policy_rejected = logps[:rows], logps[rows:]
            if "ref_chosen_logps" in inputs:
                reference_chosen, reference_rejected = inputs["ref_chosen_logps"], inputs["ref_rejected_logps"]
            else:
                reference_chosen, reference_rejected = self.compute_ref_log_probs(model, inputs)
            chosen_tokens = tokens[:rows].clamp(min=1)
            loss, l_sft, l_cl, z_en, z_t = clo_loss(
                policy_chosen, policy_rejected, reference_chosen, reference_rejected, -policy_chosen / chosen_tokens, beta=self.beta, lam=self.clo_lambda
            )
            for key, value in _metrics("", l_sft, l_cl, z_en, z_t).items():
                self._metrics[mode][key].append(value)
            if self.clo_log and self.accelerator.is_main_process:
                with open(self.clo_log, "a", encoding="utf8") as log:
                    log.write(json.dumps({
                        "mode": mode,
                        "step": self.state.global_step,
                        "beta": self.beta,
                        "lambda": self.clo_lambda,
                        "policy_chosen": policy_chosen.detach().tolist(),
                        "policy_rejected": policy_rejected.detach().tolist(),
                        "reference_chosen": reference_chosen.detach().tolist(),
                        "reference_rejected": reference_rejected.detach().tolist(),
                        "chosen_tokens": tokens[:rows].tolist(),
                        "l_clo": loss.detach().item(),
                    }) + "\n")
            return (loss, outputs) if return_outputs else loss

    return CLODPOTrainer


def __getattr__(name):
    # `from clo_trainer import CLODPOTrainer` imports TRL only when asked for.
    if name == "CLODPOTrainer":
        return _trl_trainer()
    raise AttributeError(name)
