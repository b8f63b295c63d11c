"""The man page's prose: the sections and examples that do not come from the command tree."""

from __future__ import annotations

KEYS_INTRO = (
    "Keys may be written with a dash or an underscore (api-key, api_key). A flag beats the "
    "environment, which beats the config file, which beats the built-in default."
)

DESCRIPTION = """
deerimg sends text prompts to DeerAPI's OpenAI-compatible images API (POST /v1/images/generations,
/v1/images/edits), or for Gemini's image models to Google's own POST
/v1beta/models/MODEL:generateContent, and writes the images it answers with to files. One prompt
makes one image, or several with -n; a prompt file or piped standard input makes a batch, run a
few requests at once; several -m run each prompt on each model.

Every target is planned before anything is sent, so a run that would overwrite a file (without
--force) or write where it cannot stops before it costs anything. Files are written under a
temporary name and linked into place: no half-written image is left behind, and several deerimg
processes may share a folder without replacing each other's files.

Standard output carries data only: the path of each saved image, one a line, or JSON lines with
--json, or the image bytes with -o -. Progress, the revised prompt, token usage, warnings and
errors go to standard error.

Every answer's cost comes from the price table in force (deerimg prices; the config file's
[prices."MODEL"] rows override it): on the saved line, in --json (cost_usd, cost_source), in the
summary and the history ledger; a model with no price is "cost unknown", never $0. --dry-run
estimates each request and the total. --max-cost USD is a budget that is never passed: a request
goes out only while what was spent, what is in flight and its own estimate stay within it.

Failed requests with status 408, 409, 429 or 5xx, dropped connections and time-outs are
retried with exponential back-off, honouring Retry-After; but a generation that was sent and then
timed out may have been billed, so it is retried only with --retry-timeouts (or config
retry-timeouts): otherwise the prompt fails, and --skip-existing re-runs it. The API key is never
printed.
"""

ENVIRONMENT = """
DEERAPI_KEY :: The API key. It beats the api-key of the config file.

DEERIMG_BASE_URL :: The API's base URL, with or without /v1. Default: https://api.deerapi.com.

DEERIMG_CONFIG_DIR :: The folder of config.toml (and of the model-id cache, in its cache
folder), instead of the platform's user config folder.

DEERIMG_DATA_DIR :: The folder of the history ledger (history.jsonl), instead of the platform's
user data folder.

DEERIMG_POLL_INTERVAL :: The first wait, in seconds, between the polls of a task API's task
(FLUX, Replicate, Midjourney, Kling); it grows by half each time, to 10 s. Default: 1.

DEERIMG_DEBUG :: When set to anything but 0 or empty, errors show a Python traceback, as --debug.

NO_COLOR :: When set, standard error gets plain lines: no colour, spinner or progress bar (as when
it is not a terminal).

SSL_CERT_FILE, SSL_CERT_DIR :: A CA bundle file (or a folder of CA files) to trust for https instead
of certifi's bundle. A file that cannot be loaded is a configuration error (exit status 3).

HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY :: The proxies to use, as httpx reads them.
"""

FAMILIES_INTRO = """
deerimg checks -s, -q, --format, --style, --aspect, --resolution and the fields only some families
take (--complexity, --frames, --watermark, --markup) against the family of the model before
anything is sent; an id its table does not know is sent as typed. Reference images (-i, or edit's
images) go as each family takes them: an edit for GPT image, data URLs in the JSON image for
Seedream, inline_data parts for Gemini. A gateway's own id can be sent by a route in the config
file's [routes] table ("my-id" = "gemini"). The ids each family is known to serve, which -m TAB
offers until deerimg models has saved the list DeerAPI serves:
"""
FILES_TEXT = """
~/.config/deerimg/config.toml :: The config file on Linux ($XDG_CONFIG_HOME/deerimg/config.toml
when XDG_CONFIG_HOME is set). TOML, written atomically, mode 0600 in a 0700 folder; a file that
cannot be parsed is never rewritten. deerimg config path prints the one in use.

~/Library/Application Support/deerimg/config.toml :: The config file on macOS.

%LOCALAPPDATA%\\deerimg\\deerimg\\config.toml :: The config file on Windows.

~/.local/share/deerimg/history.jsonl :: The history ledger on Linux: one JSON line per request
(~/Library/Application Support/deerimg/history.jsonl on macOS,
%LOCALAPPDATA%\\deerimg\\deerimg\\history.jsonl on Windows;
$DEERIMG_DATA_DIR/history.jsonl when that is set). Read by deerimg history; never rewritten;
--no-history or history = false turns it off.

~/.cache/deerimg/models.txt :: The model ids of the last deerimg models, read by shell completion
(~/Library/Caches/deerimg/models.txt on macOS; $DEERIMG_CONFIG_DIR/cache/models.txt when that is
set).
"""

EXIT_STATUS = """
0 :: Every image was saved (or --dry-run printed the requests).

1 :: A generation failed: an API error after retries, a network error, or an answer that is not a
valid image. In a batch: any prompt failed.

2 :: Usage error: a bad flag or value, no prompt, a target that exists (without --force) or
cannot be written.

3 :: Authentication or configuration: no API key, 401 or 403 from the API, a config file that
cannot be read.

130 :: Interrupted (Ctrl-C): finished images are kept, no partial file is left, a summary is
printed.
"""

# Every command here is run against the fake API by tests/test_examples.py.
EXAMPLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Save the API key in the config file (it is read without echo), and check the settings:",
        ("deerimg config set api-key", "deerimg config list"),
    ),
    (
        "Make one image; its path is printed on standard output:",
        ('deerimg generate "A paper boat floating on calm water at sunrise." -o boat.jpg',),
    ),
    (
        "Make a batch from a file (one prompt a line; # comments; JSON lines such as "
        '{"prompt": "a red fox", "size": "1536x1024"}), four requests at once, into a folder:',
        ("deerimg generate -f prompts.txt -j 4 -d out",),
    ),
    (
        "Pipe prompts in, one a line, and an image's bytes out:",
        (
            "printf '%s\\n' 'a red fox' 'a snowy owl' | deerimg generate -o '{index}-{slug}.{ext}'",
            "deerimg generate 'a tiny robot' -o - > robot.png",
        ),
    ),
    (
        "Print the paths of the saved images with --json and jq:",
        ("deerimg generate -f prompts.txt -d run --json | jq -r 'select(.path) | .path'",),
    ),
    (
        "Resume a batch that was interrupted or had failures: the second command sends only the "
        "prompts whose images are missing:",
        (
            "deerimg generate -f prompts.txt -d resumed -o '{slug}.{ext}'",
            "deerimg generate -f prompts.txt -d resumed -o '{slug}.{ext}' --skip-existing",
        ),
    ),
    (
        "Watch the image being made: two partial images, shown in the terminal where it can "
        "(else written as fox.partial-1.png and fox.partial-2.png), gone once fox.png is saved:",
        ('deerimg generate "a red fox in the snow" --partial-images 2 --preview -o fox.png',),
    ),
    (
        "Edit a photo where a mask is transparent:",
        ('deerimg edit photo.png "make it night" --mask mask.png -o night.png',),
    ),
    (
        "See the request without sending it (no key needed), and list the flux models:",
        (
            'deerimg generate "a lighthouse in fog" -q high -s 1536x1024 --dry-run',
            "deerimg models --search flux",
        ),
    ),
)

SEE_ALSO = "The project's README.md: installing, shell completion, configuration, troubleshooting."
