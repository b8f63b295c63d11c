"""The TLS context made ahead on a thread (deerimg/tls.py): what it trusts, and its failures."""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deerimg.wire import tls
from tests.conftest import OUTPUTS, TEST_KEY
from tests.fake import FakeDeerAPI


@pytest.fixture
def fresh_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    """tls as if nothing had asked for the context yet in this process."""
    monkeypatch.setattr(tls, "_thread", None)
    monkeypatch.setattr(tls, "_made", [])
    monkeypatch.setattr(tls, "_failed", [])
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)


def ca_count(context: ssl.SSLContext) -> int:
    return context.cert_store_stats()["x509_ca"]


def test_context_trusts_what_httpx_trusts_by_default(fresh_tls: None) -> None:
    context = tls.context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert ca_count(context) > 50
    assert ca_count(context) == ca_count(httpx.create_ssl_context())


def test_warm_starts_one_thread_and_context_is_made_once(fresh_tls: None) -> None:
    tls.warm()
    first = tls._thread
    tls.warm()
    assert tls._thread is first and first is not None and first.daemon
    assert tls.context() is tls.context()
    assert not [t for t in threading.enumerate() if t.name == "deerimg-tls"]  # done, joined


def test_ssl_cert_file_is_honoured(fresh_tls: None, monkeypatch, tmp_path: Path) -> None:
    import certifi

    one = tmp_path / "one.pem"
    pem = Path(certifi.where()).read_text()
    one.write_text(pem[: pem.index("-----END CERTIFICATE-----") + 26])  # the first CA only
    monkeypatch.setenv("SSL_CERT_FILE", str(one))
    assert ca_count(tls.context()) == 1


def test_a_bad_ssl_cert_file_is_reported_where_it_is_used(fresh_tls: None, monkeypatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent/ca.pem")
    tls.warm()  # the thread's error is not lost, nor raised in the thread
    with pytest.raises(OSError):
        tls.context()


def run_deerimg(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "deerimg", *args],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=60, check=False,
    )  # fmt: skip
    OUTPUTS.append(done.stdout + done.stderr)
    return done


def test_bad_ssl_cert_file_is_a_clear_config_error(fake_api, isolated_env: Path) -> None:
    done = run_deerimg(["generate", "a boat"], {"SSL_CERT_FILE": "/nonexistent/ca.pem"})
    assert done.returncode == 3, done.stderr
    assert "error: cannot load the TLS certificates (/nonexistent/ca.pem)" in done.stderr
    assert "Traceback" not in done.stderr
    assert fake_api.generation_requests() == []


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made by the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def https_api(certificate: tuple[Path, Path]) -> Iterator[FakeDeerAPI]:
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(*certificate)
    with FakeDeerAPI(TEST_KEY, image_bytes=4096, tls=server_context) as api:
        yield api


def test_https_with_the_servers_ca_in_ssl_cert_file(
    https_api: FakeDeerAPI, isolated_env: Path, certificate: tuple[Path, Path]
) -> None:
    env = {"DEERIMG_BASE_URL": https_api.base_url, "SSL_CERT_FILE": str(certificate[0])}
    done = run_deerimg(["generate", "a boat", "-o", "boat.png"], env)
    assert done.returncode == 0, done.stderr
    assert (isolated_env / "boat.png").stat().st_size > 0
    assert len(https_api.generation_requests()) == 1


def test_https_to_an_untrusted_certificate_is_refused(
    https_api: FakeDeerAPI, isolated_env: Path
) -> None:
    done = run_deerimg(
        ["generate", "a boat", "--retries", "0"], {"DEERIMG_BASE_URL": https_api.base_url}
    )
    assert done.returncode == 1, done.stderr
    assert "CERTIFICATE_VERIFY_FAILED" in done.stderr or "certificate verify" in done.stderr
    assert "Traceback" not in done.stderr
    assert https_api.generation_requests() == []


WARM_SCRIPT = """
import sys
from deerimg.wire import tls
real = tls.warm
def warm():
    sys.stderr.write("warm-started\\n")
    real()
tls.warm = warm
sys.argv = ["deerimg", *sys.argv[1:]]
from deerimg.__main__ import main
main()
"""


@pytest.mark.parametrize(
    ("args", "warmed"),
    [
        (["generate", "a boat", "--dry-run"], True),
        (["models", "--help"], False),
        (["generate", "-h"], False),
        (["config", "path"], False),
        (["--version"], False),
    ],
)
def test_only_commands_that_send_load_certificates_early(
    args: list[str], warmed: bool, isolated_env: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", WARM_SCRIPT, *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    OUTPUTS.append(done.stdout + done.stderr)
    assert done.returncode == 0, done.stderr[-2000:]
    assert ("warm-started" in done.stderr) is warmed
