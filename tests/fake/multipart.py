"""multipart/form-data bodies split into their parts, bytes kept exactly (RFC 7578, RFC 2046)."""

from __future__ import annotations

import email.parser
import email.policy
from dataclasses import dataclass
from email.message import EmailMessage


@dataclass
class Part:
    """One part of a ``multipart/form-data`` body, as sent."""

    name: str  # the Content-Disposition name, e.g. "image[]", "mask", "prompt"
    filename: str | None  # None for a text field
    content_type: str | None  # the part's Content-Type header, or None without one
    data: bytes  # the exact bytes between the part's headers and the next boundary


def multipart_boundary(content_type: str) -> str | None:
    """The boundary of a ``multipart/form-data`` Content-Type header value, or None."""
    header = EmailMessage(policy=email.policy.HTTP)
    header["Content-Type"] = content_type
    if header.get_content_type() != "multipart/form-data":
        return None
    return header.get_boundary() or None


def _parse_part(raw: bytes) -> Part:
    if raw.startswith(b"\r\n"):  # no headers at all
        head, data = b"", raw[2:]
    else:
        head, sep, data = raw.partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("a part without the blank line after its headers")
    # Clients send non-ASCII filenames as raw UTF-8 (httpx, browsers).
    text = head.decode("utf-8", errors="replace")
    headers = email.parser.Parser(policy=email.policy.HTTP).parsestr(
        text + "\r\n\r\n", headersonly=True
    )
    disposition = headers["content-disposition"]
    if disposition is None or disposition.content_disposition != "form-data":
        raise ValueError("a part without 'Content-Disposition: form-data'")
    name = disposition.params.get("name")
    if name is None:
        raise ValueError("a part without a name")
    filename = disposition.params.get("filename")
    content_type = headers["content-type"]
    return Part(
        name=str(name),
        filename=None if filename is None else str(filename),
        content_type=None if content_type is None else str(content_type),
        data=data,
    )


def parse_multipart(body: bytes, boundary: str) -> list[Part]:
    """The parts of a ``multipart/form-data`` body (RFC 7578, 2046 5.1.1), bytes kept exactly.

    Raises ValueError when the body is not well formed (no opening or closing delimiter, a
    part without Content-Disposition or name).
    """
    delimiter = b"--" + boundary.encode("latin-1")

    def is_delimiter(at: int) -> bool:
        # A delimiter line is followed by "--" (the last one), or optional blanks then CRLF.
        after = body[at + len(delimiter) : at + len(delimiter) + 2]
        if after == b"--":
            return True
        end = body.find(b"\r\n", at + len(delimiter))
        return end >= 0 and not body[at + len(delimiter) : end].strip(b" \t")

    def find_delimiter(start: int) -> int:
        # The position of the next "--boundary" that starts a line, at or after ``start``.
        at = start
        while True:
            at = body.find(b"\r\n" + delimiter, at)
            if at < 0:
                raise ValueError("no closing multipart delimiter")
            if is_delimiter(at + 2):
                return at
            at += 2

    if body.startswith(delimiter) and is_delimiter(0):
        pos = len(delimiter)
    else:
        pos = find_delimiter(0) + 2 + len(delimiter)  # after a preamble
    parts: list[Part] = []
    while body[pos : pos + 2] != b"--":
        start = body.find(b"\r\n", pos) + 2
        end = find_delimiter(start)
        parts.append(_parse_part(body[start:end]))
        pos = end + 2 + len(delimiter)
    return parts
