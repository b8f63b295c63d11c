"""`deerimg gallery` (issue 21): the page's content, its escaping and links, and which images."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from deerimg import history
from deerimg.run import gallery as chosen
from tests.fake import make_image
from tests.helpers import error_lines, ledger_entries, mode, write_ledger

HOSTILE = '<script>alert(1)</script> & "quotes" <img src=x onerror=alert(2)>'


class Page(HTMLParser):
    """The tags, attributes and text of a page, as a browser's parser sees them."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def page(path: Path) -> Page:
    return Page(path.read_text(encoding="utf-8"))


def test_the_last_run_with_every_fact_escaped_and_linked(invoke, fake_api) -> None:
    Path("p.txt").write_text(f"a red fox\n{HOSTILE}\n", encoding="utf-8")
    assert invoke("generate", "a blue whale", "-o", "old.png").exit_code == 0
    assert invoke("generate", "-f", "p.txt", "-d", "out").exit_code == 0
    result = invoke("gallery", "--last")
    assert result.exit_code == 0, result
    target = Path("out/gallery.html").absolute()
    assert result.stdout == f"{target}\n"
    assert mode(target) == 0o600  # prompts are private, as in the ledger
    text = target.read_text(encoding="utf-8")
    shown = page(target)
    images = shown.all("img")
    assert len(images) == 2  # the last run's two, not the whale
    entries = [e for e in ledger_entries() if e["prompt"] != "a blue whale"]
    files = sorted(Path(f).name for e in entries for f in e["files"])
    assert sorted(str(i["src"]) for i in images) == files  # relative links, beside the page
    assert all(i["loading"] == "lazy" for i in images)
    assert sorted(str(a["href"]) for a in shown.all("a")) == files  # click: full size
    assert [tag for tag, _ in shown.tags].count("script") == 1  # the page's own only
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)" in text
    assert HOSTILE in "".join(shown.text)  # the prompt shown as text, whole
    for entry in entries:
        assert entry["request_id"] in text and entry["model"] in text
    assert "1024x1024" in text and "embedded" in text
    policy = shown.all("meta")[1]["content"] or ""
    assert "default-src 'none'" in policy and "script-src 'sha256-" in policy
    assert not re.search(r"(src|href)=\"(https?:)?//", text)  # nothing from elsewhere


def test_a_file_without_provenance_takes_the_ledger(invoke, fake_api) -> None:
    assert invoke("generate", "a paper boat", "-o", "boat.png", "--no-metadata").exit_code == 0
    entry = ledger_entries()[-1]
    result = invoke("gallery", "boat.png", "-o", "sheet.html")
    assert result.exit_code == 0, result
    text = Path("sheet.html").read_text(encoding="utf-8")
    assert "a paper boat" in text and entry["request_id"] in text and "ledger" in text
    assert entry["time"][:10] in text


def test_cost_from_the_ledger_and_an_image_nobody_recorded(invoke, tmp_path) -> None:
    Path("pics").mkdir()
    Path("pics/a.png").write_bytes(make_image("png", 64, 32))
    Path("pics/b.webp").write_bytes(make_image("webp", 8, 8))
    Path("pics/notes.txt").write_text("not an image")
    line = history.build_entry(command="generate", prompt="Lake <b>", model="m-1", fields={},
                               outcome="ok", files=["a.png"], request_id="req_9",
                               cost=(0.042, "usage"))  # fmt: skip
    write_ledger(json.dumps({**line, "cwd": str(Path("pics").absolute())}))
    result = invoke("gallery", "--dir", "pics")
    assert result.exit_code == 0, result
    text = Path("pics/gallery.html").read_text(encoding="utf-8")
    assert [i["src"] for i in page(Path("pics/gallery.html")).all("img")] == ["a.png", "b.webp"]
    assert "Lake &lt;b&gt;" in text and "$0.0420" in text and "64x32" in text
    assert "no prompt recorded" in text and "no record" in text


def test_since_and_search_choose_history_entries(invoke) -> None:
    for name in ("fox.png", "owl.png", "old.png"):
        Path(name).write_bytes(make_image("png", 16, 16))
    here = str(Path.cwd())

    def line(prompt: str, name: str, when: str) -> str:
        entry = history.build_entry(command="generate", prompt=prompt, model="gpt-image-2",
                                    fields={}, outcome="ok", files=[name])  # fmt: skip
        return json.dumps({**entry, "time": when, "cwd": here})

    now = history.now_iso()
    write_ledger(line("a fox", "fox.png", now), line("an owl", "owl.png", now),
                 line("a fox long ago", "old.png", "2020-01-01T00:00:00Z"))  # fmt: skip
    assert invoke("gallery", "--since", "7d").exit_code == 0
    srcs = [i["src"] for i in page(Path("gallery.html")).all("img")]
    assert srcs == ["fox.png", "owl.png"]
    assert invoke("gallery", "--search", "FOX", "-o", "foxes.html").exit_code == 0
    assert [i["src"] for i in page(Path("foxes.html")).all("img")] == ["fox.png", "old.png"]
    bad = invoke("gallery", "--since", "yesterday")
    assert bad.exit_code == 2 and "invalid --since" in error_lines(bad)[0]


def test_latest_run_without_run_ids_follows_the_chain_of_requests() -> None:
    def entry(end: str, seconds: float, command: str = "generate") -> dict:
        return {"time": f"2026-12-01T10:{end}Z", "seconds": seconds, "command": command}

    older = entry("00:00", 5)
    run = [entry("01:10", 10), entry("01:21", 10), entry("01:20", 12)]  # -j 2: overlapping
    assert chosen.latest_run([older, *run]) == run
    assert chosen.latest_run([older, entry("00:30", 1, "edit")]) == [entry("00:30", 1, "edit")]
    tagged = [{**older, "run": "a"}, {**older, "run": "b"}, {**older, "run": "a"}]
    assert chosen.latest_run(tagged) == [tagged[0], tagged[2]]
    assert chosen.latest_run([]) == []


def test_runs_are_told_apart_by_their_id(invoke, fake_api) -> None:
    assert invoke("generate", "one", "-o", "one.png").exit_code == 0
    assert invoke("generate", "two", "-o", "two.png").exit_code == 0
    first, second = ledger_entries()
    assert first["run"] != second["run"] and first["cwd"] == str(Path.cwd())
    assert invoke("gallery", "--last").exit_code == 0
    assert [i["src"] for i in page(Path("gallery.html")).all("img")] == ["two.png"]


def test_a_written_page_replaces_the_old_one_whole(invoke, monkeypatch) -> None:
    Path("a.png").write_bytes(make_image("png", 8, 8))
    Path("gallery.html").write_text("old page")
    seen = []
    import deerimg.run.gallery as module

    real = module.write_atomic
    monkeypatch.setattr(module, "write_atomic", lambda p, d: seen.append(p) or real(p, d))
    assert invoke("gallery", "a.png").exit_code == 0
    assert seen == [Path("gallery.html").absolute()] and "a.png" in Path("gallery.html").read_text()
    assert [p.name for p in Path().iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        ((), 2, "no images named"),
        (("--last", "--dir", "."), 2, "one way"),
        (("--last",), 1, "no run in the history yet"),
        (("--dir", "empty"), 1, "no images in empty"),
        (("--dir", "nowhere"), 2, "not a folder"),
        (("missing.png",), 2, "does not exist"),
        (("--search", "nothing"), 1, "no history entry with images matches"),
        (("a.png", "-o", "no/such/folder/g.html"), 2, "cannot go there"),
    ],
)
def test_nothing_to_show_is_an_error_and_writes_nothing(invoke, args, code, words) -> None:
    Path("empty").mkdir()
    Path("a.png").write_bytes(make_image("png", 8, 8))
    result = invoke("gallery", *args)
    assert result.exit_code == code, result
    assert words in error_lines(result)[0] and result.stdout == ""
    assert not list(Path().rglob("*.html"))


def test_a_vanished_file_of_the_run_is_left_out_with_a_warning(invoke, fake_api) -> None:
    Path("p.txt").write_text("one\ntwo\n")
    assert invoke("generate", "-f", "p.txt").exit_code == 0
    gone = ledger_entries()[0]["files"][0]
    Path(gone).unlink()
    result = invoke("gallery", "--last")
    assert result.exit_code == 0 and f"{gone} does not exist; left out" in result.stderr
    assert len(page(Path("gallery.html")).all("img")) == 1


def test_open_hands_the_page_to_the_viewer(invoke, monkeypatch) -> None:
    Path("a.png").write_bytes(make_image("png", 8, 8))
    opened: list[Path] = []
    monkeypatch.setattr("deerimg.run.viewer.view", lambda path: opened.append(path) or True)
    assert invoke("gallery", "a.png", "--open").exit_code == 0
    assert opened == [Path("gallery.html").absolute()]
    monkeypatch.setattr("deerimg.run.viewer.view", lambda path: False)
    result = invoke("gallery", "a.png", "--open")
    assert result.exit_code == 0 and "no viewer could be started" in result.stderr


def test_links_are_relative_and_percent_encoded(tmp_path) -> None:
    from deerimg.report.gallery import link

    image = tmp_path / "sub dir" / "a#b?.png"
    assert link(image, tmp_path) == "sub%20dir/a%23b%3F.png"
    assert link(image, tmp_path / "pages") == "../sub%20dir/a%23b%3F.png"


def test_generate_open_hands_each_saved_image_to_the_viewer(fake_api, invoke, monkeypatch) -> None:
    """Issue 21: generate --open opens the images of the run, once it has ended."""
    opened: list = []
    monkeypatch.setattr("deerimg.run.viewer.view", lambda path: opened.append(path.name) or True)
    result = invoke("generate", "a fox", "-n", "2", "-o", "fox.png", "--open")
    assert result.exit_code == 0, result
    assert sorted(opened) == ["fox-1.png", "fox-2.png"]
    opened.clear()
    assert invoke("generate", "an owl", "-o", "owl.png").exit_code == 0
    assert opened == []  # only when asked
    monkeypatch.setattr("deerimg.run.viewer.view", lambda path: False)
    none = invoke("generate", "a cat", "-o", "cat.png", "--open")
    assert none.exit_code == 0 and "no viewer could be started" in none.stderr
