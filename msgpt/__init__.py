"""msgpt: fine-tune OpenAI GPT-1 for text classification with MindSpore + mindnlp.

Choose the device first (mindtorch reads it once, at import), then use the helpers::

    import msgpt
    msgpt.select_device("Ascend")          # or "GPU", "CPU"; default: $DEVICE_TARGET, else best
    tokenizer = msgpt.load_tokenizer("openai-gpt")        # adds <bos>, <eos>, <pad>
    model = msgpt.load_model("openai-gpt", tokenizer, num_labels=2)
    ids = msgpt.encode_for_classification(tokenizer, "A fine film.", max_length=512)

The paper's other inputs (sec. 3.3): ``task="pair"``, ``"similarity"`` or ``"choice"``::

    tokenizer = msgpt.load_tokenizer("openai-gpt", delimiter=True)  # + <delim>, the paper's $
    model = msgpt.load_model("openai-gpt", tokenizer, num_labels=2, task="similarity")
    pairs = msgpt.encode_similarity_batch(tokenizer, ["A man sleeps."], ["A person rests."], 128)

Under ``msrun`` (data parallel), call ``msgpt.init_distributed()`` before all of this.

Names are imported lazily, so ``import msgpt`` and ``msgpt.select_device`` do not start
mindnlp (whose import fixes the device).
"""

from __future__ import annotations

from msgpt._lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    # device
    "select_device": "msgpt.device",
    "resolve_device": "msgpt.device",
    "current_device": "msgpt.device",
    "available_devices": "msgpt.device",
    "needs_static_shapes": "msgpt.device",
    "yield_to_kernel_threads": "msgpt.device",
    # data parallel (msrun)
    "init_distributed": "msgpt.distributed",
    "distributed_info": "msgpt.distributed",
    "DistributedInfo": "msgpt.distributed",
    "is_main_process": "msgpt.distributed",
    # tokenizer
    "load_tokenizer": "msgpt.tokenizer",
    "add_special_tokens": "msgpt.tokenizer",
    "encode_for_classification": "msgpt.tokenizer",
    "encode_batch": "msgpt.tokenizer",
    "SPECIAL_TOKENS": "msgpt.tokenizer",
    "DELIMITER": "msgpt.tokenizer",
    "TASKS": "msgpt.trained",
    "needs_delimiter": "msgpt.tokenizer",
    "delimiter_id": "msgpt.tokenizer",
    "encode_pair_batch": "msgpt.task_inputs",
    "encode_similarity_batch": "msgpt.task_inputs",
    "encode_choice_batch": "msgpt.task_inputs",
    "encode_inputs": "msgpt.task_inputs",
    "train_bpe_tokenizer": "msgpt.bpe",
    "learn_tokenizer": "msgpt.tokenizer",
    # model
    "load_model": "msgpt.model",
    "build_model": "msgpt.model",
    "prepare_model": "msgpt.model",
    "small_gpt_config": "msgpt.model",
    "check_max_length": "msgpt.model",
    "save_pretrained": "msgpt.model",
    "load_pretrained": "msgpt.model",
    "model_class": "msgpt.model",
    "OpenAIGPTForSimilarity": "msgpt.task_models",
    "OpenAIGPTForMultipleChoice": "msgpt.task_models",
    # pre-training (GPT-1's first stage)
    "build_lm_model": "msgpt.language_model",
    "load_lm_model": "msgpt.language_model",
    "new_language_model": "msgpt.language_model",
    "save_language_model": "msgpt.language_model",
    "pretrain": "msgpt.pretraining",
    "load_texts": "msgpt.data.texts",
    "pack_texts": "msgpt.data.packing",
    # data
    "load_splits": "msgpt.data",
    "build_datasets": "msgpt.data",
    "DataError": "msgpt.data",
    # inference
    "predict": "msgpt.inference",
    "Predictions": "msgpt.inference",
    "encode_windows": "msgpt.windows",
    "label_file": "msgpt.labelling",
    "read_model_folder": "msgpt.trained",
    # errors
    "HubUnavailableError": "msgpt.hub",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
