"""The TLS context for https, made on a thread while the rest of deerimg starts (issue 10).

Loading the certificate bundle takes 25-40 ms, and httpx.Client() does it at once, even for an
http:// base URL. OpenSSL releases the interpreter lock while it parses the bundle, so a thread
started before typer is imported does it on the other core, and ApiClient finds it made.

The context is the one httpx makes by default (httpx._config.create_ssl_context, verify=True,
trust_env=True): SSL_CERT_FILE, else SSL_CERT_DIR, else certifi's bundle; hostnames checked.

The thread may still be at work when the process ends (a usage error, Ctrl-C). deerimg's own ways
out never let the interpreter finalise under it (deerimg/__main__.py: os._exit, issue 16). For any
other caller, the interpreter's exit waits for it: finalising while it imports prints tracebacks
from importlib, and OpenSSL's exit handler freeing what the thread is still loading crashes.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl

_lock = threading.Lock()
_thread: threading.Thread | None = None
_made: list[ssl.SSLContext] = []
_failed: list[BaseException] = []
EXIT_WAIT = 10.0  # seconds the interpreter's exit waits for the thread: loading takes 25-40 ms


def warm() -> None:
    """Start making the context on a daemon thread, once; context() collects it."""
    global _thread
    with _lock:
        if _thread is None:
            import atexit  # built in: no cost

            _thread = threading.Thread(target=_make, name="deerimg-tls", daemon=True)
            _thread.start()
            atexit.register(_thread.join, EXIT_WAIT)  # not run by os._exit, deerimg's own way out


def context() -> ssl.SSLContext:
    """The verifying context, made here if warm() was not called; its error raised here too."""
    warm()
    assert _thread is not None  # noqa: S101 - set by warm()
    _thread.join()
    if _failed:
        raise _failed[0]
    return _made[0]


def checked_context() -> ssl.SSLContext:
    """context(), its failure one configuration error naming the bundle (exit 3)."""
    from deerimg.errors import DeerimgError, ExitCode
    from deerimg.wire.responses import describe

    try:
        return context()
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        cafile, capath = bundle()
        raise DeerimgError(
            f"cannot load the TLS certificates ({cafile or capath}): {describe(exc)}",
            ExitCode.CONFIG,
            hint="check SSL_CERT_FILE and SSL_CERT_DIR",
        ) from None


def _make() -> None:
    try:
        _made.append(_create())
    except BaseException as exc:  # noqa: BLE001 - handed to the thread that asks for it
        _failed.append(exc)


def bundle() -> tuple[str | None, str | None]:
    """(cafile, capath) as httpx chooses them: SSL_CERT_FILE, else SSL_CERT_DIR, else certifi's."""
    if os.environ.get("SSL_CERT_FILE"):
        return os.environ["SSL_CERT_FILE"], None
    if os.environ.get("SSL_CERT_DIR"):
        return None, os.environ["SSL_CERT_DIR"]
    import certifi

    return certifi.where(), None


def _create() -> ssl.SSLContext:
    import ssl

    cafile, capath = bundle()
    return ssl.create_default_context(cafile=cafile, capath=capath)
