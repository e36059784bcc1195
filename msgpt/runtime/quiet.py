"""Drop the start-up lines of msgpt's libraries that tell a user nothing they can act on.

``msgpt.backend`` calls ``install()`` before it imports mindnlp, so that a run's first
lines are msgpt's own. Each line is dropped by a filter on the one logger that emits it,
matched on the start of its message: everything else those loggers say (their other
warnings and errors) still shows, and msgpt's and users' loggers are never touched.

The lines, who emits them, and why they are noise here:

* "Modular Diffusers is currently an experimental feature..." (a warning of the logger
  ``diffusers.modular_pipelines``, at import): ``import mindnlp`` imports
  ``mindnlp.diffusers``, which imports that diffusers module. msgpt never uses it.
* "PyTorch version 2.7.1+dev available." (INFO of the logger ``datasets``, from
  ``datasets/config.py``; shown once a recipe logs at INFO): ``mindnlp.transformers``
  imports transformers' Trainer, which imports datasets after mindnlp has made ``torch``
  mindtorch; the version is the one mindtorch reports for ``torch``.
* "ftfy or spacy is not installed using BERT BasicTokenizer instead of SpaCy & ftfy."
  (a warning of ``transformers.models.openai.tokenization_openai``): every slow
  ``OpenAIGPTTokenizer`` says it, and spacy is not in the lock. HF's fast tokenizer,
  which the recipes use, splits text as BasicTokenizer does; with spacy installed the
  slow one would split it differently.

``tests/runtime/test_quiet.py`` checks that the lines are gone while msgpt's own remain, and
probes that the libraries still emit them (when one stops, its entry can go).
"""

from __future__ import annotations

import logging
import re
from typing import Mapping, Sequence

#: Logger name -> regular expressions matched at the start of the messages to drop.
NOISE: Mapping[str, Sequence[str]] = {
    "diffusers.modular_pipelines": (r"Modular Diffusers is currently an experimental feature",),
    # datasets/config.py announces each optional backend it finds in the same words.
    "datasets": (r"(PyTorch|TensorFlow|JAX|Polars|Duckdb) version \S+ available\.$",),
    "transformers.models.openai.tokenization_openai": (r"ftfy or spacy is not installed",),
}


class DropMessages(logging.Filter):
    """A logger filter that drops the records whose message matches one of ``patterns``."""

    def __init__(self, patterns: Sequence[str]) -> None:
        super().__init__()
        self.patterns = [re.compile(pattern) for pattern in patterns]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(pattern.match(message) for pattern in self.patterns)


def install() -> None:
    """Attach the filters of ``NOISE`` to their loggers (once; later calls do nothing)."""
    for name, patterns in NOISE.items():
        # A logger object exists before its library is imported, and the library's
        # getLogger(name) returns this same object, so the filter is in place in time.
        logger = logging.getLogger(name)
        if not any(isinstance(f, DropMessages) for f in logger.filters):
            logger.addFilter(DropMessages(patterns))
