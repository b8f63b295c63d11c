"""Keep typer's help renderer from importing what deerimg's help never uses (issue 10).

typer.rich_utils, which draws every --help and usage error, imports rich.markdown (markdown-it)
and rich.traceback (pygments) at its top. It uses the first only for markup mode "markdown" and
the second only for pretty tracebacks; deerimg turns both off. The two imports cost 35 ms of the
130 that `deerimg --help` takes.

While typer.rich_utils runs its top, the two modules are stand-ins whose Markdown and Traceback
import the real class when first used, and any other name imports the real module; when it is
done the stand-ins leave sys.modules, so any later import gets the real modules.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

HELP_RENDERER = "typer.rich_utils"
DEFERRED = {"rich.markdown": "Markdown", "rich.traceback": "Traceback"}


def install() -> None:
    """Watch for the import of typer.rich_utils (once; nothing else is touched)."""
    if HELP_RENDERER not in sys.modules and _Finder not in sys.meta_path:
        sys.meta_path.insert(0, _Finder)  # type: ignore[arg-type]


class _Finder:
    @staticmethod
    def find_spec(name: str, path: Any = None, target: Any = None) -> Any:
        if name != HELP_RENDERER:
            return None
        sys.meta_path.remove(_Finder)  # type: ignore[arg-type]
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec(name, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


class _Loader:
    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def __getattr__(self, name: str) -> Any:  # get_source, get_filename, … for tracebacks
        return getattr(self._loader, name)

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        stand_ins = {name: _stand_in(name) for name in DEFERRED if name not in sys.modules}
        sys.modules.update(stand_ins)
        try:
            self._loader.exec_module(module)
        finally:
            for name, stand_in in stand_ins.items():
                if sys.modules.get(name) is stand_in:
                    del sys.modules[name]


class _Deferred(type):
    """A class that is the real one's stand-in: calling it or reading from it imports it."""

    _module: str

    def real(cls) -> Any:
        return getattr(_real_module(cls._module), cls.__name__)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return cls.real()(*args, **kwargs)

    def __getattr__(cls, name: str) -> Any:
        return getattr(cls.real(), name)

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, cls.real())


def _stand_in(name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    attr = DEFERRED[name]
    setattr(module, attr, _Deferred(attr, (), {"_module": name}))

    def __getattr__(key: str) -> Any:
        if key.startswith("__"):  # __path__, __file__, …: what the import system asks first
            raise AttributeError(key)
        return getattr(_real_module(name), key)

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    return module


def _real_module(name: str) -> types.ModuleType:
    """The real module NAME, imported now if a stand-in still holds its place."""
    module = sys.modules.get(name)
    if module is not None and isinstance(getattr(module, DEFERRED[name], None), _Deferred):
        del sys.modules[name]
    return importlib.import_module(name)
