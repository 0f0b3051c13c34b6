#!/usr/bin/env bash
# The Python reference (torch CPU, transformers, peft, trl, sacrebleu …) for training, parity and scoring tests.
bash scripts/setup-python.sh
