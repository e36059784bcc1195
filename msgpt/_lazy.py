"""Lazy package exports (PEP 562): names are imported on first use.

msgpt's packages export names whose modules import mindnlp, and importing mindnlp fixes
the device; lazy exports keep ``import msgpt`` light and the device choice open.

Renamed names and moved modules stay reachable for one release, with a
``DeprecationWarning`` that names the new spelling.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from typing import Any, Callable, Mapping


def lazy_exports(
    package: str,
    exports: Mapping[str, str],
    namespace: dict[str, Any],
    deprecated: Mapping[str, str] | None = None,
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, whose ``exports`` map name -> module
    and whose ``deprecated`` names map to the export (or ``module:name``) that replaces them."""
    deprecated = dict(deprecated or {})

    def __getattr__(name: str) -> Any:
        if name in deprecated:
            target = deprecated[name]
            if ":" in target:  # a name that left the API: its module still has it
                module, attribute = target.split(":")
                new = f"{module}.{attribute}"
            else:  # a renamed export
                module, attribute, new = exports[target], target, f"{package}.{target}"
            warnings.warn(f"{package}.{name} is deprecated: use {new}", DeprecationWarning, stacklevel=2)
            return getattr(importlib.import_module(module), attribute)
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted([*namespace, *exports])

    return __getattr__, __dir__


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports of a module's old path give the module at its new path, with a warning."""

    def __init__(self, moved: Mapping[str, str]) -> None:
        self.moved = dict(moved)

    def find_spec(self, fullname: str, path: Any = None, target: Any = None):
        return importlib.util.spec_from_loader(fullname, self) if fullname in self.moved else None

    def create_module(self, spec):
        new = self.moved[spec.name]
        warnings.warn(f"{spec.name} is deprecated: import {new}", DeprecationWarning, stacklevel=2)
        module = importlib.import_module(new)
        self._spec = module.__spec__  # the import system sets the alias's spec on it next
        return module

    def exec_module(self, module) -> None:
        module.__spec__ = self._spec  # already executed, under its own name


def alias_moved_modules(moved: Mapping[str, str]) -> None:
    """Let ``import OLD`` give module ``NEW`` for each ``OLD: NEW`` in ``moved``."""
    if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
        sys.meta_path.append(_MovedModules(moved))
