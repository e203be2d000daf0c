"""The processes a reliability run drives over loopback: the API (`pricing serve`, waitress), redis-server,
moto's S3 server, and a TCP proxy in front of Redis that can be made slow on demand.

Everything listens on 127.0.0.1 and on a free port; every process is stopped by its own handle."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process {process.args[0]} exited with {process.returncode} before listening")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout:.0f} s")


def stop_process(process: subprocess.Popen | None) -> None:
    """Terminate, and kill if it does not go within 15 s."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


class ApiServer:
    """`pricing serve` in a subprocess; its log goes to a file (a pipe nobody reads would block it)."""

    def __init__(self, store: str, workdir: Path, env: dict[str, str], name: str = "api") -> None:
        self.store = store
        self.port = free_port()
        self.log_path = Path(workdir) / f"{name}.log"
        # the child's settings are only what is asked for here: none from the caller's shell, and ENV=test
        # keeps a local .env out too; what the run expects (bounds, timeouts) are then the defaults
        settings = ("REDIS_", "AWS_", "ARTIFACT_", "CORS_", "CACHE_", "MAX_", "BUNDLE_")
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(settings)}
        self.env = {**inherited, "ENV": "test", **env}
        self.process: subprocess.Popen | None = None
        self.start_seconds: float | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 300) -> ApiServer:
        command = [sys.executable, "-m", "pricing", "serve", "--store", self.store, "--port", str(self.port)]
        started = time.perf_counter()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [*command, "--cache-clear"], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        wait_for_port(self.port, timeout, self.process)  # waitress listens once the bundle is loaded
        self.start_seconds = round(time.perf_counter() - started, 3)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.is_file() else ""

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None


class RedisProcess:
    """A real redis-server without persistence; `kill` is SIGKILL (no goodbye), `start` again on the same port."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisProcess:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        args += ["--dir", str(self.workdir)]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, 20, self.process)
        return self

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def client(self):
        from redis import Redis

        return Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None


class MotoS3:
    """moto's S3 over real HTTP on loopback, on a port chosen by the caller (the one a server already uses)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoS3:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, 60, self.process)
        return self

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None


class DelayProxy:
    """A TCP proxy on loopback that holds every chunk `delay` seconds before passing it on: a slow Redis, or a
    slow network to it, at the turn of a setting. With the target down, it accepts and closes at once."""

    def __init__(self, target_port: int, port: int = 0) -> None:
        self.target_port = target_port
        self.delay = 0.0
        self._listener = socket.create_server(("127.0.0.1", port))
        self.port = self._listener.getsockname()[1]
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> DelayProxy:
        threading.Thread(target=self._accept, name="proxy-accept", daemon=True).start()
        return self

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()  # what a client of a dead Redis behind a load balancer sees
                continue
            with self._lock:
                self._sockets |= {client, upstream}
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                if self.delay:
                    time.sleep(self.delay)  # one thread per direction: order is kept, every byte arrives late
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                self._close(sock)

    def _close(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def stop(self) -> None:
        self._closed = True
        self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            self._close(sock)


class ProxyProcess:
    """DelayProxy in a process of its own, so that its latency does not depend on the load clients' share
    of this process's GIL: SIGUSR1 makes it slow (`delay` seconds a chunk), SIGUSR2 fast again."""

    def __init__(self, target_port: int, delay: float) -> None:
        self.target_port = target_port
        self.delay = delay
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> ProxyProcess:
        command = [sys.executable, "-m", "pricing.tools.reliability.processes", str(self.port), str(self.target_port)]
        self.process = subprocess.Popen([*command, str(self.delay)])
        wait_for_port(self.port, 30, self.process)
        return self

    def slow(self, on: bool) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGUSR1 if on else signal.SIGUSR2)

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None


def _serve_proxy(port: int, target_port: int, delay: float) -> None:
    proxy = DelayProxy(target_port, port).start()
    signal.signal(signal.SIGUSR1, lambda *_: setattr(proxy, "delay", delay))
    signal.signal(signal.SIGUSR2, lambda *_: setattr(proxy, "delay", 0.0))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        signal.pause()


if __name__ == "__main__":
    _serve_proxy(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]))
