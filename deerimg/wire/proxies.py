"""The proxies httpx takes from the environment, each named by its variable in errors.

httpx reads HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY (any case, lower case winning) through
urllib's getproxies, as this does. A URL it cannot parse ended a run in a traceback, and a proxy
that cannot be reached was blamed on the API (issue 16): here the first is one error naming the
variable (a setting to fix, exit 3), and a network error says which proxy it went through.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from deerimg.errors import DeerimgError, ExitCode
from deerimg.wire.responses import describe, server_text

SCHEMES = ("http", "https", "all")  # what httpx takes from getproxies, in its order
_USERINFO = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)?[^/@]*@")


@dataclass(slots=True)
class EnvProxy:
    scheme: str  # "http", "https" or "all": the URLs it serves
    value: str  # as the variable holds it
    url: str  # as httpx takes it: with http:// when the value has no scheme
    variable: str  # HTTP_PROXY, https_proxy, … or "the system's proxy settings"

    def shown(self) -> str:
        """The value without a user name or password, safe to print."""
        return server_text(_USERINFO.sub(lambda m: f"{m.group(1) or ''}…@", self.value))


def environment() -> tuple[list[EnvProxy], list[str]]:
    """The proxies httpx would use, and the NO_PROXY entries; none at all when NO_PROXY is *."""
    from urllib.request import getproxies

    found = getproxies()
    bypass = [host.strip() for host in found.get("no", "").split(",") if host.strip()]
    if "*" in bypass:
        return [], []
    proxies = []
    for scheme in SCHEMES:
        value = found.get(scheme)
        if value:
            url = value if "://" in value else f"http://{value}"
            proxies.append(EnvProxy(scheme, value, url, _variable(scheme, value)))
    return proxies, bypass


def _variable(scheme: str, value: str) -> str:
    name = f"{scheme}_proxy"
    if os.environ.get(name) == value:
        return name  # urllib lets the lower-case name win
    for key, held in os.environ.items():
        if key.lower() == name and held == value:
            return key
    return "the system's proxy settings"


def setup_error(exc: Exception) -> DeerimgError:
    """The error for httpx.Client() failing on the environment: which variable to fix."""
    import httpx

    for proxy in environment()[0]:
        try:
            httpx.Proxy(proxy.url)
        except (httpx.InvalidURL, ValueError) as bad:
            why = describe(bad)
            if why.startswith("Unknown scheme"):  # its text repeats the URL, user name and all
                why = "its scheme is not http, https, socks5 or socks5h"
            return DeerimgError(
                f"{proxy.variable} is not a proxy URL deerimg can use: {proxy.shown()!r} ({why})",
                ExitCode.CONFIG,
                hint=f"fix {proxy.variable} (http://HOST:PORT or socks5://HOST:PORT), or unset it",
            )
    if isinstance(exc, ImportError):  # socksio, which httpx[socks] brings, is missing
        return DeerimgError(
            f"a SOCKS proxy needs the socksio package: {describe(exc)}",
            ExitCode.CONFIG,
            hint="pip install 'httpx[socks]' where deerimg is installed",
        )
    return DeerimgError(f"cannot set up the connection: {describe(exc)}", ExitCode.CONFIG)


def via(url: str) -> str:
    """ " via proxy P (VARIABLE)" when httpx sends URL through a proxy from the environment."""
    proxies, bypass = environment()
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return ""
    if any(_bypassed(parts.scheme, host, entry) for entry in bypass):
        return ""
    chosen = {proxy.scheme: proxy for proxy in proxies}
    proxy = chosen.get(parts.scheme) or chosen.get("all")
    return f" via proxy {proxy.shown()} ({proxy.variable})" if proxy else ""


def _bypassed(scheme: str, host: str, entry: str) -> bool:
    """Whether NO_PROXY's ENTRY spares HOST, by httpx's rules (get_environment_proxies)."""
    entry = entry.lower()
    if "://" in entry:
        parts = urlsplit(entry)
        return parts.scheme in ("all", scheme) and parts.hostname in (None, "*", host)
    if entry == "localhost" or _is_address(entry.strip("[]")):
        return host == entry.strip("[]")
    if entry.startswith("."):
        return host.endswith(entry) and host != entry
    return host == entry or host.endswith(f".{entry}")


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
