"""The processes under test: ``gunicorn wsgi:app`` and a throwaway PostgreSQL server, both on
loopback, plus the small set of service points the clients answer.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from survey.services.qr import new_public_code
from survey.storage.database import make_engine
from survey.storage.models import Agency, ServicePoint

REPO_ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"
TRIVIAL_PATH = "/static/css/public.css"
SINCE = dt.date(2020, 1, 1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (gunicorn's workers), read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its reaped children, from /proc/<pid>/stat."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    ticks = sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------------------------ PostgreSQL


def postgres_bin_dir() -> Path | None:
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3])
    )
    if candidates:
        return candidates[-1].parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


class PostgresServer:
    """A throwaway cluster in ``root`` listening on loopback only (run as ``postgres`` when root).

    fsync and synchronous_commit keep their defaults: the crash test is about durability.
    """

    def __init__(self, root: Path) -> None:
        bin_dir = postgres_bin_dir()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL is not installed (Debian: apt-get install postgresql)")
        self.bin = bin_dir
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.url = f"postgresql+psycopg://postgres@{LOOPBACK}:{self.port}/survey_load"

    def _run(self, *command: str) -> None:
        subprocess.run(
            [*self.as_postgres, str(self.bin / command[0]), *command[1:]],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.as_postgres:
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")
        options = f"-p {self.port} -c listen_addresses={LOOPBACK} -k {self.root}"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-o",
                  options, "start")  # fmt: skip
        self._run("createdb", "-h", LOOPBACK, "-p", str(self.port), "-U", "postgres", "survey_load")

    def restart_immediately(self) -> None:
        """``pg_ctl restart -m immediate``: no checkpoint, crash recovery on start."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "restart")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def cpu_seconds(self) -> float:
        """CPU of the postmaster, its live backends and those it has reaped."""
        pid_file = self.data / "postmaster.pid"
        try:
            postmaster = int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return 0.0
        return cpu_seconds(postmaster) + sum(cpu_seconds(pid) for pid in _children(postmaster))


# ---------------------------------------------------------------------------------------- gunicorn


@dataclass(frozen=True)
class GunicornSettings:
    """Worker count and class (see README.md for why these defaults suit two cores)."""

    workers: int = 4
    worker_class: str = "sync"
    threads: int = 1


def _no_control_socket() -> list[str]:
    """gunicorn ≥ 25 opens a control socket at a fixed path shared by every instance: not ours."""
    from gunicorn.config import KNOWN_SETTINGS

    flags = {flag for setting in KNOWN_SETTINGS for flag in (setting.cli or [])}
    return ["--no-control-socket"] if "--no-control-socket" in flags else []


_NO_CONTROL_SOCKET = _no_control_socket()


class GunicornServer:
    """``gunicorn wsgi:app`` with the production settings, restartable after a SIGKILL."""

    def __init__(
        self, database_url: str, log_path: Path, settings: GunicornSettings | None = None
    ) -> None:
        self.settings = settings or GunicornSettings()
        self.port = free_port()
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.env = {
            **os.environ,
            "SURVEY_ENV": "production",
            "SECRET_KEY": secrets.token_hex(32),
            "DATABASE_URL": database_url,
            "PUBLIC_BASE_URL": f"http://{LOOPBACK}:{self.port}",
            # Rate limits are lifted for the benchmark: fifty clients share one address here.
            "RATELIMIT_ENABLED": "false",
            "RATELIMIT_STORAGE_URI": "memory://",
        }
        self.cpu_of_killed = 0.0

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "gunicorn", "wsgi:app",
            "--bind", f"{LOOPBACK}:{self.port}",
            "--workers", str(self.settings.workers),
            "--worker-class", self.settings.worker_class,
            "--threads", str(self.settings.threads),
            "--preload",  # import the app once (about 2 s) so that workers and restarts are quick
            "--backlog", "2048",
            *_NO_CONTROL_SOCKET,
        ]  # fmt: skip

    def flask(self, *args: str) -> None:
        """Run ``flask --app wsgi ARGS`` with the server's environment."""
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=REPO_ROOT,
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start(self, timeout: float = 60.0) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(), cwd=REPO_ROOT, env=self.env, stdout=log, stderr=log
            )
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        give_up = time.monotonic() + timeout
        while time.monotonic() < give_up:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_path}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection((LOOPBACK, self.port), timeout=1) as probe,
            ):
                probe.sendall(f"GET {TRIVIAL_PATH} HTTP/1.0\r\n\r\n".encode())
                if probe.recv(12)[8:12] == b" 200":
                    return
            time.sleep(0.05)
        raise RuntimeError(f"gunicorn did not answer within {timeout} s; see {self.log_path}")

    def pids(self) -> list[int]:
        if self.process is None:
            return []
        return [self.process.pid, *_children(self.process.pid)]

    def kill(self) -> int:
        """SIGKILL the master and every worker at once; return how many processes died."""
        assert self.process is not None
        pids = self.pids()
        self.cpu_of_killed += self.cpu_seconds()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait()
        give_up = time.monotonic() + 10
        while any(_alive(pid) for pid in pids[1:]) and time.monotonic() < give_up:
            time.sleep(0.01)
        self.process = None
        return len(pids)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()
        self.process = None

    def cpu_seconds(self) -> float:
        """CPU used by the live master and workers so far (plus what killed ones had used)."""
        return sum(cpu_seconds(pid) for pid in self.pids())

    def unhandled_errors(self) -> int:
        """How many unhandled exceptions the app logged (``survey.errors`` logs each one)."""
        try:
            return self.log_path.read_text(errors="replace").count("unhandled error")
        except OSError:
            return 0


# ------------------------------------------------------------------------------------ test data


def seed_service_points(database_url: str, per_sector: int = 2) -> list[str]:
    """One agency per sector with ``per_sector`` service points each; returns their public codes.

    The schema and questionnaires come from ``flask --app wsgi init-db`` beforehand.
    """
    engine = make_engine(database_url)
    codes = []
    with Session(engine) as session:
        province = Agency(
            code="LOAD",
            name_vi="Tỉnh Thử Tải",
            name_en="Load-test province",
            sector="administrative",
            level="province",
            valid_from=SINCE,
        )
        session.add(province)
        for sector in ("administrative", "health", "education"):
            agency = Agency(
                code=f"LOAD-{sector}",
                name_vi=f"Cơ quan thử tải ({sector})",
                name_en=f"Load-test agency ({sector})",
                sector=sector,
                level="province",
                parent=province,
                valid_from=SINCE,
            )
            session.add(agency)
            for number in range(per_sector):
                code = new_public_code()
                codes.append(code)
                session.add(
                    ServicePoint(
                        agency=agency,
                        public_code=code,
                        name_vi=f"Quầy {number + 1}",
                        name_en=f"Desk {number + 1}",
                        active=True,
                    )
                )
        session.commit()
    engine.dispose()
    return codes
