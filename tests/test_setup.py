"""`make run` works from a clean checkout: install → migrate → demo load → serve → /healthz.

The checkout is a copy of the working tree's tracked and untracked (not ignored) files in a
temporary folder, so uncommitted work is tested too. So that the test does not download every
package again, the Makefile's ``VENV`` points at a fresh virtualenv layered over this one's
site-packages: the Makefile still runs every install step (pip finds the pinned packages already
there), installs zhifa from the copy, runs ``npm ci`` and vendors the assets.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.error import URLError

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

ROOT = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 600


def _copy_checkout(dest: Path) -> None:
    listing = subprocess.run(
        ["git", "ls-files", "-z", "-co", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listing.split("\0")):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)


def _overlay_venv(dest: Path) -> Path:
    """A virtualenv that sees this interpreter's installed packages (but not its zhifa)."""
    base_python = Path(sys.base_prefix) / "bin" / "python3"
    subprocess.run([str(base_python), "-m", "venv", "--without-pip", str(dest)], check=True)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(dest), "platbase": str(dest)}))
    parents = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "_zhifa_parent_venv.pth").write_text("\n".join(sorted(parents)) + "\n")
    return dest


def _clean_env() -> dict[str, str]:
    skip = ("ZHIFA_", "MAKE", "MFLAGS", "VIRTUAL_ENV", "PYTHON")
    return {k: v for k, v in os.environ.items() if not k.startswith(skip)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _make(checkout: Path, venv: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", *args, f"VENV={venv}"],
        cwd=checkout,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=STARTUP_SECONDS,
        check=False,
    )


def _health(url: str) -> dict[str, str] | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (local URL)
            if response.status == 200:
                body: dict[str, str] = json.loads(response.read())
                return body
    except (URLError, ConnectionError, TimeoutError):
        return None
    return None


def _wait_for_health(process: subprocess.Popen[bytes], url: str, log: Path) -> dict[str, str]:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        body = _health(url)
        if body is not None:
            return body
        if process.poll() is not None:
            pytest.fail(f"make run exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        time.sleep(0.5)
    pytest.fail(f"{url} never answered 200:\n{log.read_text()[-4000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout to copy from")
    dest = tmp_path_factory.mktemp("checkout")
    _copy_checkout(dest)
    return dest


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _overlay_venv(tmp_path_factory.mktemp("venv") / "venv")


@pytest.fixture(scope="module")
def served(checkout: Path, venv: Path) -> Iterator[tuple[dict[str, str], str]]:
    """Run `make run` on a free port until /healthz answers; yield its answer and the log."""
    port = _free_port()
    log = checkout / "make-run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["make", "run", f"VENV={venv}", f"PORT={port}"],
            cwd=checkout,
            env=_clean_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            body = _wait_for_health(process, f"http://127.0.0.1:{port}/healthz", log)
            yield body, log.read_text()
        finally:
            _stop(process)


class TestMakeRunFromACleanCheckout:
    def test_the_server_answers_healthz_with_the_database_ok(
        self, served: tuple[dict[str, str], str]
    ) -> None:
        body, _log = served

        assert body["status"] == "ok"
        assert body["database"] == "ok"

    def test_it_installed_migrated_and_loaded_the_demo(
        self, served: tuple[dict[str, str], str], checkout: Path, venv: Path
    ) -> None:
        _body, log = served

        assert "npm ci" in log
        assert (checkout / "src/zhifa/web/static/vendor/htmx.min.js").is_file()
        assert (venv / ".stamp-main").is_file()
        assert (checkout / "var" / "zhifa.db").is_file()
        assert (checkout / "var" / "secret_key").is_file()
        assert "database at" in log  # zhifa db upgrade
        assert "admin" in log  # zhifa demo load prints the demo accounts

    def test_a_second_setup_installs_nothing_and_reloads_the_demo_idempotently(
        self, served: tuple[dict[str, str], str], checkout: Path, venv: Path
    ) -> None:
        result = _make(checkout, venv, "setup")

        assert result.returncode == 0, result.stdout + result.stderr
        assert "pip install" not in result.stdout
        assert "npm ci" not in result.stdout
        assert "zhifa demo load" in result.stdout
