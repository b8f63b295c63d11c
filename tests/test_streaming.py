"""Issue 21, streaming: --partial-images reads the answer's events as they come; each partial
goes beside the target and is gone once the final image is in place; a stream that ends without
the final image is one paid failure, never retried unless asked; a relay that answers JSON works.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deerimg.errors import DeerimgError
from deerimg.imaging import images
from deerimg.run import partials
from deerimg.wire.reading import StreamEnded
from deerimg.wire.sse import EventReader, OverLimit
from deerimg.wire.streaming import ImageStream
from tests.fake import FakeDeerAPI, make_image
from tests.fake import images as fake_images
from tests.helpers import error_lines

# -- the event reader, pure ------------------------------------------------------------------


def read(chunks: list[bytes], limit: int | None = None) -> list[tuple[str, bytes]]:
    seen: list[tuple[str, bytes]] = []
    reader = EventReader(lambda name, data: seen.append((name, data)), limit=limit)
    for chunk in chunks:
        reader.feed(chunk)
    reader.close()
    return seen


STREAM = (
    b": keep-alive\r\n"
    b"event: image_generation.partial_image\r\n"
    b'data: {"a":\r\n'
    b"data:1}\r\n\r\n"
    b"data: plain\n\n"
    b"event: x\rdata: cr\r\r"
    b"id: 7\nretry: 10\nevent: last\ndata\n\n"
    b"data: never dispatched"
)
EXPECTED = [
    ("image_generation.partial_image", b'{"a":\n1}'),
    ("message", b"plain"),
    ("x", b"cr"),
    ("last", b""),
]


def test_events_are_read_whatever_the_line_ends_and_however_the_bytes_are_split() -> None:
    assert read([STREAM]) == EXPECTED
    for cut in range(1, len(STREAM)):  # every split point, CR|LF across chunks included
        assert read([STREAM[:cut], STREAM[cut:]]) == EXPECTED, cut
    assert read([bytes([b]) for b in STREAM]) == EXPECTED


def test_a_megabyte_event_is_read_whole_in_small_chunks_with_no_cap() -> None:
    data = b"A" * (5 * 2**20)
    body = b"event: big\ndata: " + data + b"\n\n"
    chunks = [body[i : i + 65536] for i in range(0, len(body), 65536)]
    assert read(chunks) == [("big", data)]
    with pytest.raises(OverLimit):
        read(chunks, limit=2**20)  # a cap, where one is asked for, holds


# -- the image stream, pure ------------------------------------------------------------------

PNG = make_image("png", 32, 16)


def event(name: str | None, payload: dict[str, Any]) -> bytes:
    head = f"event: {name}\n".encode() if name else b""
    return head + b"data: " + json.dumps(payload).encode() + b"\n\n"


def b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


def stream_of(*chunks: bytes) -> tuple[ImageStream, list[tuple[int, bytes]]]:
    got: list[tuple[int, bytes]] = []
    stream = ImageStream(lambda index, data: got.append((index, data)))
    for chunk in chunks:
        stream.feed(chunk)
    return stream, got


def test_partials_are_handed_on_and_the_final_image_comes_from_completed() -> None:
    small = make_image("png", 8, 4)
    stream, got = stream_of(
        event("image_generation.partial_image",
              {"b64_json": b64(small), "partial_image_index": 0}),
        event(None, {"type": "image_generation.partial_image", "b64_json": "%%%",
                     "partial_image_index": 1}),
        event("image_generation.completed",
              {"b64_json": b64(PNG), "size": "32x16", "usage": {"total_tokens": 5}}),
        b"data: [DONE]\n\n",
    )  # fmt: skip
    stream.ended()
    assert got == [(0, small)]  # the unreadable one is a preview lost, not a failure
    assert (stream.partials, stream.unreadable) == (2, 1)
    items, usage, fields = stream.result()
    assert items == [{"b64_json": b64(PNG)}]
    assert usage == {"total_tokens": 5} and fields == {"size": "32x16"}


def test_a_stream_without_completed_is_a_paid_failure() -> None:
    stream, got = stream_of(
        event("image_edit.partial_image", {"b64_json": b64(PNG), "partial_image_index": 0})
    )
    with pytest.raises(StreamEnded) as ended:
        stream.ended()
    assert "after 1 partial image(s), without the final image" in ended.value.message
    assert "likely charged" in (ended.value.hint or "")
    assert len(got) == 1


def test_an_error_event_ends_the_stream_with_its_message() -> None:
    with pytest.raises(DeerimgError) as failed:
        stream_of(event("error", {"error": {"message": "nope", "code": "image_failed"}}))
    assert failed.value.message == "the stream ended in an error: nope"
    assert failed.value.code == "image_failed"


# -- against the fake DeerAPI ----------------------------------------------------------------


def sent_bodies(fake_api: FakeDeerAPI) -> list[Any]:
    return [r.json for r in fake_api.requests if r.path.startswith("/v1/images")]


@pytest.fixture
def seen_partials(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The files beside the image each time a request's partials are about to be removed."""
    seen: list[list[str]] = []
    remove = partials.Partials.remove

    def watched(self: partials.Partials) -> None:
        if self.written:
            seen.append(sorted(p.name for p in self.target.path.parent.iterdir()))  # type: ignore[union-attr]
        remove(self)

    monkeypatch.setattr(partials.Partials, "remove", watched)
    return seen


def test_two_partials_exist_during_the_run_and_only_the_image_is_left(
    fake_api: FakeDeerAPI, invoke: Any, isolated_env: Path, seen_partials: list[list[str]]
) -> None:
    outcome = invoke(
        "generate", "a fox", "--partial-images", "2", "-o", "fox.png", "-s", "1024x1536"
    )
    assert outcome.exit_code == 0, outcome
    assert sorted(p.name for p in isolated_env.iterdir()) == ["fox.png"]
    assert seen_partials == [["fox.partial-1.png", "fox.partial-2.png", "fox.png"]]
    final = fake_images.pixel_size(1024, 1536)
    assert images.pixel_size(Path("fox.png").read_bytes()) == final  # not a partial
    [body] = sent_bodies(fake_api)
    assert body["stream"] is True and body["partial_images"] == 2 and "n" not in body
    assert "tokens" in outcome.stderr  # the completed event's usage is counted


def test_each_image_of_n_is_its_own_stream(fake_api: FakeDeerAPI, invoke: Any) -> None:
    outcome = invoke("generate", "a fox", "-n", "2", "--partial-images", "1", "-o", "fox.png")
    assert outcome.exit_code == 0, outcome
    bodies = sent_bodies(fake_api)
    assert len(bodies) == 2 and all(b["stream"] is True and "n" not in b for b in bodies)
    assert sorted(p.name for p in Path().iterdir()) == ["fox-1.png", "fox-2.png"]


def test_an_edit_streams_through_its_form(fake_api: FakeDeerAPI, invoke: Any) -> None:
    Path("photo.png").write_bytes(make_image("png", 64, 48))
    outcome = invoke("edit", "photo.png", "make it night", "--partial-images", "1", "-o", "n.png")
    assert outcome.exit_code == 0, outcome
    [body] = sent_bodies(fake_api)
    assert body["stream"] == "true" and body["partial_images"] == "1"
    assert sorted(p.name for p in Path().iterdir()) == ["n.png", "photo.png"]


@pytest.mark.parametrize(
    ("end", "said"),
    [
        ("early", "the stream ended after 2 partial image(s), without the final image"),
        ("cut", "the stream was cut off after"),
        ("error", "the stream ended in an error: The image could not be finished."),
    ],
)
def test_a_stream_that_stops_before_the_image_fails_once_and_leaves_nothing(
    fake_api: FakeDeerAPI, invoke: Any, isolated_env: Path, end: str, said: str
) -> None:
    fake_api.always(route="generations", stream_end=end)
    outcome = invoke(
        "generate", "a fox", "--partial-images", "2", "-o", "fox.png", "--retries", "3"
    )
    assert outcome.exit_code == 1, outcome
    [line] = error_lines(outcome.stderr)
    assert said in line and "request id req_" in line
    assert len(sent_bodies(fake_api)) == 1  # paid once: not sent again
    assert list(isolated_env.iterdir()) == []  # no partial stands in for the image
    if end != "error":
        assert "likely charged" in outcome.stderr and "cut off after 2 partial" not in line


def test_retry_timeouts_sends_a_stream_that_ended_early_again(
    fake_api: FakeDeerAPI, invoke: Any
) -> None:
    fake_api.queue({"route": "generations", "stream_end": "early"}, {})
    outcome = invoke(
        "generate", "a fox", "--partial-images", "1", "-o", "fox.png", "--retry-timeouts"
    )
    assert outcome.exit_code == 0, outcome
    assert len(sent_bodies(fake_api)) == 2
    assert "possibly billed" in outcome.stderr
    assert sorted(p.name for p in Path().iterdir()) == ["fox.png"]


def test_a_relay_that_drops_stream_works_with_one_note(fake_api: FakeDeerAPI, invoke: Any) -> None:
    fake_api.always(route="generations", ignore_stream=True)
    Path("p.txt").write_text("a fox\nan owl\na whale\n")
    outcome = invoke("generate", "-f", "p.txt", "--partial-images", "2", "-d", "out")
    assert outcome.exit_code == 0, outcome
    assert len(list(Path("out").iterdir())) == 3
    assert outcome.stderr.count("answered without streaming") == 1


def test_unnamed_events_and_done_are_read(fake_api: FakeDeerAPI, invoke: Any) -> None:
    fake_api.always(route="generations", stream_unnamed=True)
    outcome = invoke("generate", "a fox", "--partial-images", "3", "-o", "fox.webp")
    assert outcome.exit_code == 0, outcome
    assert sorted(p.name for p in Path().iterdir()) == ["fox.webp"]


def test_a_file_already_at_a_partial_name_is_left_alone(fake_api: FakeDeerAPI, invoke: Any) -> None:
    Path("fox.partial-1.png").write_bytes(b"mine")
    outcome = invoke("generate", "a fox", "--partial-images", "2", "-o", "fox.png")
    assert outcome.exit_code == 0, outcome
    assert Path("fox.partial-1.png").read_bytes() == b"mine"
    assert sorted(p.name for p in Path().iterdir()) == ["fox.partial-1.png", "fox.png"]
    assert outcome.stderr.count("partial image not written") == 1


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["-m", "gpt-image-2.5-sunburst", "--format", "svg"], "SVG output cannot be streamed"),
        (["-m", "gpt-image-2.5-sunburst", "--format", "gif"], "GIF output cannot be streamed"),
        (["--partial-images", "4"], "invalid value for --partial-images: 4"),
    ],
)
def test_what_cannot_stream_is_refused_before_paying(
    fake_api: FakeDeerAPI, invoke: Any, args: list[str], said: str
) -> None:
    outcome = invoke("generate", "a fox", "--partial-images", "1", *args)
    assert outcome.exit_code == 2, outcome
    assert said in outcome.stderr
    assert sent_bodies(fake_api) == []


def test_a_family_that_cannot_stream_is_sent_without_it_saying_so(
    fake_api: FakeDeerAPI, invoke: Any
) -> None:
    outcome = invoke(
        "generate", "a fox", "-m", "doubao-seedream-4-5-251128", "--partial-images", "2", "-d", "o"
    )
    assert outcome.exit_code == 0, outcome
    [body] = sent_bodies(fake_api)
    assert "stream" not in body and "partial_images" not in body
    assert "Seedream 4.5 streams no partial images: --partial-images not sent" in outcome.stderr


def test_the_dry_run_shows_the_stream(fake_api: FakeDeerAPI, invoke: Any) -> None:
    outcome = invoke("generate", "a fox", "--partial-images", "2", "--dry-run")
    assert outcome.exit_code == 0, outcome
    body = json.loads(outcome.stdout.splitlines()[0])["body"]
    assert body["stream"] is True and body["partial_images"] == 2


def test_a_second_ctrl_c_mid_stream_leaves_no_partial_file(fake_api: FakeDeerAPI) -> None:
    from tests.conftest import interrupt_when
    from tests.test_signals import cut_the_waits_short

    fake_api.always(route="generations", stream_gap=30)  # the second partial is far away
    try:
        stopped = interrupt_when(
            ["generate", "a fox", "--partial-images", "2", "-o", "fox.png", "--retries", "0"],
            lambda: Path("fox.partial-1.png").exists(),
            again_after=2,
        )
    finally:
        cut_the_waits_short(fake_api)
    assert stopped.twice and stopped.code == 130, stopped.err[-2000:]
    assert list(Path().iterdir()) == []


def test_partials_past_those_asked_for_are_not_written(
    fake_api: FakeDeerAPI, invoke: Any, seen_partials: list[list[str]]
) -> None:
    fake_api.always(route="generations", stream_partials=3)  # 3 sent, 1 asked for
    outcome = invoke("generate", "a fox", "--partial-images", "1", "-o", "fox.png")
    assert outcome.exit_code == 0, outcome
    assert seen_partials == [["fox.partial-1.png", "fox.png"]]
    assert sorted(p.name for p in Path().iterdir()) == ["fox.png"]
