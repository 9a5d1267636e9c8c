"""A function's handler, imported from its CodeUri folder as the Lambda Python runtime imports it: the one loader the
runner's containers, the bench and the tests use.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, cast

Handler = Callable[[dict[str, Any], Any], Any]


class HandlerImportError(RuntimeError):
    """The handler cannot be imported as the template names it: the message says why."""


def import_function_module(code_dir: Path, module_name: str) -> ModuleType:
    """`module_name` from `code_dir`, which goes first on sys.path as the runtime's task root does."""
    folder = str(code_dir.resolve())
    if folder not in sys.path:
        sys.path.insert(0, folder)
    module = importlib.import_module(module_name)
    location = Path(module.__file__ or "").resolve()
    if not location.is_relative_to(folder):
        raise HandlerImportError(
            f"module {module_name} was imported from {location}, not from {folder}: "
            "another function or package has a module of the same name"
        )
    return module


def import_handler(code_dir: Path, handler: str, function_name: str) -> Handler:
    """The callable `handler` (module.function, as the template's Handler) names in `code_dir`."""
    module_name, dot, attribute = handler.rpartition(".")
    if not dot or not module_name:
        raise HandlerImportError(f"{function_name}: Handler {handler!r} is not module.function")
    try:
        module = import_function_module(code_dir, module_name)
    except HandlerImportError as exc:
        raise HandlerImportError(f"{function_name}: {exc}") from None
    found = getattr(module, attribute, None)
    if not callable(found):
        raise HandlerImportError(f"{function_name}: {module_name} has no function {attribute}")
    return cast(Handler, found)
