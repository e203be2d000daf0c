"""Real servers on loopback for the tests: moto (S3), redis-server standalone and a 3-node cluster, PostgreSQL."""

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from pricing.tools.reliability.processes import free_port, stop_process, wait_for_port


def free_cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free and valid too."""
    import random

    for _ in range(200):
        port = random.randint(20_000, 50_000)
        try:
            for candidate in (port, port + 10_000):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair for a redis cluster node")


@pytest.fixture(scope="session")
def moto_endpoint():
    """moto's S3 over real HTTP on loopback: boto3 makes real calls, nothing leaves the machine."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(server)


@pytest.fixture
def s3_env(moto_endpoint, monkeypatch):
    """AWS settings pointing boto3 at the moto server, with throw-away credentials."""
    for key, value in {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    return moto_endpoint


def make_bucket(name: str):
    import boto3

    client = boto3.client("s3")
    client.create_bucket(Bucket=name)
    return client


class RedisServer:
    """A real redis-server on a loopback port, no persistence; stop and start it again at will."""

    def __init__(self, workdir, port: int | None = None, cluster: bool = False) -> None:
        self.port = port or (free_cluster_port() if cluster else free_port())
        self.workdir = workdir
        self.cluster = cluster
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0" if not self.cluster else f"redis://127.0.0.1:{self.port}"

    def start(self) -> "RedisServer":
        args = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.workdir),
            "--enable-debug-command",
            "local",
        ]
        if self.cluster:
            args += ["--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{self.port}.conf"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None

    def cli(self, *args: str) -> str:
        follow = ["-c"] if self.cluster else []  # follow MOVED redirects to the slot's node
        return subprocess.run(
            ["redis-cli", "-p", str(self.port), *follow, *args], capture_output=True, text=True, timeout=30
        ).stdout


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


def _cluster_ready(node: RedisServer) -> bool:
    info = node.cli("cluster", "info")
    return "cluster_state:ok" in info and "cluster_slots_ok:16384" in info and "cluster_known_nodes:3" in info


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory):
    """Three masters on loopback, slots spread by redis-cli --cluster create."""
    nodes = [RedisServer(tmp_path_factory.mktemp(f"node{i}"), cluster=True).start() for i in range(3)]
    try:
        subprocess.run(
            [
                "redis-cli",
                "--cluster",
                "create",
                *[f"127.0.0.1:{n.port}" for n in nodes],
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        deadline = time.monotonic() + 30
        # Every node must agree, not only the first: a node still gossiping answers CLUSTERDOWN.
        while not all(_cluster_ready(node) for node in nodes):
            if time.monotonic() > deadline:
                raise TimeoutError("the redis cluster never reached cluster_state:ok")
            time.sleep(0.2)
        yield nodes
    finally:
        for node in nodes:
            node.stop()


def postgres_bindir() -> Path | None:
    """The folder of PostgreSQL's server programs: where `pg_ctl` on PATH really lives, else Debian's
    /usr/lib/postgresql/<version>/bin (not on PATH there), the newest version first; None when not installed."""
    on_path = shutil.which("pg_ctl")
    candidates = [Path(os.path.realpath(on_path)).parent] if on_path else []
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(Path(d).parent.name), reverse=True)
    candidates += [Path(d) for d in versions]
    return next((d for d in candidates if (d / "initdb").is_file() and (d / "pg_ctl").is_file()), None)


class PostgresServer:
    """A real PostgreSQL server (Debian's `postgresql` package, scripts/install-system-deps.sh) on a loopback port:
    a fresh cluster in a temporary folder, password (SCRAM) authentication, no durability (fsync off: test data).
    PostgreSQL refuses to run as root: under root it runs as the `postgres` user the package creates. pg_ctl's
    `-w` waits until the server accepts connections, so nothing sleeps."""

    USER, PASSWORD = "optuna", "pg-test-secret"

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="pricing-pg-"))  # not under pytest's root-only 0700 folders
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.as_user = "postgres" if os.geteuid() == 0 else None
        self.started = False

    def url(self, database: str = "postgres", password: str | None = None, scheme: str = "postgresql") -> str:
        return f"{scheme}://{self.USER}:{password or self.PASSWORD}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        user = {"user": self.as_user, "group": self.as_user, "extra_groups": []} if self.as_user else {}
        subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.root,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "HOME": str(self.root)},
            **user,
        )

    def start(self) -> "PostgresServer":
        password_file = self.root / "password"
        password_file.write_text(self.PASSWORD + "\n")
        if self.as_user:
            shutil.chown(self.root, self.as_user, self.as_user)
            shutil.chown(password_file, self.as_user, self.as_user)
        self._run(
            "initdb", "-D", str(self.data), "-U", self.USER, f"--pwfile={password_file}", "--auth=scram-sha-256",
            "-E", "UTF8", "--no-locale", "--no-sync",
        )  # fmt: skip
        options = f"-p {self.port} -h 127.0.0.1 -k {self.root} -c fsync=off -c synchronous_commit=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")
        self.started = True
        return self

    def create_database(self) -> str:
        """A new empty database (a fresh Optuna schema for each test); its name."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return name

    def stop(self) -> None:
        try:
            if self.started:
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            self.started = False
            shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.is_file() else ""


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server for the session; the tests skip, saying why, only when PostgreSQL is not installed
    (scripts/install-system-deps.sh installs it; `make test` runs that) or cannot be started here."""
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed: scripts/install-system-deps.sh installs Debian's postgresql")
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user to run PostgreSQL as (it refuses root)")
    server = PostgresServer(bindir)
    try:
        server.start()
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = getattr(exc, "stderr", None) or server.log_tail() or str(exc)
        server.stop()
        pytest.skip(f"PostgreSQL could not be started: {detail.strip().splitlines()[-1] if detail.strip() else exc}")
    yield server
    server.stop()
