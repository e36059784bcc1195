"""recipes/predict.py and --eval-only on a damaged model folder: one line naming the file."""

from __future__ import annotations

from test_predict_recipe import in_process, one_line_error

import msgpt


def test_predict_names_a_truncated_weights_file(tiny_model, tokenizer, tmp_path, capsys):
    folder = msgpt.save_pretrained(tiny_model, tokenizer, tmp_path / "best", max_seq_len=32)
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    texts = tmp_path / "new.txt"
    texts.write_text("a fine film\n", encoding="utf-8")
    result = in_process("predict.py", "--model", str(folder), "--data", str(texts), capsys=capsys)
    one_line_error(result, "predict.py", str(weights), "truncated")
