"""Issue 17: a URL answer's link and its end go to --json and the ledger, never the key."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from deerimg.wire.links import lifetime_seconds, link_end, source_of
from tests.conftest import TEST_KEY
from tests.helpers import ledger_entries, ledger_text

SEEDREAM = "doubao-seedream-4-5-251128"
TOS = (
    "?X-Tos-Algorithm=TOS4-HMAC-SHA256&X-Tos-Credential=AKLT%2F20261124%2Fcn-beijing%2Ftos"
    "&X-Tos-Date=20261124T093000Z&X-Tos-Expires=86400&X-Tos-SignedHeaders=host"
    "&X-Tos-Signature=5f1e0c"
)
SAS = "?st=2026-11-24T09:30:00Z&se=2026-11-24T10:30:00Z&sp=r&sv=2021-08-06&sr=b&sig=Zm9v%3D"


def answer_urls(fake_api, *queries: str, statuses: tuple[int, ...] = ()) -> list[str]:
    """Every generation answers one image URL per QUERY (a path on the files server, then the
    query); the files server answers the k-th with STATUSES[k] (200 when not given)."""
    image = fake_api.expected_image("jpeg", "64x64")
    urls = []
    for k, query in enumerate(queries):
        status = statuses[k] if k < len(statuses) else 200
        name = fake_api.files.put("jpeg", image, "image/jpeg", status)
        urls.append(f"{fake_api.files_url}/files/{name}{query}")
    usage = {"generated_images": len(urls), "output_tokens": 10, "total_tokens": 10}
    body = {"created": 1, "data": [{"url": url} for url in urls], "usage": usage}
    fake_api.always(body=json.dumps(body), content_type="application/json")
    return urls


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_seedream_link_without_a_signature_lives_24_h_from_its_answer(fake_api, invoke):
    fake_api.files.lifetime = None  # links with no X-Tos-Date / X-Tos-Expires
    before = datetime.now(timezone.utc).replace(microsecond=0)
    result = invoke("generate", "a fox", "-m", SEEDREAM, "-n", "2", "-o", "fox.jpg", "--json")
    after = datetime.now(timezone.utc)
    assert result.exit_code == 0, result
    records = [json.loads(line) for line in result.stdout.splitlines()]
    downloaded = [fake_api.files_url + d.path for d in fake_api.downloads]
    assert [r["source_url"] for r in records] == downloaded
    ends = {utc(r["url_expires"]) for r in records}
    assert len(ends) == 1  # one answer, one time
    assert before + timedelta(hours=24) <= ends.pop() <= after + timedelta(hours=24)
    [entry] = ledger_entries()
    assert entry["sources"] == [
        {"file": r["path"], "source_url": r["source_url"], "url_expires": r["url_expires"]}
        for r in records
    ]
    assert "/files/" not in result.stderr  # people see the saved line, not the link


def test_a_signed_link_says_its_own_end_and_keeps_its_query(fake_api, invoke):
    [url] = answer_urls(fake_api, TOS)
    result = invoke("generate", "a fox", "-m", SEEDREAM, "-o", "fox.jpg", "--json")
    assert result.exit_code == 0, result
    record = json.loads(result.stdout)
    assert (record["source_url"], record["url_expires"]) == (url, "2026-11-25T09:30:00Z")
    assert ledger_entries()[0]["sources"][0]["url_expires"] == "2026-11-25T09:30:00Z"
    info = json.loads(invoke("info", "fox.jpg", "--json").stdout)[0]["record"]["source"]
    assert info == {"url": url, "lifetime": "24 h", "expires": "2026-11-25T09:30:00Z"}


def test_a_dalle_link_ends_where_its_sas_says_else_after_60_min(fake_api, invoke):
    answer_urls(fake_api, SAS)
    signed = invoke("generate", "a fox", "-m", "dall-e-3", "-o", "a.png", "--json")
    assert signed.exit_code == 0, signed
    assert json.loads(signed.stdout)["url_expires"] == "2026-11-24T10:30:00Z"
    answer_urls(fake_api, "")
    before = datetime.now(timezone.utc).replace(microsecond=0)
    plain = invoke("generate", "a fox", "-m", "dall-e-3", "-o", "b.png", "--json")
    after = datetime.now(timezone.utc)
    assert plain.exit_code == 0, plain
    end = utc(json.loads(plain.stdout)["url_expires"])
    assert before + timedelta(minutes=60) <= end <= after + timedelta(minutes=60)


def test_a_link_whose_download_failed_stays_in_the_ledger_to_fetch_later(fake_api, invoke):
    urls = answer_urls(fake_api, TOS, TOS, statuses=(200, 404))
    result = invoke("generate", "a fox", "-m", SEEDREAM, "-n", "2", "-o", "fox.jpg", "--json")
    assert result.exit_code == 1, result
    assert json.loads(result.stdout.splitlines()[0])["path"] == "fox-1.jpg"
    [entry] = ledger_entries()
    assert (entry["outcome"], entry["files"]) == ("failed", ["fox-1.jpg"])
    assert entry["sources"] == [
        {"file": "fox-1.jpg", "source_url": urls[0], "url_expires": "2026-11-25T09:30:00Z"},
        {"file": None, "source_url": urls[1], "url_expires": "2026-11-25T09:30:00Z"},
    ]
    shown = json.loads(invoke("history", "--json").stdout)
    assert shown[0]["sources"] == entry["sources"]


def test_the_key_in_a_link_is_never_written(fake_api, invoke):
    answer_urls(fake_api, f"?token={TEST_KEY}&Expires=1795000000")
    result = invoke("generate", "a fox", "-m", SEEDREAM, "-o", "fox.jpg", "--json")
    assert result.exit_code == 0, result
    record = json.loads(result.stdout)
    assert record["source_url"].endswith("?token=<the API key>&Expires=1795000000")
    assert record["url_expires"] == "2026-11-18T11:06:40Z"
    assert TEST_KEY not in result.stdout + result.stderr + ledger_text()
    assert TEST_KEY not in invoke("info", "fox.jpg", "--json").stdout
    assert TEST_KEY in fake_api.downloads[0].query  # the link itself was fetched as given


def test_a_base64_answer_has_no_source(fake_api, invoke):
    result = invoke("generate", "a fox", "--json")
    assert result.exit_code == 0, result
    assert not {"source_url", "url_expires"} & set(json.loads(result.stdout))
    assert "sources" not in ledger_entries()[0]


@pytest.mark.parametrize(
    ("query", "end"),
    [
        pytest.param(TOS, "2026-11-25T09:30:00", id="tos"),
        pytest.param(TOS.lower(), "2026-11-25T09:30:00", id="any-case"),
        pytest.param(
            "?X-Amz-Date=20261124T093000Z&X-Amz-Expires=3600&X-Amz-Signature=ab",
            "2026-11-24T10:30:00",
            id="s3",
        ),
        pytest.param("?Expires=1795000000&Signature=ab", "2026-11-18T11:06:40", id="epoch"),
        pytest.param(SAS, "2026-11-24T10:30:00", id="azure-sas"),
        pytest.param("?se=2026-11-24T10:30:00Z", None, id="se-unsigned"),
        pytest.param("?X-Tos-Date=20261124T093000Z&X-Tos-Expires=soon", None, id="not-seconds"),
        pytest.param("?X-Tos-Date=yesterday&X-Tos-Expires=60", None, id="not-a-date"),
        pytest.param(
            "?X-Tos-Date=20261124T093000Z&X-Tos-Expires=9" + "9" * 30, None, id="too-long"
        ),
        pytest.param("?Expires=" + "9" * 40, None, id="epoch-out-of-range"),
        pytest.param("?se=not-a-time&sig=x", None, id="se-not-a-time"),
        pytest.param("", None, id="no-query"),
    ],
)
def test_link_end_reads_each_signature_and_refuses_nonsense(query, end):
    found = link_end("https://cdn.example/i.jpeg" + query)
    assert found == (datetime.fromisoformat(end).replace(tzinfo=timezone.utc) if end else None)


def test_source_of_falls_back_to_the_family_lifetime() -> None:
    assert (lifetime_seconds("24 h"), lifetime_seconds("60 min"), lifetime_seconds(None)) == (
        86400, 3600, None,
    )  # fmt: skip
    assert lifetime_seconds("a while") is None
    item = {"url": "https://cdn.example/i.jpeg"}
    assert source_of(item, SEEDREAM, 0.0) == {
        "url": item["url"], "lifetime": "24 h", "expires": "1970-01-02T00:00:00Z",
    }  # fmt: skip
    assert source_of(item, "some-new-model", 0.0)["expires"] is None  # no lifetime known
    assert source_of({"b64_json": "AAAA"}, SEEDREAM, 0.0) is None
    assert link_end("http://[::1/i.png?Expires=1") is None


def test_the_fake_s_own_signed_link_gives_its_end_and_an_expired_one_is_a_clear_failure(
    fake_api, invoke
):
    """The fake signs links as TOS does (X-Tos-Date + X-Tos-Expires) and refuses expired ones."""
    result = invoke("generate", "a fox", "-m", SEEDREAM, "-o", "fox.jpg", "--json")
    assert result.exit_code == 0, result
    record = json.loads(result.stdout)
    signed = datetime.strptime(
        record["source_url"].split("X-Tos-Date=")[1][:16], "%Y%m%dT%H%M%SZ"
    ).replace(tzinfo=timezone.utc)
    assert utc(record["url_expires"]) == signed + timedelta(days=1)
    fake_api.files.lifetime = 0  # expired as soon as it is handed out
    late = invoke("generate", "a fox", "-m", SEEDREAM, "-o", "late.jpg", "--json")
    assert late.exit_code == 1, late
    assert "image download failed: HTTP 403" in late.stderr
    assert "request id" in late.stderr
    assert len(fake_api.generation_requests()) == 2  # the download failed: not paid again
    assert ledger_entries()[-1]["sources"][0]["file"] is None
