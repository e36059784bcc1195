"""Text to token ids: GPT-1's tokenizer with the paper's special tokens, an offline BPE, the
four task inputs (sec. 3.3) and long texts as windows."""
