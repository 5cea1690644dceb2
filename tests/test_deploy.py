"""The supervised way to run the server (deploy/): a real gunicorn with deploy/gunicorn.conf.py.

* After ``kill -9`` of the master alone, its workers leave at once and a new server can bind the
  port (plain gunicorn's orphans kept it for about half the worker timeout: 15–30 s).
* The access log holds no address or user agent for the citizen's paths, and truncated
  addresses elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from survey.serving import truncated_address

REPO = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).with_name("gunicorn")
FLASK = Path(sys.executable).with_name("flask")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _port_is_free(port: int) -> bool:
    """Whether a server could listen on the port now (as gunicorn binds: SO_REUSEADDR, so the
    TIME_WAIT of earlier connections does not count)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _alive(pids: list[str]) -> bool:
    """Whether any of the processes still runs (a zombie waiting to be reaped does not)."""
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            continue
        if state not in ("Z", "X"):
            return True
    return False


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 — http://127.0.0.1 only
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _wait_until_serving(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "gunicorn stopped while starting"
        try:
            if _get(port, "/") < 500:
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail("gunicorn did not start within 60 s")


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "SURVEY_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'survey.sqlite3'}",
        "ACCESS_LOG": str(tmp_path / "access.log"),
        "PORT": str(_free_port()),
        "WEB_CONCURRENCY": "2",
    }
    env.pop("TEST_DATABASE_URL", None)
    subprocess.run(
        [str(FLASK), "--app", "wsgi", "init-db"], cwd=REPO, env=env, check=True, capture_output=True
    )
    return env


@pytest.fixture
def start(environment: dict[str, str]) -> Iterator[object]:
    started: list[subprocess.Popen[bytes]] = []

    def run() -> subprocess.Popen[bytes]:
        server = subprocess.Popen(
            [str(GUNICORN), "-c", "deploy/gunicorn.conf.py", "wsgi:app"],
            cwd=REPO,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        started.append(server)
        _wait_until_serving(int(environment["PORT"]), server)
        return server

    yield run
    for server in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


def test_workers_leave_with_a_killed_master_and_the_port_can_be_bound_again(
    environment: dict[str, str], start
):
    port = int(environment["PORT"])
    first = start()
    workers = subprocess.run(
        ["pgrep", "-P", str(first.pid)], capture_output=True, text=True, check=False
    ).stdout.split()
    assert len(workers) == 2
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    deadline = time.monotonic() + 5  # plain gunicorn: 15–30 s
    while (not _port_is_free(port) or _alive(workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _port_is_free(port), "orphaned workers still hold the port 5 s after the master died"
    assert not _alive(workers), "orphaned workers still run 5 s after the master died"
    start()
    assert _get(port, "/") == 200


def test_the_access_log_cannot_link_a_citizen_to_a_response(
    environment: dict[str, str], start, tmp_path: Path
):
    start()
    port = int(environment["PORT"])
    phone = {"User-Agent": "Nokia-C2-phone-of-a-citizen/1.0", "X-Forwarded-For": "198.51.100.23"}
    _get(port, "/s/NoSuchCode123", phone)
    _get(port, "/admin/sign-in", phone)
    deadline = time.monotonic() + 10
    log = tmp_path / "access.log"
    while time.monotonic() < deadline and log.read_text().count("\n") < 3:
        time.sleep(0.1)
    lines = log.read_text().splitlines()
    citizen = [line for line in lines if "/s/NoSuchCode123" in line]
    official = [line for line in lines if "/admin/sign-in" in line]
    assert citizen and official, lines
    for line in citizen:
        assert "127.0.0" not in line and "Nokia" not in line and "198.51" not in line
    for line in official:
        assert line.startswith("127.0.0.0 ") and "127.0.0.1" not in line


@pytest.mark.parametrize(
    ("address", "kept"),
    [
        ("203.0.113.77", "203.0.113.0"),
        ("2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::"),
        (" 10.1.2.3", "10.1.2.0"),
        ("not-an-address", "-"),
        ("", "-"),
    ],
)
def test_addresses_are_truncated_to_their_network(address: str, kept: str):
    assert truncated_address(address) == kept
