"""Exit codes and the one error type that carries a message, an exit code and the API's details."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1  # a generation failed: API error after retries, network, not an image
    USAGE = 2  # bad flag or value, no prompt, target exists or is unwritable
    CONFIG = 3  # no key, 401/403, unreadable config
    INTERRUPTED = 130


_SECRETS: set[str] = set()  # the API key, once a command has it: never in an error's text


def conceal(secret: str) -> None:
    """From now on, SECRET is replaced wherever an error's text would hold it.

    A gateway may quote the key it refused ("Incorrect API key provided: sk-…"): that text
    goes to stderr, --json records and the history ledger.
    """
    if len(secret) >= 8:  # a shorter "key" is refused anyway; don't mask common words
        _SECRETS.add(secret)


def concealed(text: str | None) -> str | None:
    """TEXT with every concealed secret replaced: for an error, or a server's words shown."""
    if text is None:
        return None
    for secret in tuple(_SECRETS):  # a copy: worker threads may add the same key meanwhile
        if secret in text:
            text = text.replace(secret, "<the API key>")
    return text


class DeerimgError(Exception):
    """An error meant for the user: one line, an exit code, and what the API said."""

    def __init__(
        self,
        message: str,
        exit_code: int = ExitCode.FAILURE,
        *,
        hint: str | None = None,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        message = concealed(message) or ""
        super().__init__(message)
        self.message = message
        self.exit_code = int(exit_code)
        self.hint = concealed(hint)
        self.status = status
        self.code = concealed(code)
        self.request_id = concealed(request_id)

    def line(self) -> str:
        """The one `error: …` line: status, message, code and request id."""
        text = self.message
        if self.status is not None:
            text = f"{self.status} {text}"
        extra = []
        if self.code:
            extra.append(f"code {self.code}")
        if self.request_id:
            extra.append(f"request id {self.request_id}")
        if extra:
            text = f"{text} ({', '.join(extra)})"
        return text

    def as_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "message": self.message,
            "code": self.code,
            "request_id": self.request_id,
        }


def usage_error(message: str, hint: str | None = None) -> DeerimgError:
    return DeerimgError(message, ExitCode.USAGE, hint=hint)


class TaskPending(DeerimgError):
    """A run stops waiting for a task API's task that has not ended (a poll that failed for
    good, or --timeout): it is paid for and stays pending, for `deerimg fetch` or a re-run."""
