"""A real Synapse homeserver on loopback for the Matrix tests.

Synapse lives in its own virtual environment (it pins many libraries of its own), created once
and cached in `.cache/synapse-venv` at the repository root, or at `COORDBOT_SYNAPSE_VENV`.
`python -m tests.matrix.synapse` (or tools/synapse_venv.sh) creates it ahead of the tests.

The server listens on 127.0.0.1 only, serves only the client API (no federation), keeps its
data in SQLite under a temporary directory and has its rate limits raised so that tests are not
slowed by them. Users are registered through the shared-secret admin API."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_VENV = REPO_ROOT / ".cache" / "synapse-venv"
SERVER_NAME = "localhost"
START_TIMEOUT = 60.0


class SynapseUnavailable(RuntimeError):
    """Synapse could not be installed or started; the Matrix tests cannot run."""


def venv_path() -> Path:
    return Path(os.environ.get("COORDBOT_SYNAPSE_VENV") or DEFAULT_VENV)


def venv_python(venv: Path | None = None) -> Path:
    return (venv or venv_path()) / "bin" / "python"


def ensure_venv(venv: Path | None = None) -> Path:
    """Creates the Synapse virtualenv once; later calls only check that it imports."""
    venv = venv or venv_path()
    python = venv_python(venv)
    if python.exists() and _imports_synapse(python):
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    steps = [[sys.executable, "-m", "venv", str(venv)],
             [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
              "matrix-synapse"]]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            raise SynapseUnavailable(f"{' '.join(step[:4])} failed: "
                                     f"{(done.stderr or done.stdout)[-2000:]}")
    if not _imports_synapse(python):
        raise SynapseUnavailable(f"matrix-synapse installed in {venv} but does not import")
    return python


def _imports_synapse(python: Path) -> bool:
    done = subprocess.run([str(python), "-c", "import synapse.app.homeserver"],
                          capture_output=True, timeout=120)
    return done.returncode == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


RATE_LIMIT = {"per_second": 1000, "burst_count": 1000}


def synapse_config(base: Path, port: int, secret: str) -> dict:
    return {
        "server_name": SERVER_NAME,
        "public_baseurl": f"http://127.0.0.1:{port}/",
        "pid_file": str(base / "homeserver.pid"),
        "listeners": [{"port": port, "bind_addresses": ["127.0.0.1"], "type": "http",
                       "tls": False, "x_forwarded": False,
                       "resources": [{"names": ["client"], "compress": False}]}],
        "database": {"name": "sqlite3", "args": {"database": str(base / "homeserver.db")}},
        "log_config": str(base / "log.yaml"),
        "media_store_path": str(base / "media"),
        "signing_key_path": str(base / "signing.key"),
        "registration_shared_secret": secret,
        "macaroon_secret_key": secrets.token_hex(16),
        "form_secret": secrets.token_hex(16),
        "enable_registration": False,
        "report_stats": False,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "federation_domain_whitelist": [],
        "presence": {"enabled": False},
        "url_preview_enabled": False,
        "enable_metrics": False,
        "rc_message": RATE_LIMIT,
        "rc_registration": RATE_LIMIT,
        "rc_login": {"address": RATE_LIMIT, "account": RATE_LIMIT,
                     "failed_attempts": RATE_LIMIT},
        "rc_joins": {"local": RATE_LIMIT, "remote": RATE_LIMIT},
        "rc_joins_per_room": RATE_LIMIT,
        "rc_invites": {"per_room": RATE_LIMIT, "per_user": RATE_LIMIT,
                       "per_issuer": RATE_LIMIT},
        "rc_room_creation": RATE_LIMIT,
        "rc_key_requests": RATE_LIMIT,
        "rc_3pid_validation": RATE_LIMIT,
        "rc_admin_redaction": RATE_LIMIT,
        "rc_delayed_event_mgmt": RATE_LIMIT,
    }


LOG_CONFIG = """version: 1
formatters:
  plain: {format: '%(asctime)s %(name)s %(levelname)s %(message)s'}
handlers:
  file: {class: logging.FileHandler, formatter: plain, filename: LOGFILE}
root: {level: WARNING, handlers: [file]}
disable_existing_loggers: false
"""


@dataclass
class MatrixAccount:
    user_id: str
    password: str
    localpart: str


class SynapseServer:
    """One Synapse process; `stop()` and `start()` again keep its data and port."""

    def __init__(self, base: Path, python: Path | None = None):
        self.base = Path(base)
        self.python = python or ensure_venv()
        self.port = free_port()
        self.secret = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self._counter = 0
        self._configure()

    def _configure(self) -> None:
        import yaml

        self.base.mkdir(parents=True, exist_ok=True)
        (self.base / "log.yaml").write_text(
            LOG_CONFIG.replace("LOGFILE", str(self.base / "homeserver.log")))
        self.config_path = self.base / "homeserver.yaml"
        self.config_path.write_text(yaml.safe_dump(synapse_config(self.base, self.port,
                                                                  self.secret)))
        done = subprocess.run([str(self.python), "-m", "synapse.app.homeserver", "-c",
                               str(self.config_path), "--generate-missing-configs"],
                              capture_output=True, text=True, timeout=120, cwd=self.base)
        if done.returncode != 0:
            raise SynapseUnavailable(f"synapse --generate-missing-configs failed: "
                                     f"{done.stderr[-2000:]}")

    def start(self) -> None:
        if self.running:
            return
        self.process = subprocess.Popen(
            [str(self.python), "-m", "synapse.app.homeserver", "-c", str(self.config_path)],
            cwd=self.base, stdout=subprocess.DEVNULL,
            stderr=open(self.base / "stderr.log", "ab"))
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SynapseUnavailable(f"synapse exited with {self.process.returncode}: "
                                         f"{self._tail('stderr.log')}")
            if self._responds():
                return
            time.sleep(0.1)
        self.stop()
        raise SynapseUnavailable(f"synapse did not answer within {START_TIMEOUT:.0f} s")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def _responds(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=1) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def _tail(self, name: str) -> str:
        path = self.base / name
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def register(self, prefix: str = "user", *, admin: bool = False) -> MatrixAccount:
        """Registers a fresh user through the shared-secret admin API (nonce + HMAC-SHA1)."""
        self._counter += 1
        localpart = f"{prefix}{self._counter}x{secrets.token_hex(3)}"
        password = secrets.token_urlsafe(12)
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        with urllib.request.urlopen(endpoint, timeout=10) as response:
            nonce = json.load(response)["nonce"]
        mac = hmac.new(self.secret.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce.encode(), localpart.encode(), password.encode(),
                                 b"admin" if admin else b"notadmin"]))
        body = json.dumps({"nonce": nonce, "username": localpart, "password": password,
                           "admin": admin, "mac": mac.hexdigest()}).encode()
        request = urllib.request.Request(endpoint, data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            user_id = json.load(response)["user_id"]
        return MatrixAccount(user_id, password, localpart)


def main() -> int:
    """Creates the cached virtualenv (for CI: run before the tests)."""
    python = ensure_venv()
    print(f"synapse virtualenv ready: {python}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
