"""Local folder first, hub second: how every msgpt loader finds its files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence


class HubUnavailableError(OSError):
    """A hub name was given, but the hub cannot be reached and nothing is cached."""


def looks_like_path(name: str) -> bool:
    """Hub ids are ``name`` or ``org/name``; anything else with a separator is a path."""
    return name.startswith((".", "~", "/")) or name.count("/") > 1 or "\\" in name


def resolve_local_or_hub(
    name_or_path: str | os.PathLike, *, required_files: Sequence[str] = (), what: str = "model"
) -> str | Path:
    """A local folder (as a ``Path``) when one exists at ``name_or_path``, else a hub name.

    A folder that exists must contain ``required_files`` (any one of each ``a|b`` group).
    A name that can only be a path (``./x``, ``/x``, ``~/x``, ``a/b/c``) and does not exist
    is an error here rather than a confusing hub lookup.
    """
    text = os.fspath(name_or_path)
    path = Path(text).expanduser()
    if path.is_dir():
        missing = [
            group.replace("|", " or ")
            for group in required_files
            if not any((path / name).is_file() for name in group.split("|"))
        ]
        if missing:
            raise FileNotFoundError(f"{what} folder {path} has no {', '.join(missing)}")
        return path
    if path.exists():
        raise NotADirectoryError(f"{what} path {path} is a file; give the folder that holds it")
    if isinstance(name_or_path, Path) or looks_like_path(text):
        raise FileNotFoundError(f"{what} folder {path} does not exist")
    return text


def hub_error(name: str, what: str, error: Exception) -> HubUnavailableError:
    """The error to raise when ``name`` could not be fetched from the hub."""
    return HubUnavailableError(
        f"could not load {what} {name!r} from the Hugging Face hub "
        f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}). "
        "Without network access give a local folder instead (for example --model ./openai-gpt), "
        "set HF_ENDPOINT to a reachable mirror, or run the offline demo with --demo"
    )


def hub_reachable(timeout: float = 5.0) -> bool:
    """Whether the configured hub endpoint accepts a TCP connection within ``timeout`` s.

    huggingface_hub retries every file five times with back-off, so an unreachable hub
    costs minutes before any error; this probe makes the same failure take seconds.
    """
    import socket
    from urllib.parse import urlparse

    import huggingface_hub.constants as constants

    url = urlparse(constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def hub_load_kwargs(name: str, what: str, probe_file: str = "config.json") -> dict:
    """Keyword arguments for ``from_pretrained(name)``, failing fast without a hub.

    Online: none. Offline with ``name`` in the local hub cache: ``local_files_only``.
    Offline and not cached: a ``HubUnavailableError`` that names the offline options.
    """
    import huggingface_hub.constants as constants
    from huggingface_hub import try_to_load_from_cache

    if not constants.HF_HUB_OFFLINE and hub_reachable():
        return {}
    if isinstance(try_to_load_from_cache(name, probe_file), str):
        return {"local_files_only": True}
    raise hub_error(name, what, ConnectionError("hub unreachable and no cached copy"))
