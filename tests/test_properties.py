"""Issue 6, bad input: property-based tests of every parser, and hostile files and folders.

Each parser either returns what the contract says or raises a DeerimgError with exit 2 (usage)
or 3 (configuration): never another exception, never a traceback. Names made from prompts stay
inside the output folder and are never empty or reserved. Writes that fail leave no file.
"""

from __future__ import annotations

import base64
import errno
import io
import json
import math
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from deerimg import values
from deerimg.errors import DeerimgError, ExitCode
from deerimg.imaging import images, writer
from deerimg.imaging.formats import sniff
from deerimg.jobs import names, paths, prompts, request
from deerimg.jobs.request import RequestSpec
from deerimg.settings import file, keys
from deerimg.wire import retry
from tests.conftest import OUTPUTS
from tests.fake import FakeDeerAPI
from tests.helpers import names_in

# Fast enough for CI (each property well under 2 s), no example database left in the repo, and
# the autouse isolated_env fixture is fine to share between the examples of one test.
PROPERTY = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Characters str.splitlines() takes for line ends besides \n and \r (see the test of them below).
ODD_LINE_ENDS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
# Text as a UTF-8 file holds it: no lone surrogates (those come from undecodable bytes).
line_text = st.text(
    st.characters(exclude_characters="\n\r" + ODD_LINE_ENDS, exclude_categories=["Cs"]),
    max_size=60,
)
plain_text = st.text(
    st.characters(exclude_characters=ODD_LINE_ENDS, exclude_categories=["Cs"]), max_size=20
)
# Text as stdin read with errors="surrogateescape" (a C locale) may hold: lone surrogates too.
raw_line_text = st.text(st.characters(exclude_characters="\n\r" + ODD_LINE_ENDS), max_size=60)
json_values = st.recursive(
    st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_characters=ODD_LINE_ENDS), max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(plain_text, inner, max_size=3),
    max_leaves=8,
)


def usage_or(value: Any, call: Any, *args: Any, **kwargs: Any) -> Any:
    """CALL's result, or VALUE when it raised a usage error (any other exception fails)."""
    try:
        return call(*args, **kwargs)
    except DeerimgError as error:
        assert error.exit_code == ExitCode.USAGE, error.message
        return value


# -- prompt files and JSON lines --------------------------------------------------------------


def has_surrogates(text: str) -> bool:
    return any("\ud800" <= char <= "\udfff" for char in text)


@PROPERTY
@given(st.lists(raw_line_text, max_size=12))
def test_prompt_lines_parse_or_refuse(lines: list[str]) -> None:
    kept = [
        (number, line.strip())
        for number, line in enumerate(lines, start=1)
        if line.strip() and not line.strip().startswith("#")
    ]
    jobs = usage_or(None, prompts.parse_lines, lines, "prompts.txt")
    if jobs is None:  # no prompt, a line starting with { that is no JSON object, not UTF-8
        assert not kept or any(text.startswith("{") or has_surrogates(text) for _, text in kept)
        return
    assert len(jobs) == len(kept)
    for job, (number, text) in zip(jobs, kept, strict=True):
        assert job.line == number
        assert job.prompt.strip() == job.prompt != ""
        if not text.startswith("{"):
            assert job.prompt == text


request_fields = st.fixed_dictionaries(
    {"prompt": line_text.filter(str.strip)},
    optional={
        "size": st.sampled_from(["1024x1024", "auto", "1536x1024"]),
        "quality": st.sampled_from(values.VALUE_SETS["quality"]),
        "n": st.integers(1, 10),
        "seed": st.integers(),
        "style": plain_text.filter(str.strip),
        # deerimg refuses lone surrogates (tested elsewhere): a round trip has none
        "extra": json_values.filter(
            lambda v: v is not None and not has_surrogates(json.dumps(v, ensure_ascii=False))
        ),
        "output": line_text.filter(str.strip),
    },
)


@PROPERTY
@given(st.lists(request_fields, min_size=1, max_size=5), st.booleans())
def test_json_lines_round_trip(objects: list[dict[str, Any]], ascii_only: bool) -> None:
    text = "\n".join(json.dumps(o, ensure_ascii=ascii_only) for o in objects) + "\n"
    jobs = prompts.parse_lines(text.split("\n"), "prompts.txt")
    assert len(jobs) == len(objects)
    for job, obj in zip(jobs, objects, strict=True):
        fields = dict(obj)
        assert job.prompt == fields.pop("prompt").strip()
        assert job.output == fields.pop("output", None)
        assert dict(job.overrides) == fields


@PROPERTY
@given(
    st.one_of(
        st.just("null"),
        json_values.filter(lambda v: not isinstance(v, dict)).map(json.dumps),
        st.dictionaries(st.sampled_from(["prompt", "n", "model", "output"]), json_values).map(
            json.dumps
        ),
        st.text(max_size=30).map(lambda t: "{" + t),
    )
)
def test_bad_json_lines_are_usage_errors(line: str) -> None:
    assume(line.startswith("{") or line.startswith("[") or line == "null")
    jobs = usage_or(None, prompts.parse_lines, [line.replace("\n", " ")], "prompts.txt")
    if jobs is not None:
        (job,) = jobs
        assert job.prompt.strip()


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_json_line_with_a_unicode_line_separator(
    fake_api: FakeDeerAPI, invoke: Any, isolated_env: Path, separator: str
) -> None:
    """A JSON string may hold U+2028 raw (json.dumps(ensure_ascii=False) writes it so)."""
    prompt = f"a paper boat{separator}at sunrise"
    (isolated_env / "p.txt").write_text(json.dumps({"prompt": prompt}, ensure_ascii=False) + "\n")
    outcome = invoke("generate", "-f", "p.txt", "--dry-run")
    assert outcome.exit_code == 0, outcome
    assert json.loads(outcome.stdout)["body"]["prompt"] == prompt


# -- -p KEY=VALUE -----------------------------------------------------------------------------


def _null_or_not_finite(raw: str) -> bool:
    try:
        value = json.loads(raw)
    except ValueError:
        return False
    return value is None or values.non_finite(value) is not None


@PROPERTY
@given(st.text(max_size=40))
def test_param_parses_or_refuses(text: str) -> None:
    parsed = usage_or(None, request.parse_param, text)
    key, sep, raw = text.partition("=")
    if parsed is None:  # no KEY=, or a value JSON reads as null, NaN or infinite (1e999)
        assert not sep or not key.strip() or _null_or_not_finite(raw)
        return
    key, value = parsed
    assert key == text.partition("=")[0].strip() != ""
    assert value is not None


@PROPERTY
@given(
    st.text(st.characters(exclude_characters="="), min_size=1, max_size=15).filter(str.strip),
    json_values.filter(lambda v: v is not None),
)
def test_param_json_values_round_trip(key: str, value: Any) -> None:
    assert request.parse_param(f"{key}={json.dumps(value)}") == (key.strip(), value)


@PROPERTY
@given(st.text(max_size=30))
def test_param_strings_that_are_not_json_stay_strings(raw: str) -> None:
    try:
        json.loads(raw)
    except ValueError:
        assert request.parse_param(f"style={raw}") == ("style", raw)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "[1, NaN]"])
def test_param_refuses_non_finite_numbers(invoke: Any, value: str) -> None:
    outcome = invoke("generate", "a paper boat", "-p", f"seed={value}", "--dry-run")
    assert outcome.exit_code == 2, outcome


@pytest.mark.parametrize("value", ["NaN", "Infinity", "[1, -Infinity]"])
def test_non_finite_param_is_never_sent(fake_api: FakeDeerAPI, invoke: Any, value: str) -> None:
    """Found by these tests: httpx raised ValueError, a traceback; now a clean error."""
    outcome = invoke("generate", "a paper boat", "-p", f"seed={value}")
    assert outcome.exit_code in (1, 2), outcome
    assert "Traceback" not in outcome.stderr
    assert "NaN" in outcome.stderr and "Infinity" in outcome.stderr
    assert fake_api.requests == []


# -- names: slugs and templates ---------------------------------------------------------------


@PROPERTY
@given(st.text(max_size=200))
def test_slug_is_safe_for_any_prompt(prompt: str) -> None:
    slug = names.slugify(prompt)
    assert SLUG_RE.fullmatch(slug), slug
    assert 0 < len(slug) <= names.SLUG_MAX
    assert slug not in names.RESERVED
    assert names.slugify(slug) == slug


@pytest.mark.parametrize(
    ("prompt", "slug"),
    [
        ("../../etc/passwd", "etc-passwd"),
        ("CON", "con-image"),
        ("nul", "nul-image"),
        ("😀🎨", "image"),
        ("...", "image"),
        ("Ünïcödé café", "unicode-cafe"),
        ("/", "image"),
        ("C:\\Windows\\system32", "c-windows-system32"),
    ],
)
def test_slug_examples(prompt: str, slug: str) -> None:
    assert names.slugify(prompt) == slug


templates = st.sampled_from(
    [None, "{slug}", "{slug}.{ext}", "{model}/{slug}-{n}", "{index}-{slug}-{model}.png",
     "{date}-{time}-{slug}", "img.png", "{slug}{slug}{slug}"]
)  # fmt: skip


@PROPERTY
@given(
    st.lists(st.text(max_size=80).filter(str.strip), min_size=1, max_size=6),
    st.text(max_size=20),
    templates,
    st.integers(1, 3),
)
def test_planned_names_stay_inside_the_output_folder(
    prompt_list: list[str], model: str, template: str | None, count: int
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out"
        infos = [paths.NameInfo(p, count, model, "png", None) for p in prompt_list]
        plans = usage_or(None, paths.plan, infos, template, out)
        if plans is None:  # two images on one name: refused before anything is sent
            assert template is not None and "{index}" not in template
            return
        targets = [t.path for plan in plans for t in plan.targets]
        assert len(targets) == len(prompt_list) * count
        assert len(set(targets)) == len(targets)  # no two images on one file
        for path in targets:
            assert path is not None
            # The template may name a sub-folder ({model}/…), never a way out of the folder.
            assert path.resolve().is_relative_to(out.resolve()), path
            assert path.name and not path.name.startswith(".")
            assert path.stem.lower() not in names.RESERVED
            assert "/" not in path.name and "\x00" not in str(path)


@PROPERTY
@given(st.text(min_size=1, max_size=30))
def test_model_placeholder_never_climbs_out(model: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out"
        (plan,) = paths.plan([paths.NameInfo("boat", 1, model, "png", None)], "{model}.png", out)
        path = plan.targets[0].path
        assert path is not None
        assert path.parent == out
        assert path.name != ".png"


@pytest.mark.parametrize("model", ["nul", "CON", "com1", "Aux"])
def test_model_placeholder_is_never_a_reserved_name(model: str, tmp_path: Path) -> None:
    (plan,) = paths.plan([paths.NameInfo("boat", 1, model, "png", None)], "{model}.png", tmp_path)
    path = plan.targets[0].path
    assert path is not None
    assert path.stem.lower() not in names.RESERVED


# -- size and quality -------------------------------------------------------------------------


@PROPERTY
@given(st.one_of(st.text(max_size=15), st.from_regex(r"[0-9]{1,6}x[0-9]{1,6}", fullmatch=True)))
def test_size_values(size: str) -> None:
    # A model no family of the table holds: only the shape is checked (tests/test_families.py
    # has each family's own rules).
    spec = RequestSpec(model="acme-image-9", size=size)
    accepted = usage_or(False, lambda: request.check_spec(spec) or True)
    assert accepted == bool(values.SIZE_RE.match(size))
    if accepted:
        assert request.build_body(spec, "p", None)["size"] == size


@PROPERTY
@given(st.one_of(st.text(max_size=12), st.sampled_from(values.VALUE_SETS["quality"])))
def test_quality_values(quality: str) -> None:
    spec = RequestSpec(model="acme-image-9", quality=quality)
    try:
        request.check_spec(spec)
    except DeerimgError as error:
        assert error.exit_code == ExitCode.USAGE
        assert quality not in values.VALUE_SETS["quality"]
        assert error.hint == f"to send it anyway, use -p quality={quality}"
    else:
        assert quality in values.VALUE_SETS["quality"]


@settings(PROPERTY, max_examples=40)
@given(
    st.text(
        st.characters(exclude_categories=["Cs", "Cc"], exclude_characters="-"),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from(["-s", "-q"]),
)
def test_size_and_quality_flags_on_the_command_line(invoke: Any, value: str, flag: str) -> None:
    outcome = invoke("generate", "a paper boat", "-m", "acme-image-9", flag, value, "--dry-run")
    assert "Traceback" not in outcome.stderr
    valid = (
        bool(values.SIZE_RE.match(value)) if flag == "-s" else value in values.VALUE_SETS["quality"]
    )
    if valid:
        assert outcome.exit_code == 0, outcome
    else:
        assert outcome.exit_code == 2, outcome
        assert "-p " in outcome.stderr
        assert outcome.stdout == ""


# -- config values and files ------------------------------------------------------------------

config_inputs = st.one_of(
    st.text(max_size=30),
    st.integers(),
    st.floats(allow_infinity=False),  # infinity: refused, see the test below
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
)


@PROPERTY
@given(st.sampled_from(sorted(keys.KEYS)), config_inputs)
def test_config_values_check_or_refuse(key: str, value: Any) -> None:
    try:
        checked = keys.check_value(key, value)
    except ValueError as error:
        assert str(error)
        return
    if key in ("jobs", "retries"):
        assert isinstance(checked, int)
    if key == "timeout":
        assert math.isfinite(checked) and checked > 0


@pytest.mark.parametrize("key", ["jobs", "retries"])
def test_config_integer_that_is_infinite(invoke: Any, isolated_env: Path, key: str) -> None:
    folder = isolated_env.parent / "config"
    folder.mkdir()
    (folder / "config.toml").write_text(f"{key} = inf\n")
    outcome = invoke("generate", "a paper boat", "--dry-run")
    assert outcome.exit_code == 3, outcome
    assert "config.toml" in outcome.stderr and key in outcome.stderr


@PROPERTY
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_config_file_reads_or_names_itself(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.toml"
        path.write_bytes(raw)
        try:
            data = file.read_config(path)
        except DeerimgError as error:
            assert error.exit_code == ExitCode.CONFIG
            assert str(path) in error.message
            assert path.read_bytes() == raw  # never rewritten
        else:
            assert isinstance(data, dict)


toml_documents = st.dictionaries(
    st.sampled_from(sorted(keys.KEYS)),
    st.one_of(
        st.integers(-5, 100).map(str),
        st.floats(-1, 1e6).map(repr),
        st.sampled_from(["true", '"png"', '"jpg"', '"1024x1024"', '"hd"', '"auto"', '"x"', '""',
                         '"http://example.com"', '"ftp://x"', "[1]", "{a = 1}", '"  "', "nan"]),
    ),
)  # fmt: skip


@PROPERTY
@given(toml_documents)
def test_any_config_values_resolve_or_exit_3(document: dict[str, str]) -> None:
    from deerimg.settings.resolve import resolve_settings

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.toml"
        path.write_text("".join(f"{k} = {v}\n" for k, v in document.items()))
        values = file.read_config(path)
        try:
            resolved = resolve_settings({}, {}, values)
        except DeerimgError as error:
            assert error.exit_code == ExitCode.CONFIG
            assert error.message.startswith(("config file", "base URL"))
        else:
            assert resolved.jobs >= 1
            assert resolved.retries >= 0
            assert resolved.timeout > 0


config_text = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=30).filter(
    str.strip
)


@PROPERTY
@given(st.dictionaries(st.sampled_from(["model", "output_dir", "base_url"]), config_text))
def test_config_file_round_trips(values: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cfg" / "config.toml"
        file.write_config(values, path)
        assert file.read_config(path) == values


def test_config_value_with_delete_character_round_trips(isolated_env: Path) -> None:
    """TOML forbids a raw U+007F, which json.dumps leaves as is."""
    path = isolated_env / "cfg" / "config.toml"
    file.write_config({"model": "gpt\x7fimage"}, path)
    assert file.read_config(path) == {"model": "gpt\x7fimage"}


# -- retry headers and image bytes ------------------------------------------------------------

header_values = st.one_of(
    st.text(max_size=40),
    st.floats().map(str),
    st.integers(-(10**30), 10**30).map(str),
    st.datetimes().map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S GMT")),
    st.sampled_from(["nan", "inf", "-inf", "1e999", "Mon, 01 Jan 9999 23:59:59 GMT"]),
)


@PROPERTY
@given(
    st.dictionaries(st.sampled_from(["Retry-After", "retry-after-ms", "X-Other"]), header_values),
    st.integers(0, 30),
    st.floats(0, 1, exclude_max=True),
)
def test_retry_wait_is_never_nan_or_negative(
    headers: dict[str, str], attempt: int, rand: float
) -> None:
    wait = retry.delay(attempt, headers, 1.7e9, rand)
    assert wait >= 0 and not math.isnan(wait)  # inf is allowed: refused as > 120 s
    asked = retry.retry_after(headers, 1.7e9)
    assert asked is None or asked == wait


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"retry-after-ms": "250"}, 0.25),
        ({"Retry-After": "7"}, 7.0),
        ({"Retry-After": "Thu, 01 Jan 2026 00:00:30 GMT"}, 30.0),
        ({"retry-after-ms": "nan", "Retry-After": "3"}, 3.0),
        ({"retry-after-ms": "5", "Retry-After": "9"}, 0.005),
        ({"Retry-After": "120.5"}, 120.5),
        ({"Retry-After": "inf"}, math.inf),
        ({"Retry-After": "1e309"}, math.inf),
        # No wait at all is the back-off (0.5 s for the first retry), never back to back
        # (issue 16): now, a past date, 0, negative, -inf, in seconds or ms.
        ({"Retry-After": "Thu, 01 Jan 2026 00:00:00 GMT"}, 0.5),
        ({"Retry-After": "Wed, 31 Dec 2025 23:00:00 GMT"}, 0.5),
        ({"Retry-After": "0"}, 0.5),
        ({"Retry-After": "-4"}, 0.5),
        ({"Retry-After": "-inf"}, 0.5),
        ({"retry-after-ms": "0", "Retry-After": "9"}, 0.5),
        ({"retry-after-ms": "-1"}, 0.5),
    ],
)
def test_retry_after_table(headers: dict[str, str], wait: float) -> None:
    now = 1767225600.0  # 2026-01-01T00:00:00Z
    assert retry.delay(0, headers, now, 0.0) == pytest.approx(wait)


def test_backoff_is_exponential_capped_with_jitter() -> None:
    assert [retry.backoff(n, 0.0) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert retry.backoff(2, 0.999) == pytest.approx(2.0 * 0.75, rel=1e-3)
    assert [retry.should_retry(s) for s in (400, 401, 403, 404, 408, 409, 429, 500, 504, 501)] == [
        False, False, False, False, True, True, True, True, True, False
    ]  # fmt: skip


@PROPERTY
@given(data=st.binary(max_size=300), chunk=st.sampled_from([4, 8, 400, images.CHUNK]))
def test_base64_decodes_in_any_chunking(
    data: bytes, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(images, "CHUNK", chunk)
    text = base64.b64encode(data).decode()
    if not data:
        with pytest.raises(DeerimgError):
            list(images.decode_chunks(text))
        return
    assert b"".join(images.decode_chunks(text)) == data


@PROPERTY
@given(st.text(max_size=40))
def test_invalid_base64_is_a_clean_error(text: str) -> None:
    try:
        decoded = b"".join(images.decode_chunks(text))
    except DeerimgError as error:
        assert error.exit_code == ExitCode.FAILURE
    else:
        # Line breaks and spaces inside are MIME wrapping, which images._payload takes out on
        # purpose: the oracle decodes what is left (text.strip() alone made this flaky).
        assert base64.b64decode("".join(text.split()), validate=True) == decoded


@PROPERTY
@given(
    st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"RIFF\x00\x00\x00\x00WEBP"]),
    st.binary(max_size=120),
)
def test_sniffing_any_bytes_never_raises(prefix: bytes, rest: bytes) -> None:
    data = prefix + rest
    kind = sniff(data)
    assert kind in (None, "png", "jpeg", "webp")
    size = images.pixel_size(data)
    assert size is None or (len(size) == 2 and all(isinstance(v, int) for v in size))


# -- big, broken and unreadable input ---------------------------------------------------------


def test_ten_megabyte_prompt_file(invoke: Any, isolated_env: Path) -> None:
    """10 MB of long prompts (10,000 lines of 1,000 bytes), planned and dry-run in seconds."""
    words = "a paper boat on a calm sea at sunrise, watercolour, soft light, "
    lines = [f"{i} {words * 16}"[:999] for i in range(10_000)]
    (isolated_env / "big.txt").write_text("\n".join(lines) + "\n")
    assert (isolated_env / "big.txt").stat().st_size == 10_000_000
    outcome = invoke("generate", "-f", "big.txt", "-o", "img-{index}.png", "--dry-run")
    assert outcome.exit_code == 0, outcome.stderr[-500:]
    requests = outcome.stdout.splitlines()
    assert len(requests) == len(lines)
    last = json.loads(requests[-1])
    assert (last["body"]["prompt"], last["outputs"]) == (lines[-1].strip(), ["img-10000.png"])


def test_ten_megabyte_single_prompt(invoke: Any, isolated_env: Path) -> None:
    prompt = "boat " * 2_000_000
    (isolated_env / "one.txt").write_text(prompt + "\n")
    outcome = invoke("generate", "-f", "one.txt", "--dry-run")
    assert outcome.exit_code == 0
    assert json.loads(outcome.stdout)["body"]["prompt"] == prompt.strip()


@pytest.mark.parametrize(
    "raw",
    [b"a boat\n\xff\xfe sea\n", b"\xc3\x28\n", b"ok\nok\n\xed\xa0\x80\n", b"\x80"],
    ids=["latin-1", "bad-continuation", "encoded-surrogate", "lone-continuation"],
)
def test_prompt_file_that_is_not_utf8(
    fake_api: FakeDeerAPI, invoke: Any, isolated_env: Path, raw: bytes
) -> None:
    (isolated_env / "p.txt").write_bytes(raw)
    outcome = invoke("generate", "-f", "p.txt")
    assert outcome.exit_code == 2
    line = raw[: raw.find(b"\n", raw.find(b"\xff") if b"\xff" in raw else 0)].count(b"\n")
    assert "p.txt line " in outcome.stderr and "not UTF-8" in outcome.stderr
    assert f"line {line + 1}" in outcome.stderr or "line" in outcome.stderr
    assert fake_api.requests == []


def test_standard_input_that_is_not_utf8(fake_api: FakeDeerAPI, invoke: Any) -> None:
    outcome = invoke("generate", "-f", "-", input=b"a boat \xff\xfe\n")
    assert outcome.exit_code == 2, outcome
    assert "not UTF-8" in outcome.stderr
    assert fake_api.requests == []


def test_request_that_is_not_utf8_is_never_sent() -> None:
    """A Latin-1 terminal: argv bytes arrive as lone surrogates. httpx raised, a traceback."""
    from deerimg.wire.payload import encode_body as _encode_body

    prompt = b"caf\xe9 boat".decode("utf-8", "surrogateescape")
    with pytest.raises(DeerimgError, match="not valid UTF-8") as caught:
        _encode_body({"model": "gpt-image-2", "prompt": prompt})
    assert caught.value.exit_code == ExitCode.USAGE
    assert _encode_body({"prompt": "café ☕", "n": 2}) == '{"prompt":"café ☕","n":2}'.encode()


def test_prompt_argument_that_is_not_utf8(fake_api: FakeDeerAPI, isolated_env: Path) -> None:
    prompt = b"caf\xe9 boat".decode("utf-8", "surrogateescape")
    done = subprocess.run(
        [sys.executable, "-m", "deerimg", "generate", prompt, "--retries", "0"],
        capture_output=True,
        env=dict(os.environ),
        timeout=30,
        check=False,
    )
    stderr = done.stderr.decode("utf-8", "replace")
    OUTPUTS.append(done.stdout.decode("utf-8", "replace") + stderr)
    assert "Traceback" not in stderr
    assert done.returncode == 2, stderr
    assert "UTF-8" in stderr
    assert fake_api.requests == []
    assert list(isolated_env.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_output_folder(fake_api: FakeDeerAPI, invoke: Any, isolated_env: Path) -> None:
    out = isolated_env / "out"
    out.mkdir(mode=0o555)
    outcome = invoke("generate", "a paper boat", "-d", "out")
    assert outcome.exit_code == 2
    assert "not writable" in outcome.stderr
    assert fake_api.requests == []  # refused before anything is paid


def test_unwritable_output_folder_is_refused_before_paying(
    fake_api: FakeDeerAPI, invoke: Any, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As root no folder is read-only to os.access; this simulates one that is (EROFS)."""
    real_access = os.access
    out = isolated_env / "out"
    out.mkdir()
    monkeypatch.setattr(
        os,
        "access",
        lambda p, mode, **kw: (
            False if mode & os.W_OK and Path(p).resolve() == out else real_access(p, mode, **kw)
        ),
    )
    outcome = invoke("generate", "a paper boat", "-d", "out")
    assert outcome.exit_code == 2
    assert "not writable" in outcome.stderr
    assert fake_api.requests == []


class FullDisk(io.RawIOBase):
    """A file that takes LIMIT bytes, then fails as a full disk does."""

    def __init__(self, fd: int, limit: int) -> None:
        self._file = io.FileIO(fd, "wb")
        self._limit = limit

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self._file.tell() + len(data) > self._limit:
            self._file.write(bytes(data)[: max(self._limit - self._file.tell(), 0)])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return self._file.write(data)

    def fileno(self) -> int:
        return self._file.fileno()

    def close(self) -> None:
        self._file.close()
        super().close()


@pytest.mark.parametrize("limit", [0, 1000])
def test_full_disk_leaves_no_partial_file(
    fake_api: FakeDeerAPI,
    invoke: Any,
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    limit: int,
) -> None:
    real_fdopen = os.fdopen

    def fdopen(fd: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if mode == "wb":
            return io.BufferedWriter(FullDisk(fd, limit), buffer_size=512)
        return real_fdopen(fd, mode, *args, **kwargs)

    monkeypatch.setattr(os, "fdopen", fdopen)
    outcome = invoke("generate", "a paper boat", "-d", "out")
    monkeypatch.undo()
    assert outcome.exit_code == 1, outcome
    assert "No space left on device" in outcome.stderr
    assert "Traceback" not in outcome.stderr
    assert len(fake_api.requests) == 1  # a write error is not a reason to pay again
    assert list((isolated_env / "out").iterdir()) == []


@pytest.mark.parametrize(
    "code", [errno.EACCES, errno.EROFS, errno.ENOSPC, errno.EDQUOT], ids=errno.errorcode.get
)
def test_folder_that_refuses_the_temporary_file(
    fake_api: FakeDeerAPI,
    invoke: Any,
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    code: int,
) -> None:
    """The folder turned read-only (or full) between planning and writing: a clean error."""

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    outcome = invoke("generate", "a paper boat", "-d", "out")
    monkeypatch.undo()
    assert outcome.exit_code == 1
    assert f"error: cannot write in out: {os.strerror(code)}" in outcome.stderr
    assert list((isolated_env / "out").iterdir()) == []


def test_force_onto_a_folder_is_a_clean_error(
    fake_api: FakeDeerAPI, invoke: Any, isolated_env: Path
) -> None:
    """Found by these tests: os.replace onto a directory was a traceback. Issue 16: and it was
    refused only after paying; now before anything is sent (exit 2)."""
    (isolated_env / "boat.png").mkdir()
    outcome = invoke("generate", "a paper boat", "-o", "boat.png", "--force")
    assert outcome.exit_code == 2, outcome
    assert "boat.png is a folder: an image cannot replace it" in outcome.stderr
    assert "Traceback" not in outcome.stderr
    assert fake_api.requests == []
    assert names_in(isolated_env) == ["boat.png"]
    assert list((isolated_env / "boat.png").iterdir()) == []


def test_longest_file_name_is_writable(fake_api: FakeDeerAPI, invoke: Any) -> None:
    """Found by these tests: the temporary name added ~20 characters to a 255-byte name."""
    name = "b" * 251 + ".png"
    outcome = invoke("generate", "a paper boat", "-o", name)
    assert outcome.exit_code == 0, outcome
    assert outcome.stdout == name + "\n"
    assert names_in() == [name]


@PROPERTY
@given(st.lists(st.binary(max_size=50), max_size=6), st.booleans())
def test_writer_puts_whole_files_in_place(chunks: list[bytes], clash: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "image.png"
        if clash:
            target.write_bytes(b"someone else's")
        final, size = writer.write_file(iter(chunks), target, replace=False, rename_on_clash=True)
        assert final == (target.with_name("image-2.png") if clash else target)
        assert final.read_bytes() == b"".join(chunks)
        assert size == len(b"".join(chunks))
        assert not clash or target.read_bytes() == b"someone else's"
        assert names_in(folder) == sorted({"image.png", final.name})


def test_writer_cleans_up_when_the_bytes_fail_midway(tmp_path: Path) -> None:
    def chunks() -> Any:
        yield b"\x89PNG\r\n\x1a\n"
        raise DeerimgError("the response's b64_json is not valid base64")

    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(DeerimgError):
        writer.write_file(chunks(), folder / "x.png", replace=False, rename_on_clash=False)
    assert list(folder.iterdir()) == []


def no_hard_links(self: Path, target: Path) -> None:
    raise OSError(errno.EPERM, "Operation not permitted")  # as on FAT and some network shares


def test_writer_without_hard_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Path, "hardlink_to", no_hard_links)
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    (tmp_path / "image.png").write_bytes(b"taken")
    final, _ = writer.write_file(
        [b"new"], tmp_path / "image.png", replace=False, rename_on_clash=True
    )
    assert final.name == "image-2.png"
    assert sorted((p.name, p.read_bytes()) for p in tmp_path.iterdir()) == [
        ("image-2.png", b"new"),
        ("image.png", b"taken"),
    ]


def test_writer_without_hard_links_never_leaves_its_empty_claim(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by these tests: a failed rename left the exclusive claim, a 0-byte image."""
    real_replace = Path.replace

    def failing_replace(self: Path, target: Any) -> Path:
        if self.name.endswith(".deerimg-tmp"):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real_replace(self, target)

    monkeypatch.setattr(Path, "hardlink_to", no_hard_links)
    monkeypatch.setattr(Path, "replace", failing_replace)
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    with pytest.raises(DeerimgError, match="Input/output error"):
        writer.write_file([b"new"], tmp_path / "x.png", replace=False, rename_on_clash=False)
    assert list(tmp_path.iterdir()) == []


def test_writer_without_hard_links_a_second_ctrl_c_removes_its_claim(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review: os._exit after a second Ctrl-C skipped the clean-up above."""
    seen: dict[str, bool] = {}

    def interrupted_replace(self: Path, target: Any) -> Path:
        seen["claimed"] = Path(target).stat().st_size == 0
        writer.remove_temporary_files()  # what runner._leave does before os._exit
        seen["left"] = Path(target).exists() or self.exists()
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "hardlink_to", no_hard_links)
    monkeypatch.setattr(Path, "replace", interrupted_replace)
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(KeyboardInterrupt):
        writer.write_file([b"new"], folder / "x.png", replace=False, rename_on_clash=False)
    assert seen == {"claimed": True, "left": False}
    assert list(folder.iterdir()) == []


def test_a_claim_already_renamed_over_is_never_removed(tmp_path: Path) -> None:
    image = tmp_path / "x.png"
    image.write_bytes(b"finished image")
    writer._claims.add(str(image))  # the rename happened; the claim not yet forgotten
    writer.remove_temporary_files()
    assert image.read_bytes() == b"finished image"


# answers.lift_images: the answer parsed with the base64 left in place (issue 10)
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
TRICKY_TEXT = st.sampled_from(['"b64_json":"', "b64_json", '\\"b64_json\\": "', "", "é\u2028"])


def _plain(data: Any) -> Any:
    """DATA with every memoryview turned back into the text it views."""
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    return bytes(data).decode("ascii") if isinstance(data, memoryview) else data


@PROPERTY
@given(
    images_=st.lists(st.binary(max_size=60), max_size=3),
    others=st.lists(st.fixed_dictionaries({"url": st.text(max_size=10)}), max_size=2),
    revised=st.text(max_size=20) | TRICKY_TEXT,
    extra=st.dictionaries(st.text(max_size=10) | TRICKY_TEXT, JSON_VALUE, max_size=3),
    indent=st.sampled_from([None, 1]),
)
def test_lifted_answer_equals_the_parsed_one(
    images_: list[bytes],
    others: list[dict[str, str]],
    revised: str,
    extra: dict,
    indent: int | None,
) -> None:
    from deerimg.wire.responses import lift_images

    items: list[dict[str, Any]] = [
        {"b64_json": base64.b64encode(b).decode(), "revised_prompt": revised} for b in images_
    ]
    answer = {**extra, "created": 1, "data": items + others, "usage": {"total_tokens": 9}}
    content = json.dumps(answer, indent=indent).encode()
    lifted = lift_images(content)
    if lifted is None:  # the caller parses it whole: allowed only where lifting is unsure
        assert not images_ or '"b64_json' in json.dumps(extra) + json.dumps(revised)
        return
    assert _plain(lifted) == json.loads(content)
    views = [item["b64_json"] for item in lifted["data"] if "b64_json" in item]
    assert all(isinstance(v, memoryview) and v.obj is content for v in views)


@pytest.mark.parametrize(
    "content",
    [
        b'{"data":[{"b64_json":"QUJD\\/"}]}',  # an escaped slash: parsed whole
        b'{"b64_json":"QUJD","data":[]}',  # not a data item's key
        b'{"data":[{"b64_json":"QUJD"}',  # truncated
        b'{"data":[{"url":"https://x"}]}',  # nothing to lift
    ],
)
def test_unusual_answers_are_left_to_json(content: bytes) -> None:
    from deerimg.wire.responses import lift_images

    assert lift_images(content) is None


@PROPERTY
@given(
    data=st.binary(max_size=900),
    head=st.binary(max_size=40),
    tail=st.binary(max_size=40),
    chunk=st.sampled_from([4, 8, 400, images.CHUNK]),
)
def test_base64_decodes_over_itself(
    data: bytes, head: bytes, tail: bytes, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(images, "CHUNK", chunk)
    text = base64.b64encode(data)
    buf = bytearray(head + text + tail)
    if not data:
        with pytest.raises(DeerimgError):
            images.decode_in_place(buf, len(head), len(head) + len(text))
        return
    assert images.decode_in_place(buf, len(head), len(head) + len(text)) is buf
    assert buf == data


@pytest.mark.parametrize("text", [b"QUJD!", b"QQ=A", b"Q", b"QUJD\nQUJD"])
def test_base64_over_itself_refuses_what_is_not_base64(text: bytes) -> None:
    with pytest.raises(DeerimgError, match="not valid base64"):
        images.decode_in_place(bytearray(b'{"x":"' + text + b'"}'), 6, 6 + len(text))


def test_a_lone_image_in_a_bytearray_is_decoded_over_its_answer() -> None:
    from deerimg.wire.responses import lift_images

    answer = bytearray(json.dumps({"data": [{"b64_json": "QUJD", "revised_prompt": "x"}]}).encode())
    data = lift_images(answer, "req_1")
    assert data is not None
    assert data["data"] == [{"revised_prompt": "x", "image": b"ABC"}]
    assert data["data"][0]["image"] is answer  # the answer's own buffer, cut down to the image
