"""The offline demo's small GPT and its two stages, sized by measurement for 2 CPU cores.

``recipes/imdb.py --demo``, ``recipes/classify.py --model scratch`` and
``recipes/pretrain.py --model scratch`` start from these; docs/experiments.md ("Why each
setting") gives the figures behind them. Nothing here imports MindSpore or mindnlp.
"""

from __future__ import annotations

#: ``msgpt.small_gpt_config`` fields: 2 blocks, 64 wide, GPT-1's 512 positions. One head of
#: GPT-1's head width (four of 16 cost a third more a step for the same accuracy); no dropout
#: (slower to fine-tune, and mindtorch's CPU dropout cannot be replayed on resume); std 0.1,
#: since GPT-1's 0.02 is tuned for 768 wide and leaves a 64-wide LM on the unigram plateau.
MODEL = dict(
    n_embd=64, n_layer=2, n_head=1, n_positions=512, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
    initializer_range=0.1,
)
#: BPE vocabulary learnt from the training text: at 16,000 rather than 5,000 more words are
#: whole tokens and 256 tokens hold more of each review.
VOCAB_SIZE = 16000
#: The first stage (language modelling): small batches, since the LM sits on the unigram
#: plateau for its first ~200 steps whatever the batch; 0.25 of an epoch leaves time for two
#: epochs of fine-tuning within 10 minutes on 2 CPU cores.
PRETRAINING = dict(epochs=0.25, lr=4e-3, batch_size=8, warmup_ratio=0.02, held_out_fraction=0.02)
#: The second stage (fine-tuning the classifier): the end of a long review is kept, nearest
#: the <eos> the classifier reads; batches by length pad less; two epochs, the better kept by
#: validation accuracy; test reviews longer than 256 tokens read whole, as windows.
FINE_TUNING = dict(
    epochs=2.0, lr=4e-3, batch_size=64, max_seq_len=256, train_fraction=1.0, val_fraction=0.1,
    test_fraction=1.0, truncation="left", windows=True, padding="buckets",
)
