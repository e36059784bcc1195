"""PyTorch side of ``benchmarks/train_step.py``: HF transformers on real PyTorch.

Not run by hand: ``train_step.py`` starts it with the python of its own PyTorch venv
(mindnlp replaces ``torch`` in msgpt's process, so real PyTorch needs a process of its
own) and drives it over stdin/stdout, one JSON line per command, so that the two sides
take turns round by round and share whatever load the machine has.

    <torch-venv>/bin/python benchmarks/_torch_baseline.py WORKDIR

WORKDIR holds ``spec.json`` (model config, learning rate, threads), ``batch.npz`` (the
batch) and ``weights.safetensors`` (msgpt's initial weights). Commands:

* ``{"cmd": "logits"}``: eval-mode logits of the batch (checks both sides hold the same model);
* ``{"cmd": "round"}``: one timed round, the same phases in the same order as msgpt's
  (see ``train_step.py``); answers the seconds of each phase;
* ``{"cmd": "quit"}``.

The step is plain PyTorch: ``model(**batch).loss``, ``loss.backward()``,
``torch.nn.utils.clip_grad_norm_(params, 1.0)``, ``torch.optim.AdamW`` (weight decay
0.01 on weights, none on biases and LayerNorm, as HF's Trainer groups them),
``zero_grad``. Dropout as in the config (train mode), eval mode for inference.
"""

from __future__ import annotations

import json
import os
import sys
import time

from _memory import peak_rss_mb  # beside this script


def main(workdir: str) -> int:
    # Answers go to the real stdout; anything a library prints goes to stderr instead.
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)

    import numpy as np
    import torch
    import transformers
    from safetensors.torch import load_file
    from transformers import OpenAIGPTConfig, OpenAIGPTForSequenceClassification

    with open(os.path.join(workdir, "spec.json")) as handle:
        spec = json.load(handle)
    if spec.get("threads"):
        torch.set_num_threads(int(spec["threads"]))
    torch.manual_seed(spec.get("seed", 0))

    config = OpenAIGPTConfig(**spec["config"])
    model = OpenAIGPTForSequenceClassification(config)
    weights = load_file(os.path.join(workdir, "weights.safetensors"))
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if missing or unexpected:
        raise RuntimeError(f"weights do not fit: missing {missing}, unexpected {unexpected}")

    arrays = np.load(os.path.join(workdir, "batch.npz"))
    batch = {name: torch.from_numpy(arrays[name].astype(np.int64)) for name in arrays.files}

    decay = [p for n, p in model.named_parameters() if "bias" not in n and "ln_" not in n]
    no_decay = [p for n, p in model.named_parameters() if "bias" in n or "ln_" in n]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
        lr=spec["learning_rate"],
    )
    params = [p for p in model.parameters() if p.requires_grad]
    probe = model.score.weight

    def one_round() -> dict[str, float]:
        model.train()
        start = time.perf_counter()
        loss = model(**batch).loss
        float(loss.detach())
        forward = time.perf_counter() - start
        del loss

        start = time.perf_counter()
        loss = model(**batch).loss
        loss.backward()
        float(loss.detach())
        t_fb = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad()
        float(probe[0, 0].detach())
        end = time.perf_counter()

        model.eval()
        with torch.no_grad():
            t_inf = time.perf_counter()
            logits = model(**batch).logits
            float(logits[0, 0])
            infer = time.perf_counter() - t_inf
        model.train()
        return {
            "forward": forward,
            "forward_backward": t_fb - start,
            "optimizer": end - t_fb,
            "step": end - start,
            "inference": infer,
            "loss": float(loss.detach()),
        }

    def answer(payload: dict) -> None:
        answers.write(json.dumps(payload) + "\n")
        answers.flush()

    answer({
        "ready": True,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "threads": torch.get_num_threads(),
        "parameters": sum(p.numel() for p in params),
        "peak_rss_mb": peak_rss_mb(),
    })
    for line in sys.stdin:
        command = json.loads(line)["cmd"]
        if command == "quit":
            break
        if command == "logits":
            model.eval()
            with torch.no_grad():
                logits = model(**batch).logits
            model.train()
            answer({"logits": logits.tolist()})
        elif command == "round":
            answer(one_round())
        elif command == "memory":
            answer({"peak_rss_mb": peak_rss_mb()})
        else:
            answer({"error": f"unknown command {command!r}"})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
