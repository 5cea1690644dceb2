"""How gunicorn runs the app in production (deploy/gunicorn.conf.py names these).

Two things the web application cannot do from inside a request:

* **Access logs that cannot be linked to responses.** A log line ``203.0.113.7 "POST /s/AbC…"``
  at 10:02:07 next to a response stored at 10:02:07 for that desk ties an address to an
  anonymous answer. ``PrivateAccessLogger`` writes no address, user agent, referrer or
  forwarded-for header for the citizen's paths (the form, the dossier link, the kiosk API),
  and a truncated address (IPv4 /24, IPv6 /48) for every other path, which is enough to see
  abuse by network without naming a person.
* **Workers that outlive a killed master.** After ``kill -9`` of the gunicorn master alone, its
  workers keep the listening socket, so a restarted server cannot bind the port.
  ``die_with_master`` (a ``post_fork`` hook) asks the Linux kernel to send each worker SIGQUIT
  when its master dies (``prctl(PR_SET_PDEATHSIG)``): gunicorn's quick-shutdown signal, which
  leaves at once (SIGTERM's graceful exit waits for the worker's poll to time out, 30 s), so the
  port is free again within a second. deploy/survey.service adds the supervisor's side
  (``KillMode=mixed``).
"""

from __future__ import annotations

import ctypes
import ipaddress
import signal
import sys
from typing import Any

from gunicorn.glogging import Logger

CITIZEN_PATHS = ("/s/", "/d/", "/kiosk/api/")
PERSONAL_ATOMS = ("a", "f", "{user-agent}i", "{referer}i", "{x-forwarded-for}i", "{x-real-ip}i")
PR_SET_PDEATHSIG = 1


def truncated_address(address: str) -> str:
    """``203.0.113.0`` for ``203.0.113.7``; ``2001:db8:85a3::`` for an IPv6 address (its /48);
    ``-`` for anything that is not an address."""
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return "-"
    prefix = 24 if parsed.version == 4 else 48
    return str(ipaddress.ip_network(f"{parsed}/{prefix}", strict=False).network_address)


class PrivateAccessLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger, with the access log's personal atoms removed or truncated."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> Any:
        atoms = super().atoms(resp, req, environ, request_time)
        path = environ.get("PATH_INFO") or ""
        if path.startswith(CITIZEN_PATHS):
            atoms["h"] = "-"
            for name in PERSONAL_ATOMS:
                if name in atoms:
                    atoms[name] = "-"
        else:
            atoms["h"] = truncated_address(str(atoms.get("h", "")))
            for name in ("{x-forwarded-for}i", "{x-real-ip}i"):
                if name in atoms:
                    atoms[name] = ", ".join(
                        truncated_address(part) for part in str(atoms[name]).split(",")
                    )
        return atoms


def die_with_master(_server: Any, _worker: Any) -> None:
    """``post_fork``: this worker gets SIGQUIT from the kernel when the master process dies."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGQUIT), 0, 0, 0)
