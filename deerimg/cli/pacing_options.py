"""The batch's -j and --max-jobs: a fixed number of requests at once, or paced (-j auto)."""

from __future__ import annotations

from typing import Annotated

from deerimg.cli.options import BATCH, opt

Jobs = Annotated[
    str | None,
    opt(
        "-j",
        "--jobs",
        panel=BATCH,
        help="Requests at once, 1-32, or auto: each request's start paced to the rate limit "
        "learned from 429s and x-ratelimit-* headers. Default: 4, or config jobs.",
        metavar="N|auto",
    ),
]
MaxJobs = Annotated[
    int | None,
    opt(
        "--max-jobs",
        panel=BATCH,
        help="With -j auto, the most requests at once, 1-256. Default: 32, or config max-jobs.",
        metavar="N",
    ),
]
