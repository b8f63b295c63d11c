"""`deerimg models` against the fake DeerAPI's mixed list, the image-model rule, the id cache."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from deerimg import catalog
from tests.fake import default_models
from tests.helpers import names_in

# The fake's default list, as `GET /v1/models` answers it, minus chat, embedding, audio models.
IMAGE_IDS = [
    "chatgpt-image-latest",
    "dall-e-3",
    "doubao-seedream-4-5-251128",
    "flux-kontext-pro",
    "flux.1-dev",
    "gemini-2.5-flash-image",
    "gpt-image-1",
    "gpt-image-2",
    "ideogram-v3",
    "imagen-4.0-generate-preview",
    "midjourney",
    "qwen-image",
    "recraft-v3",
    "stable-diffusion-3.5-large",
]
OTHER_IDS = [
    "claude-sonnet-4",
    "deepseek-chat",
    "gemini-2.5-pro",
    "gpt-4o",
    "gpt-4o-mini",
    "text-embedding-3-small",
    "tts-1",
    "whisper-1",
]


@pytest.fixture
def cache_file() -> Path:
    return Path(os.environ["DEERIMG_CONFIG_DIR"]) / "cache" / "models.txt"


def first_column(stdout: str) -> list[str]:
    return [line.split()[0] for line in stdout.splitlines()[1:]]


def test_lists_only_image_models_sorted(invoke, fake_api):
    result = invoke("models")
    assert result.exit_code == 0, result
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "FAMILY", "OWNER", "CREATED"]  # issue 17: FAMILY
    assert first_column(result.stdout) == IMAGE_IDS
    assert "\x1b[" not in result.stdout
    assert "14 image models of 22; --all lists every model" in result.stderr
    assert [(r.method, r.path) for r in fake_api.requests] == [("GET", "/v1/models")]


def test_table_row_has_owner_and_created_date(invoke, fake_api):
    result = invoke("models")
    row = next(line for line in result.stdout.splitlines() if line.startswith("gpt-image-1 "))
    assert row.split() == ["gpt-image-1", "gpt-image-1", "openai", "2025-04-24"]
    widths = {len(line) - len(line.lstrip()) for line in result.stdout.splitlines()}
    assert widths == {0}
    created = {line.index(line.split()[-1]) for line in result.stdout.splitlines()[1:]}
    assert len(created) == 1  # aligned columns


def test_all_lists_every_model(invoke, fake_api):
    result = invoke("models", "--all")
    assert result.exit_code == 0
    assert first_column(result.stdout) == sorted(IMAGE_IDS + OTHER_IDS)
    assert "22 models of 22" in result.stderr


@pytest.mark.parametrize(
    ("args", "ids"),
    [
        (("--search", "flux"), ["flux-kontext-pro", "flux.1-dev"]),
        (("--search", "FLUX pro"), ["flux-kontext-pro"]),
        (("--search", "google"), ["gemini-2.5-flash-image"]),  # the owner matches too
        (("--search", "google", "--all"), ["gemini-2.5-flash-image", "gemini-2.5-pro"]),
        (("--search", "gpt-4o"), []),
        (("--search", "gpt-4o", "--all"), ["gpt-4o", "gpt-4o-mini"]),
    ],
)
def test_search(invoke, fake_api, args, ids):
    result = invoke("models", *args)
    assert result.exit_code == 0
    assert first_column(result.stdout) == ids
    assert f"{len(ids)} " in result.stderr
    assert "matching" in result.stderr


def test_json_is_one_array_of_the_raw_objects(invoke, fake_api):
    fake_api.models = [*default_models(), {"id": "flux-pro", "object": "model", "extra": [1]}]
    result = invoke("models", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    raw = {m["id"]: m for m in fake_api.models}
    # the API's objects as they came, each with deerimg's "family" (issue 17)
    assert [{k: v for k, v in m.items() if k != "family"} for m in data] == [
        raw[i] for i in sorted([*IMAGE_IDS, "flux-pro"])
    ]
    assert {m["id"]: m["family"] for m in data}["gpt-image-1"] == "gpt-image-1"
    assert result.stderr == ""
    everything = json.loads(invoke("models", "--json", "--all").stdout)
    assert len(everything) == 23


def test_empty_result(invoke, fake_api):
    assert json.loads(invoke("models", "--json", "--search", "nothing").stdout) == []
    result = invoke("models", "--search", "nothing")
    assert (result.exit_code, result.stdout) == (0, "ID  FAMILY  OWNER  CREATED\n")
    assert "0 image models matching 'nothing' of 22" in result.stderr


def test_duplicate_ids_and_odd_created_values(invoke, fake_api):
    fake_api.models = [
        {"id": "gpt-image-1", "owned_by": "openai", "created": 1745517030},
        {"id": "gpt-image-1", "owned_by": "mirror", "created": 1},
        {"id": "flux-pro", "created": 1745517030000},  # milliseconds
        {"id": "seedream-3", "created": "yesterday", "owned_by": None},
        {"id": "recraft-v3", "created": 10**20},
        {"no_id": True},
    ]
    result = invoke("models")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "ID           FAMILY       OWNER   CREATED",
        "flux-pro     flux                 2025-04-24",
        "gpt-image-1  gpt-image-1  openai  2025-04-24",
        "recraft-v3   generic",
        "seedream-3   generic",
    ]


# -- errors, retries, resolution ----------------------------------------------------------------


def test_wrong_key_exits_3_without_retrying(invoke, fake_api, monkeypatch):
    monkeypatch.setenv("DEERAPI_KEY", "sk-wrong-key-000000000000")
    result = invoke("models")
    assert (result.exit_code, result.stdout) == (3, "")
    assert "error: 401 Incorrect API key provided. (code invalid_api_key" in result.stderr
    assert "hint: check the key" in result.stderr
    assert len(fake_api.requests) == 1


def test_no_key_exits_3_before_any_request(invoke, fake_api, monkeypatch):
    monkeypatch.delenv("DEERAPI_KEY")
    result = invoke("models")
    assert result.exit_code == 3
    assert "error: no API key" in result.stderr
    assert "deerimg config set api-key" in result.stderr
    assert fake_api.requests == []


def test_server_errors_are_retried_then_exit_1(invoke, fake_api, config_file_dir):
    fake_api.always(status=503, retry_after_ms=1)
    result = invoke("models")
    assert (result.exit_code, result.stdout) == (1, "")
    assert len(fake_api.requests) == 4  # 1 + the default 3 retries
    assert result.stderr.count("retrying GET /v1/models: 503 Service Unavailable") == 3
    assert "request id req_" in result.stderr
    assert "error: 503 The service is temporarily overloaded." in result.stderr
    assert not (config_file_dir / "cache").exists()  # nothing fetched, nothing cached


def test_config_retries_apply(invoke, fake_api):
    assert invoke("config", "set", "retries", "1").exit_code == 0
    fake_api.always(status=500, retry_after_ms=1)
    assert invoke("models").exit_code == 1
    assert len(fake_api.requests) == 2


def test_transient_error_then_success(invoke, fake_api):
    fake_api.queue({"status": 429, "retry_after_ms": 1})
    result = invoke("models", "--json")
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)) == len(IMAGE_IDS)
    assert "retrying GET /v1/models: 429" in result.stderr


@pytest.mark.parametrize(
    "fault",
    [
        {"body": "<html><title>502 Bad Gateway</title></html>", "status": 200},
        {"body": '{"object": "list"}', "content_type": "application/json"},
    ],
)
def test_unusable_answer_exits_1(invoke, fake_api, fault):
    fake_api.always(**fault)
    result = invoke("models")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.startswith("error: ")


def test_network_error_exits_1(invoke, fake_api, monkeypatch):
    monkeypatch.setenv("DEERIMG_BASE_URL", "http://127.0.0.1:9")  # discard port: refused
    assert invoke("config", "set", "retries", "0").exit_code == 0
    result = invoke("models")
    assert result.exit_code == 1
    assert "error: network error" in result.stderr


def test_base_url_from_config_and_with_v1(invoke, fake_api, monkeypatch):
    monkeypatch.delenv("DEERIMG_BASE_URL")
    assert invoke("config", "set", "base-url", fake_api.base_url + "/v1/").exit_code == 0
    result = invoke("models")
    assert result.exit_code == 0
    assert fake_api.requests[0].path == "/v1/models"


# -- the cache for shell completion -------------------------------------------------------------


@pytest.fixture
def config_file_dir() -> Path:
    return Path(os.environ["DEERIMG_CONFIG_DIR"])


def test_cache_holds_the_image_model_ids(invoke, fake_api, cache_file):
    assert catalog.cached_model_ids() == []
    assert invoke("models", "--search", "flux").exit_code == 0  # the whole fetch is cached
    assert cache_file.read_text() == "".join(f"{i}\n" for i in IMAGE_IDS)
    assert names_in(cache_file.parent) == ["models.txt"]  # no temp left
    assert catalog.cached_model_ids() == IMAGE_IDS
    fake_api.models = [
        {"id": "gpt-image-9"},
        {"id": "house-painter", "architecture": {"output_modalities": ["image"]}},
        {"id": "gpt-5"},
    ]
    invoke("models", "--all")
    assert catalog.cached_model_ids() == ["gpt-image-9", "house-painter"]


def test_cache_failure_is_ignored(invoke, fake_api, config_file_dir):
    config_file_dir.mkdir()
    (config_file_dir / "cache").write_text("a file where the folder should be")
    result = invoke("models")
    assert result.exit_code == 0
    assert result.stderr == "14 image models of 22; --all lists every model\n"
    assert catalog.cached_model_ids() == []


def test_cache_without_config_dir_uses_platformdirs(monkeypatch, tmp_path):
    monkeypatch.delenv("DEERIMG_CONFIG_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    import platformdirs

    assert catalog.cache_path() == platformdirs.user_cache_path("deerimg") / "models.txt"


# -- the image-model rule, on a realistic mixed list ---------------------------------------------

REALISTIC = {
    True: [
        "gpt-image-1", "gpt-image-1-mini", "gpt-image-2", "chatgpt-image-latest", "dall-e-2",
        "dall-e-3", "flux-pro", "flux-kontext-max", "flux.1-schnell", "flux-1.1-pro-ultra",
        "black-forest-labs/FLUX.1-dev", "midjourney", "mj_imagine", "mj_blend", "niji-6",
        "doubao-seedream-3-0-t2i-250415", "doubao-seedream-4-0-250828", "seedream-5.0",
        "doubao-seededit-3-0-i2i-250628", "imagen-3.0-generate-002", "imagen-4.0-ultra",
        "ideogram-v3", "ideogram_v2_turbo", "recraft-v3", "recraftv3", "stable-diffusion-xl",
        "stable-image-ultra", "sd3.5-large", "sdxl-lightning", "qwen-image", "qwen-image-edit",
        "gemini-2.5-flash-image", "gemini-2.5-flash-image-preview", "gemini-3-pro-image-preview",
        "gemini-2.0-flash-exp-image-generation", "nano-banana", "grok-2-image-1212",
        "gpt-4o-image", "sora_image", "cogview-4", "kolors", "hidream-i1-full",
        "playground-v2.5", "wanx2.1-t2i-turbo", "wan2.2-t2i-flash", "hunyuan-image-3.0",
        "image-01", "GPT-IMAGE-1",
    ],
    False: [
        "gpt-4o", "gpt-4o-mini", "gpt-4.1", "o3", "gpt-5", "chatgpt-4o-latest", "claude-sonnet-4",
        "claude-opus-4-1-20250805", "gemini-2.5-pro", "gemini-2.5-flash", "deepseek-chat",
        "deepseek-r1", "qwen-max", "qwen-vl-max", "qwen2.5-vl-72b-instruct", "glm-4.5",
        "text-embedding-3-large", "text-embedding-ada-002", "gemini-embedding-001",
        "multimodal-embedding-image", "whisper-1", "tts-1-hd", "gpt-4o-mini-tts",
        "gpt-4o-transcribe", "gpt-4o-audio-preview", "gpt-4-vision-preview", "omni-moderation",
        "jina-reranker-v2", "mj_describe", "mj_shorten", "mj_video", "doubao-seedance-1-0-pro",
        "wan2.1-t2v-plus", "wan2.1-i2v-turbo", "kling-video-v2", "veo-3", "sora-2",
        "image-understanding", "paddle-ocr-image", "influx-7b", "imagenet-classifier",
    ],
}  # fmt: skip


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [(i, kind) for kind, ids in REALISTIC.items() for i in ids],
)
def test_image_rule_by_id(model_id, expected):
    assert catalog.is_image_model({"id": model_id, "object": "model"}) is expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"architecture": {"output_modalities": ["image", "text"]}}, True),  # OpenRouter
        ({"architecture": {"output_modalities": ["text"]}}, False),
        ({"output_modalities": ["image"]}, True),
        ({"supported_endpoint_types": ["image-generation"]}, True),  # new-api
        ({"supported_endpoint_types": ["openai"]}, None),  # decides nothing: the id does
        ({"type": "image"}, True),  # Together
        ({"type": "chat"}, False),
        ({"mode": "image_generation"}, True),  # LiteLLM
        ({"mode": "embedding"}, False),
        ({"type": "model"}, None),
        ({"object": "model", "owned_by": "openai"}, None),  # DeerAPI: nothing said
    ],
)
def test_image_rule_by_fields(fields, expected):
    assert catalog.declared_image(fields) is expected
    # The fields win over the id, whichever way they point.
    for model_id in ("my-house-model", "flux-pro"):
        id_says = catalog.is_image_id(model_id)
        model = {"id": model_id, **fields}
        assert catalog.is_image_model(model) is (id_says if expected is None else expected)


def test_models_on_a_realistic_gateway_list(invoke, fake_api):
    listed = [i for ids in REALISTIC.values() for i in ids]
    fake_api.models = [{"id": i, "object": "model", "owned_by": "x"} for i in listed]
    fake_api.models.append(
        {"id": "house-painter", "architecture": {"output_modalities": ["image"]}}
    )
    result = invoke("models")
    assert result.exit_code == 0
    expected = sorted([*REALISTIC[True], "house-painter"], key=lambda i: (i.casefold(), i))
    assert first_column(result.stdout) == expected


def test_family_column_and_filter(invoke, fake_api):
    """Issue 17: models shows each id's family and --family keeps one of them."""
    fake_api.models = [
        {"id": "doubao-seedream-4-5-251128", "owned_by": "bytedance", "created": 1},
        {"id": "doubao-seedream-3-0-t2i-250415", "owned_by": "bytedance", "created": 1},
        {"id": "gpt-image-2.5-sunburst", "owned_by": "openai", "created": 1},
        {"id": "acme-image-9", "created": 1},
    ]
    shown = invoke("models", "--family", "seedream")
    assert shown.exit_code == 0, shown
    assert [line.split()[:2] for line in shown.stdout.splitlines()[1:]] == [
        ["doubao-seedream-3-0-t2i-250415", "seedream-3.0"],
        ["doubao-seedream-4-5-251128", "seedream-4.5"],
    ]
    data = json.loads(invoke("models", "--json", "--family", "generic").stdout)
    assert [(m["id"], m["family"]) for m in data] == [("acme-image-9", "generic")]
