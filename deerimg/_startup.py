"""Every start-up and memory trick of deerimg, each with the figure it buys (issue 10).

They are load-bearing: the README's Performance table sits just above its targets, and each
trick below names what it saves. Where a trick leans on another package's internals (typer's
help renderer, its registered commands), tests/test_imports.py checks that it still holds.

- `leave`: os._exit once the output is flushed, skipping interpreter teardown (20-25 ms). It is
  also the only way out (issue 16): the certificate thread (wire/tls.py) may still be importing
  or inside OpenSSL, and an interpreter that tears itself down under it crashes (SIGSEGV in
  OpenSSL's exit handler) or prints an import's traceback.
- `guard_start`: until a command runs, Ctrl-C leaves at once with 130 instead of raising
  KeyboardInterrupt in the middle of an import (issue 16). No cost: `_signal` is loaded with
  the interpreter.
- `defer_help_imports`: typer's help renderer without rich.markdown and rich.traceback, which
  deerimg's help never uses (35 ms of the 130 that `deerimg --help` took).
- `narrowed`: the Typer app with only the command that runs (4 of typer's 6 ms).
- `one_malloc_arena`: glibc's memory for a batch that does not grow with its length (peak RSS
  of 50 images 1.02 times that of 5, against 1.14).
Also elsewhere, where the work is: the TLS context made on a thread while typer is imported
(wire/tls.py, 25-40 ms), base64 decoded over the answer's own buffer (wire/responses.py,
imaging/images.py), and httpx responses freed with their last reference (wire/send.py).

Help deferral: typer.rich_utils, which draws every --help and usage error, imports rich.markdown
(markdown-it) and rich.traceback (pygments) at its top. It uses the first only for markup mode
"markdown" and the second only for pretty tracebacks; deerimg turns both off. While
typer.rich_utils runs its top, the two modules are stand-ins whose Markdown and Traceback import
the real class when first used, and any other name imports the real module; when it is done the
stand-ins leave sys.modules, so any later import gets the real modules.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing itself costs `deerimg --version` 2 ms; mypy reads this name alike
if TYPE_CHECKING:  # the imports below cost `deerimg --version` 4 ms: only where they are used
    import signal as _signal  # the same functions as _signal, which has no stubs
    import types
    from collections.abc import Callable, Iterable
    from typing import Any
else:
    import _signal  # loaded with the interpreter; `signal` would cost 0.8 ms (enum conversions)

INTERRUPTED = 130  # errors.ExitCode.INTERRUPTED, which this layer cannot import


def leave(code: object) -> None:  # never returns; typing.NoReturn would cost an import
    """Exit now, without tearing the interpreter down, which takes 20-25 ms (issue 10).

    Every file deerimg writes is closed and in place by now and nothing is registered with
    atexit, so what is left is flushing the standard streams. The code means what it means to
    sys.exit(): None is 0, a number is the status, anything else is printed and is 1. A stream
    that is closed (`>&-`: None), whose reader went away, or that was being written when a
    signal came, is skipped: output that could not be delivered makes a status of 0 a 1.
    """
    status = code if isinstance(code, int) else 0 if code is None else 1
    if not isinstance(code, int) and code is not None:
        import contextlib  # only on this path: an error's text

        with contextlib.suppress(Exception):  # None (`2>&-`), closed, gone: the 1 still tells
            sys.stderr.write(f"{code}\n")
    for stream in (sys.stdout, sys.stderr):
        if stream is None:
            continue
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - gone reader, closed file, a reentrant flush: all lost
            status = status or 1
    os._exit(status)


def guard_start() -> None:
    """Make start-up safe to interrupt and closed standard streams harmless (issue 16).

    Python's own Ctrl-C handler raises KeyboardInterrupt wherever the main thread is. During
    start-up that is mostly inside an import, where it prints a traceback, or is printed and
    swallowed ("Exception ignored in ... _get_module_lock"), or lands between the import lock's
    acquire and its `try:` and leaves the lock held: the next import on any other thread (the
    certificate thread, the batch's workers) then waits for ever. Until a command runs (see
    interrupts_within), Ctrl-C leaves at once with 130; after that it is KeyboardInterrupt again,
    except inside the import machinery, for the same reason. A SIGINT that the parent ignores
    stays ignored. SIGTERM keeps its default action: the process ends at once (143 in a shell),
    before the interpreter could print or tear anything down.

    A standard stream closed at exec (`>&-`) is None in sys; its descriptor would be the next
    one that open() returns, and whatever writes to 0, 1 or 2 by number (a C library, a fatal
    error message) would write into that file. /dev/null takes the empty place; the stream
    stays None.
    """
    if _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:
        _signal.signal(_signal.SIGINT, _on_sigint)
    for fd, stream in enumerate((sys.stdin, sys.stdout, sys.stderr)):
        if stream is None:
            try:
                placeholder = os.open(os.devnull, os.O_RDWR)
            except OSError:
                continue
            if placeholder != fd:  # the place was taken meanwhile: leave it as it is
                os.close(placeholder)


_commands: set[types.CodeType] = set()


def interrupts_within(callbacks: Iterable[Callable[..., Any]]) -> None:
    """While one of CALLBACKS (the commands) runs, Ctrl-C raises KeyboardInterrupt again.

    The command's error boundary turns it into "interrupted" and 130, and code that must tidy
    up on the way out (the terminal's echo, a batch's temporary files) gets to.
    """
    _commands.update(c.__code__ for c in callbacks if hasattr(c, "__code__"))


def _on_sigint(signum: int, frame: types.FrameType | None) -> None:
    if frame is not None and not _importing(frame) and _within(frame, _commands):
        _signal.default_int_handler(signum, frame)  # raises KeyboardInterrupt
    leave(INTERRUPTED)


def _importing(frame: types.FrameType) -> bool:
    """Whether FRAME is the import machinery's own (importlib._bootstrap, _bootstrap_external)."""
    return str(frame.f_globals.get("__name__", "")).startswith("importlib._bootstrap")


def _within(frame: types.FrameType | None, codes: set[types.CodeType]) -> bool:
    while frame is not None:
        if frame.f_code in codes:
            return True
        frame = frame.f_back
    return False


HELP_RENDERER = "typer.rich_utils"
DEFERRED = {"rich.markdown": "Markdown", "rich.traceback": "Traceback"}


def defer_help_imports() -> None:
    """Watch for the import of typer.rich_utils (once; nothing else is touched)."""
    if HELP_RENDERER not in sys.modules and _Finder not in sys.meta_path:
        sys.meta_path.insert(0, _Finder)


class _Finder:
    @staticmethod
    def find_spec(name: str, path: Any = None, target: Any = None) -> Any:
        if name != HELP_RENDERER:
            return None
        sys.meta_path.remove(_Finder)
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec(name, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)  # type: ignore[assignment]  # a wrapper
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
    import types

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
    import importlib

    return importlib.import_module(name)


def narrowed(app: Any, name: str | None, command_name: Callable[[Any], str]) -> Any:
    """APP (a typer.Typer) with NAME as its one command, when NAME is one; else APP itself.

    typer builds the options of every command at each start, though a run uses one command:
    4 of the 6 ms (issue 10). Everything a run of NAME shows is the same either way (its help,
    its errors); shell completion, which walks the whole tree, always gets the whole app.
    COMMAND_NAME gives the name typer gives a registered command.
    """
    if "_DEERIMG_COMPLETE" in os.environ:
        return app
    chosen = [c for c in app.registered_commands if command_name(c) == name]
    if not chosen:
        return app
    import copy

    narrow = copy.copy(app)
    narrow.registered_commands = chosen
    narrow.registered_groups = []
    return narrow


def one_malloc_arena() -> None:
    """On glibc, keep a batch's memory from growing with its length (issue 10).

    glibc gives each new thread an arena of its own (up to 8 per CPU), and each arena keeps the
    megabytes of the answers its thread held: one arena for all, so memory one frees serves them
    all (the interpreter lock serializes most allocations anyway). And glibc raises its mmap
    threshold to the size of each large block freed, after which image-sized blocks come from
    the heap, where freed ones stay resident between live ones: a fixed threshold gives every
    block over 1 MB its own mapping, returned to the system when freed. Other C libraries:
    nothing to do.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.mallopt(-8, 1)  # M_ARENA_MAX, from malloc.h
        libc.mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass
