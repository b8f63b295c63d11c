"""Issue 3: many prompts: prompt files, stdin, JSON lines, concurrency, resume, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

from tests.helpers import names_in, prompts_sent

PROMPT_FILE = """# a comment
a red fox

   # an indented comment
a blue whale
{"prompt": "a green owl", "size": "512x512", "model": "gpt-image-1.5", "output": "owl.webp"}
"""


def test_prompt_file_with_comments_and_json_lines(fake_api, invoke):
    Path("prompts.txt").write_text(PROMPT_FILE)
    result = invoke("generate", "-f", "prompts.txt", "-d", "out")
    assert result.exit_code == 0, result
    assert sorted(result.stdout.splitlines()) == [
        "out/a-blue-whale.png",
        "out/a-red-fox.png",
        "out/owl.webp",
    ]
    owl = next(r.json for r in fake_api.generation_requests() if r.json["prompt"] == "a green owl")
    assert owl == {
        "model": "gpt-image-1.5",
        "prompt": "a green owl",
        "size": "512x512",
        "output_format": "webp",
    }
    with Image.open("out/owl.webp") as image:
        assert (image.format, image.size) == ("WEBP", (512, 512))
    assert "done: 3 images saved; tokens: input 48, output 624, total 672" in result.stderr


def test_piped_stdin_is_a_batch(fake_api, invoke):
    result = invoke("generate", input="one\ntwo\n\nthree\n")
    assert result.exit_code == 0, result
    assert prompts_sent(fake_api) == ["one", "three", "two"]


def test_file_dash_reads_stdin(fake_api, invoke):
    result = invoke("generate", "-f", "-", input="one\ntwo\n")
    assert result.exit_code == 0, result
    assert names_in() == ["one.png", "two.png"]


def test_bad_line_is_reported_with_its_number_before_any_request(fake_api, invoke):
    Path("p.txt").write_text('good\n{"prompt": "x", "n": 0}\n')
    result = invoke("generate", "-f", "p.txt")
    assert result.exit_code == 2
    assert "p.txt line 2" in result.stderr
    assert fake_api.requests == []
    Path("p.txt").write_text("good\n{not json\n")
    result = invoke("generate", "-f", "p.txt")
    assert (result.exit_code, "p.txt line 2: invalid JSON" in result.stderr) == (2, True)


def test_prompt_file_that_is_not_utf8(fake_api, invoke):
    Path("p.txt").write_bytes(b"fine\n\xff\xfe bad\n")
    result = invoke("generate", "-f", "p.txt")
    assert result.exit_code == 2
    assert "p.txt line 2: not UTF-8" in result.stderr


def test_two_prompts_on_one_file_caught_before_sending(fake_api, invoke):
    Path("p.txt").write_text(
        '{"prompt": "a", "output": "x.png"}\n{"prompt": "b", "output": "x.png"}\n'
    )
    result = invoke("generate", "-f", "p.txt")
    assert result.exit_code == 2
    assert "would both write x.png" in result.stderr
    assert fake_api.requests == []


def test_templates(fake_api, invoke):
    result = invoke(
        "generate",
        "-f",
        "-",
        "-o",
        "{index}-{slug}-{model}.{ext}",
        "-n",
        "2",
        "--format",
        "jpeg",
        input="Red Fox\nBlue Whale\n",
    )
    assert result.exit_code == 0, result
    assert names_in() == [
        "1-red-fox-gpt-image-2.jpg",
        "2-red-fox-gpt-image-2.jpg",
        "3-blue-whale-gpt-image-2.jpg",
        "4-blue-whale-gpt-image-2.jpg",
    ]


def test_plain_output_in_a_batch_is_numbered(fake_api, invoke):
    result = invoke("generate", "-o", "shot.png", input="a\nb\nc\n")
    assert result.exit_code == 0, result
    assert names_in() == ["shot-1.png", "shot-2.png", "shot-3.png"]


def test_same_slug_twice_gets_distinct_names(fake_api, invoke):
    result = invoke("generate", input="a cat\nA cat!\n")
    assert result.exit_code == 0, result
    assert names_in() == ["a-cat-2.png", "a-cat.png"]


def test_jobs_bounds_requests_in_flight(fake_api, invoke):
    fake_api.gather(3)  # the first answers wait until 3 requests are in flight together
    result = invoke("generate", "-j", "3", input="".join(f"p{i}\n" for i in range(9)))
    assert result.exit_code == 0, result
    assert fake_api.max_in_flight == 3
    assert len(names_in()) == 9


def test_429_pauses_the_whole_pool(fake_api, invoke):
    # Unpaused, the other worker would send the 19 other prompts within the window below.
    fake_api.latency = 0.05
    fake_api.queue({"status": 429, "retry_after_ms": "1000"})
    result = invoke("generate", "-j", "2", input="".join(f"p{i}\n" for i in range(20)))
    assert result.exit_code == 0, result
    requests = fake_api.generation_requests()
    assert len(requests) == 21
    limited = requests[0].time
    # After the 429 was answered, no worker sent anything until the pause was over. The
    # window leaves 0.25 s for the client to read the 429, however loaded the machine.
    window = [r for r in requests if limited + 0.25 < r.time < limited + 0.98]
    assert window == []
    assert "429" in result.stderr


def test_failures_do_not_stop_the_batch(fake_api, invoke):
    fake_api.reject_prompts("forbidden")
    stdin = "ok one\nforbidden two\nok three\nforbidden four\nok five\n"
    result = invoke("generate", "--json", input=stdin)
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    saved = sorted(r["path"] for r in records if "path" in r)
    failed = sorted(r["prompt"] for r in records if "error" in r)
    assert saved == ["ok-five.png", "ok-one.png", "ok-three.png"]
    assert failed == ["forbidden four", "forbidden two"]
    for record in records:
        if "error" in record:
            assert record["error"]["status"] == 400
            assert record["error"]["request_id"].startswith("req_")
    assert "standard input line 2: 400" in result.stderr
    assert "3 images saved, 2 prompts failed" in result.stderr


def test_fail_fast_stops_at_the_first_failure(fake_api, invoke):
    fake_api.always(status=400)
    result = invoke("generate", "-j", "1", "--fail-fast", input="a\nb\nc\nd\n")
    assert result.exit_code == 1
    assert len(fake_api.generation_requests()) == 1
    assert "3 not run" in result.stderr


def test_auth_failure_stops_the_run(fake_api, invoke, monkeypatch):
    monkeypatch.setenv("DEERAPI_KEY", "sk-wrong")
    result = invoke("generate", "-j", "1", input="a\nb\nc\nd\n")
    assert result.exit_code == 3
    assert len(fake_api.generation_requests()) == 1


def test_skip_existing_pays_only_for_what_is_missing(fake_api, invoke):
    fake_api.reject_prompts("flaky")
    stdin = "one\nflaky two\nthree\n"
    first = invoke("generate", "-d", "out", input=stdin)
    assert first.exit_code == 1
    assert names_in("out") == ["one.png", "three.png"]
    fake_api.reset()
    again = invoke("generate", "-d", "out", "--skip-existing", input=stdin)
    assert again.exit_code == 0, again
    assert prompts_sent(fake_api) == ["flaky two"]
    assert names_in("out") == ["flaky-two.png", "one.png", "three.png"]
    assert "2 skipped" in again.stderr
    fake_api.reset()
    done = invoke("generate", "-d", "out", "--skip-existing", input=stdin)
    assert (done.exit_code, fake_api.requests) == (0, [])


def test_skip_existing_with_a_template(fake_api, invoke):
    invoke("generate", "-o", "{index}.png", input="a\nb\n")
    Path("2.png").unlink()
    fake_api.reset()
    result = invoke("generate", "-o", "{index}.png", "--skip-existing", input="a\nb\n")
    assert result.exit_code == 0, result
    assert prompts_sent(fake_api) == ["b"]


def test_ctrl_c_keeps_finished_images_and_leaves_no_partial_file(fake_api, isolated_env):
    fake_api.latency = 0.3
    env = dict(os.environ)
    Path("p.txt").write_text("".join(f"prompt number {i}\n" for i in range(30)))
    process = subprocess.Popen(
        [sys.executable, "-m", "deerimg", "generate", "-j", "2", "-d", "out", "-f", "p.txt"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    deadline = time.monotonic() + 30
    while len(fake_api.generation_requests()) < 5 and time.monotonic() < deadline:
        time.sleep(0.02)  # polling the server's state, not timing the program
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    saved = stdout.decode().split()
    files = names_in("out")
    assert sorted(Path(p).name for p in saved) == files
    assert 2 <= len(files) < 30
    for name in files:
        with Image.open(Path("out") / name) as image:
            image.verify()
    assert b"interrupted:" in stderr and b"not run" in stderr
    assert b"Traceback" not in stderr


def test_hundred_line_file_then_resume(fake_api, invoke):
    """Issue 3's 'done when': comments, JSON lines, rejected prompts; the re-run pays for those."""
    lines = []
    for i in range(100):
        if i % 10 == 0:
            lines.append(f"# section {i // 10}")
        elif i % 7 == 0:
            lines.append(json.dumps({"prompt": f"json prompt {i}", "size": "512x512"}))
        elif i % 33 == 0:
            lines.append(f"rejected prompt {i}")
        else:
            lines.append(f"plain prompt {i}")
    Path("p.txt").write_text("\n".join(lines) + "\n")
    prompts = [line for line in lines if not line.startswith("#")]
    fake_api.reject_prompts("rejected")
    first = invoke("generate", "-f", "p.txt", "-d", "out", "-j", "8", "--json")
    assert first.exit_code == 1
    records = [json.loads(line) for line in first.stdout.splitlines()]
    failures = [r for r in records if "error" in r]
    assert sorted(r["prompt"] for r in failures) == ["rejected prompt 33", "rejected prompt 66",
                                                     "rejected prompt 99"]  # fmt: skip
    assert all(r["error"]["request_id"].startswith("req_") for r in failures)
    assert len(names_in("out")) == len(prompts) - 3
    for name in names_in("out"):
        with Image.open(Path("out") / name) as image:
            image.verify()
    fake_api.reset()
    again = invoke("generate", "-f", "p.txt", "-d", "out", "-j", "8", "--skip-existing")
    assert again.exit_code == 0, again
    assert prompts_sent(fake_api) == ["rejected prompt 33", "rejected prompt 66",
                                      "rejected prompt 99"]  # fmt: skip
    assert len(names_in("out")) == len(prompts)


def test_a_batch_shows_each_revised_prompt(fake_api, invoke):
    result = invoke("generate", input="one\ntwo\n")
    assert result.exit_code == 0, result
    revised = sorted(line.strip() for line in result.stderr.splitlines() if "revised" in line)
    assert revised == ["revised prompt: Revised: one", "revised prompt: Revised: two"]
