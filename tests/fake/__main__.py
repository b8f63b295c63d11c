"""``python -m tests.fake``: serve a fake DeerAPI until a signal or EOF on stdin, for benchmarks."""

from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
from contextlib import suppress

from tests.fake.facade import FakeDeerAPI
from tests.fake.images import FORMATS


def parse_byte_size(text: str) -> int:
    """``1500000``, ``1.5MB``, ``3M``, ``512k`` or ``2MiB`` as a number of bytes (MB = 10**6)."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kKmM]?)(i?)[bB]?\s*", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"not a byte size: {text!r}")
    number, unit, binary = match.groups()
    base = 1024 if binary else 1000
    return int(float(number) * {"": 1, "k": base, "m": base * base}[unit.lower()])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fake",
        description="Serve a fake DeerAPI on 127.0.0.1; print its base URL as the first line.",
    )
    parser.add_argument("--port", type=int, default=0, help="API server port (0: any free one)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per generation")
    parser.add_argument(
        "--image-bytes", type=parse_byte_size, default=None, help="encoded size of each image"
    )
    parser.add_argument("--key", default="test-key", help="the API key to accept")
    parser.add_argument(
        "--ignore-stdin", action="store_true", help="serve until a signal, not until stdin EOF"
    )
    args = parser.parse_args(argv)
    done = threading.Event()
    api = FakeDeerAPI(args.key, latency=args.latency, image_bytes=args.image_bytes, port=args.port)
    with api:
        for fmt in FORMATS:  # the first requests should not pay for encoding
            api.expected_image(fmt)
        signal.signal(signal.SIGTERM, lambda *_: done.set())
        if not args.ignore_stdin:

            def wait_for_eof() -> None:
                with suppress(OSError, ValueError):
                    while sys.stdin.buffer.read(65536):
                        pass
                done.set()

            threading.Thread(target=wait_for_eof, name="fake-stdin", daemon=True).start()
        sys.stdout.write(api.base_url + "\n")
        sys.stdout.flush()
        with suppress(KeyboardInterrupt):
            while not done.wait(0.5):
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
