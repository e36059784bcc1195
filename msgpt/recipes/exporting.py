"""What ``recipes/export.py`` does: a model folder to MindIR, checked on texts of a file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence


def default_output(model: str | os.PathLike) -> Path:
    """``runs/x/best`` -> ``runs/x/best.mindir``: beside the folder, not in it (a
    recipe replaces its best/ folder whole when a better checkpoint comes)."""
    folder = Path(model).expanduser()
    return folder.parent / f"{folder.name}.mindir"


def export_folder(
    model: str | os.PathLike,
    output: str | os.PathLike,
    *,
    batch_size: int = 1,
    seq_len: int | None = None,
    candidates: int | None = None,
    overwrite: bool = False,
    check_data: str | os.PathLike | None = None,
    check_rows: int = 16,
    text_column: str = "text",
    text_pair_column: str | None = None,
    candidate_columns: str | Sequence[str] | None = None,
) -> dict[str, Any]:
    """Export the model folder ``model`` as ``output`` (``msgpt.inference.export``); with
    ``check_data``, run the files with MindSpore alone on its first ``check_rows`` texts and
    compare with ``msgpt.predict``. Bad input (not a model folder, a check file or column
    that does not fit the model's task) raises a ``ValueError`` before anything is written;
    a failed check raises a ``RuntimeError`` naming the difference (the files stay)."""
    from msgpt.data.to_label import read_texts_to_label
    from msgpt.models.folder import read_model_folder
    from msgpt.recipes.labelling import check_task_columns

    folder = read_model_folder(model)
    if seq_len is not None and seq_len > folder.n_positions:
        raise ValueError(f"--seq-len {seq_len} is above the model's {folder.n_positions} positions")
    inputs = None
    if check_data is not None:
        if check_rows < 1:
            raise ValueError(f"--check-rows must be at least 1, got {check_rows}")
        check_task_columns(model, folder.task, text_pair_column=text_pair_column, candidate_columns=candidate_columns)
        choice = folder.task == "choice"
        inputs = read_texts_to_label(
            check_data, text_column=text_column, label_names=None if choice else folder.label_names,
            num_labels=folder.num_labels, text_pair_column=text_pair_column, candidate_columns=candidate_columns,
        )

    from msgpt.inference.export import check_export, export_mindir, load_for_export

    classifier, tokenizer = load_for_export(folder.path)
    export = export_mindir(classifier, output, tokenizer, batch_size=batch_size, seq_len=seq_len,
                           candidates=candidates, overwrite=overwrite, source=folder.path)
    result: dict[str, Any] = {
        "model": str(model), "task": folder.task, "mindir": str(export.mindir), "card": str(export.card),
        "tokenizer": str(export.tokenizer), "input_shape": list(export.input_shape),
        "megabytes": export.megabytes, "seconds": export.seconds, "check": None,
    }
    if inputs is not None:
        rows = slice(0, check_rows)
        pairs = None if inputs.text_pairs is None else list(inputs.text_pairs[rows])
        candidates_rows = None if inputs.candidates is None else list(inputs.candidates[rows])
        check = check_export(export, classifier, list(inputs.texts[rows]), tokenizer,
                             text_pairs=pairs, candidates=candidates_rows)
        result["check"] = {"examples": check.examples, "max_probability_difference": check.max_probability_difference,
                           "labels_agree": check.labels_agree, "modules": list(check.modules)}
        if not check.passed:
            raise RuntimeError(
                f"the exported graph does not match msgpt.predict on {check.examples} texts of {check_data}: "
                f"max probability difference {check.max_probability_difference:.2e}, labels agree: "
                f"{check.labels_agree}, msgpt modules loaded: {', '.join(check.modules) or 'none'} "
                f"(the files are kept: {export.mindir})"
            )
    return result
