"""Real servers on loopback for the tests: moto (S3), redis-server standalone and a 3-node cluster."""

import socket
import subprocess
import sys
import time

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
