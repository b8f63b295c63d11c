"""Resolve every setting once: flag > environment > config > default, with each source."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deerimg import families
from deerimg.errors import DeerimgError, ExitCode, conceal, usage_error
from deerimg.settings import file, keys
from deerimg.values import normalise_format

DEFAULT_BASE_URL = "https://api.deerapi.com"
DEFAULT_MODEL = "gpt-image-2"  # the API's own default, dall-e-3, is retired

DEFAULTS: dict[str, Any] = {
    "api_key": None,
    "base_url": DEFAULT_BASE_URL,
    "model": DEFAULT_MODEL,
    "size": None,  # None: not sent, the API's own default
    "quality": None,
    "format": None,
    "output_dir": ".",
    "jobs": 4,
    "timeout": 300.0,  # high-quality images can take over two minutes
    "retries": 3,
    "history": True,  # append each request to the history ledger
    "max_cost": None,  # no budget
    "retry_timeouts": False,  # a paid request sent, then timed out, may be billed: not resent
    "preview": False,  # thumbnails on stderr's terminal (report/preview.py)
}
ENV_VARS: dict[str, str] = {
    "api_key": "DEERAPI_KEY",
    "base_url": "DEERIMG_BASE_URL",
    "preview": "DEERIMG_PREVIEW",
}


@dataclass(slots=True)
class Settings:
    api_key: str | None = field(repr=False)
    base_url: str
    model: str
    size: str | None
    quality: str | None
    format: str | None
    output_dir: Path
    jobs: int
    timeout: float
    retries: int
    history: bool = True
    jobs_auto: bool = False  # -j auto: the starts paced to the rate limit (run/pacing.py)
    max_jobs: int = 32  # with -j auto, the most requests in flight
    retry_timeouts: bool = False  # --retry-timeouts, or config retry-timeouts: wire/send.py
    routes: Mapping[str, str] = field(default_factory=dict)  # config [routes]: model id → route
    max_cost: float | None = None  # --max-cost or config max-cost: a run's budget in USD
    preview: bool = False  # --preview, DEERIMG_PREVIEW or config preview: thumbnails
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    # What a person should hear of these settings (a config file others can read, plain http):
    # the command shows them, or not with --quiet.
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def api_root(self) -> str:
        """The base URL ending in /v1, whichever way the user wrote it."""
        root = self.base_url.rstrip("/")
        return root if root.endswith("/v1") else root + "/v1"

    def require_key(self) -> str:
        if not self.api_key:
            raise DeerimgError(
                "no API key",
                ExitCode.CONFIG,
                hint="export DEERAPI_KEY=... or run `deerimg config set api-key`",
            )
        return self.api_key


def _fix_hint(key: str) -> str:
    name = key.replace("_", "-")
    if key == "api_key":  # a key on the command line lands in the shell's history
        return f"fix it with `deerimg config set {name}` and paste the key at the prompt"
    return f"fix it with `deerimg config set {name} VALUE`"


def resolve_values(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    file_values: Mapping[str, Any] | None = None,
) -> dict[str, tuple[Any, str]]:
    """Every key's (value, source), source one of flag, env, config, default."""
    flags = flags or {}
    env = os.environ if env is None else env
    path = file.config_path()
    if file_values is None:
        file_values = file.read_config(path)
    resolved: dict[str, tuple[Any, str]] = {}
    for key, default in DEFAULTS.items():
        if flags.get(key) is not None:
            resolved[key] = (flags[key], "flag")
        elif ENV_VARS.get(key) and env.get(ENV_VARS[key]):
            value = env[ENV_VARS[key]].strip()
            if key != "api_key":  # the key's own check comes when it is sent, worded for it
                try:
                    value = keys.check_value(key, value)
                except ValueError as exc:
                    raise DeerimgError(
                        f"{ENV_VARS[key]}: {key.replace('_', '-')} {exc}", ExitCode.CONFIG
                    ) from None
            resolved[key] = (value, "env")
        elif key in file_values:
            try:
                value = keys.check_value(key, file_values[key])
            except ValueError as exc:
                raise DeerimgError(
                    f"config file {path}: {key} {exc}",
                    ExitCode.CONFIG,
                    hint=_fix_hint(key),
                ) from None
            resolved[key] = (value, "config")
        else:
            resolved[key] = (default, "default")
    return resolved


def resolve_settings(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    file_values: Mapping[str, Any] | None = None,
) -> Settings:
    flags = dict(flags or {})
    max_jobs = _max_jobs(flags.pop("max_jobs", None))
    flags = checked_flags(flags)  # before the file: a bad flag is told first
    warnings: list[str] = []
    if file_values is None:
        path = file.config_path()
        file_values = file.read_config(path)
        warnings += file.warnings_of(path, file_values)
    resolved = resolve_values(flags, env, file_values)
    values = {key: value for key, (value, _) in resolved.items()}
    base_url = values["base_url"]
    try:
        keys.check_value("base_url", base_url)
    except ValueError as exc:
        source = resolved["base_url"][1]
        raise DeerimgError(f"base URL {base_url!r} ({source}) {exc}", ExitCode.CONFIG) from None
    warning = keys.plain_http_warning(base_url)
    if warning:
        warnings.append(warning)
    if values["api_key"]:
        conceal(values["api_key"])  # whatever the server says back, the key is not shown
    routes = routes_of(file_values)
    families.use_routes(routes)
    if "prices" in file_values or "deerimg.prices" in sys.modules:  # imported when there is use
        from deerimg import prices

        prices.use_prices(prices_of(file_values))
    return Settings(
        api_key=values["api_key"],
        base_url=base_url,
        model=values["model"],
        size=values["size"],
        quality=values["quality"],
        format=values["format"],
        output_dir=Path(values["output_dir"]).expanduser(),
        jobs=max_jobs if values["jobs"] == "auto" else int(values["jobs"]),
        jobs_auto=values["jobs"] == "auto",
        max_jobs=max_jobs,
        timeout=float(values["timeout"]),
        retries=int(values["retries"]),
        history=bool(values["history"]),
        retry_timeouts=bool(values["retry_timeouts"]),
        routes=routes,
        max_cost=float(values["max_cost"]) if values["max_cost"] is not None else None,
        preview=bool(values["preview"]),
        sources={key: source for key, (_, source) in resolved.items()},
        warnings=tuple(warnings),
    )


def routes_of(file_values: Mapping[str, Any]) -> dict[str, str]:
    """The config's [routes] table, checked: each model id → a route deerimg knows."""
    table = file_values.get("routes", {})
    where = f"config file {file.config_path()}: routes"
    if not isinstance(table, dict):
        raise DeerimgError(
            f"{where} must be a table",
            ExitCode.CONFIG,
            hint='[routes] then one line a model: "my-gemini-id" = "gemini"',
        )
    for model, route in table.items():
        if route not in families.ROUTES:
            raise DeerimgError(
                f"{where}: {model!r} = {route!r} names no route "
                f"(deerimg knows {', '.join(families.ROUTES)})",
                ExitCode.CONFIG,
            )
    return dict(table)


def prices_of(file_values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The config's [prices."MODEL"] rows, checked: per_image, or per-1M-token text_in, image_in,
    image_out, text_out; each a number of USD, 0 or more; date a string."""
    table = file_values.get("prices", {})
    where = f"config file {file.config_path()}: prices"
    example = '[prices."gpt-image-2"] then image_out = 30 (USD per 1M tokens) or per_image = 0.04'
    if not isinstance(table, dict) or not all(isinstance(row, dict) for row in table.values()):
        raise DeerimgError(f"{where} must hold one table a model", ExitCode.CONFIG, hint=example)
    from deerimg.prices import TOKEN_FIELDS

    known = ("per_image", *TOKEN_FIELDS)
    for model, row in table.items():
        for key, value in row.items():
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if key == "date" and isinstance(value, str):
                continue
            if key not in known or not number or not 0 <= value < float("inf"):
                raise DeerimgError(
                    f"{where}.{model!r}: {key} = {value!r} is not a price "
                    f"(keys: {', '.join(known)}, date; numbers of USD, 0 or more)",
                    ExitCode.CONFIG,
                    hint=example,
                )
        if not any(key in row for key in known):
            raise DeerimgError(f"{where}.{model!r} names no price", ExitCode.CONFIG, hint=example)
    return table


def _max_jobs(value: Any) -> int:
    """--max-jobs (exit 2 when out of range); 32 when not given."""
    try:
        return 32 if value is None else keys.check_max_jobs(value)
    except ValueError as exc:
        raise usage_error(f"invalid value for --max-jobs: {exc}") from None


def checked_flags(flags: Mapping[str, Any]) -> dict[str, Any]:
    """Flags that share a config key, checked by the same rule as the config value (exit 2)."""
    checked: dict[str, Any] = {}
    for key, value in flags.items():
        if value is None:
            continue
        if key in ("model", "size", "quality", "format"):
            # checked with the request, whose message names the -p escape
            checked[key] = normalise_format(value) if key == "format" else value
            continue
        try:
            checked[key] = keys.check_value(key, str(value) if key == "output_dir" else value)
        except ValueError as exc:
            raise usage_error(f"invalid value for --{key.replace('_', '-')}: {exc}") from None
    return checked


@dataclass(slots=True)
class Origin:
    """Where one setting's value comes from, for `config list` and `config get`."""

    key: str
    value: Any
    source: str  # env, config or default
    env_var: str | None  # the variable that can set it, if any
    overrides_config: bool  # the environment wins over a value the config file also holds


def explain(env: Mapping[str, str] | None = None) -> tuple[list[Origin], list[str]]:
    """Every key with its value and source, resolved exactly as `generate` resolves it, and the
    config file's warnings."""
    path = file.config_path()
    file_values = file.read_config(path)
    resolved = resolve_values(env=env, file_values=file_values)
    origins = [
        Origin(key, value, source, ENV_VARS.get(key), source == "env" and key in file_values)
        for key, (value, source) in resolved.items()
    ]
    return origins, file.warnings_of(path, file_values)
