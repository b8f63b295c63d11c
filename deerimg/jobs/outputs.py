"""What -o and a prompt file's "output" may name: a file, under the output folder for a file's."""

from __future__ import annotations

import os
from pathlib import Path

from deerimg.errors import usage_error
from deerimg.imaging.formats import EXTENSIONS, IMAGE_EXTS
from deerimg.jobs import disk

PLACEHOLDERS = ("{index}", "{n}", "{slug}", "{model}", "{ext}", "{date}", "{time}")


def has_placeholder(template: str) -> bool:
    return any(p in template for p in PLACEHOLDERS)


def rendered(name: str, where: str, output_dir: Path, line: str | None) -> Path:
    """The path -o or a prompt file's LINE "output" names once its placeholders are filled in,
    refusing a folder or a name too long. A line's `sub/../x.png` is `x.png`: nothing is made."""
    path = joined(os.path.normpath(name) if line else name, output_dir)
    disk.check_length(path)
    if path.is_dir():
        raise disk.folder_error(f"{where}{name}", name)
    return path


def check_output(output: str, where: str, output_dir: Path) -> None:
    """Refuse -o (WHERE "-o ") or a line's "output" that names no file, before it is numbered."""
    check_file_name(output, where)
    if not has_placeholder(output):
        path = joined(output, output_dir)
        disk.check_length(path)
        if path.is_dir():
            raise disk.folder_error(f"{where}{output}", output)


def check_file_name(output: str, where: str) -> None:
    """Refuse an output that names no file: nothing, only an extension (`-o .png`), a folder.

    -o names the image's file, whatever is on the disk; -d names a folder. `-o DIR/` and
    `-o EXISTING_DIR` are refused with a hint to use -d, rather than taken as -d: a script's
    `-o "$name"` then never means a folder because one happens to exist (and `-o x.png --force`
    never writes into a folder x.png).
    """
    if not output.strip():
        raise usage_error(f"{where}is empty: give the image's file name")
    name = Path(output).name
    if name.lower() in IMAGE_EXTS:
        raise usage_error(
            f"{where}{output} is an extension with no name before it",
            hint=f"out{name}, or --format {EXTENSIONS[name.lower()]}",
        )
    if output.endswith(("/", os.sep)) or name in ("", ".", ".."):
        raise usage_error(
            f"{where}{output} names a folder, not the image's file",
            hint=f"to write into it under the default names, use -d {output}",
        )


def joined(name: str, output_dir: Path) -> Path:
    path = Path(name).expanduser()
    return path if path.is_absolute() else output_dir / path


def check_line_output(output: str, where: str) -> None:
    """A prompt file's "output" stays under the output folder (finding 16: someone else's file,
    run with -d out, made folders and files outside it). The command line's -o may go anywhere:
    the user typed it. WHERE: "prompts.txt line 3: "."""
    if output.startswith("~"):
        why = "starts with ~"
    elif Path(output).is_absolute() or output.startswith(("/", "\\")) or Path(output).drive:
        why = "is an absolute path"
    else:
        parts = Path(os.path.normpath(output)).parts
        why = "leaves the output folder" if parts and parts[0] == os.pardir else ""
    if why:
        raise usage_error(
            f'{where}"output" {output} {why}: a prompt file writes only under the output folder',
            hint="name a folder of your own with -d or -o on the command line",
        )
