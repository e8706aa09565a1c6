"""Real Redis deployments on free loopback ports: one server, a Cluster, a Sentinel set-up.

Tests start what they need from Debian's ``redis-server`` and ``redis-cli`` and fail
(never skip) when those are missing. Each server can be stopped, restarted on the same
port (with its data when persistence is on), paused and resumed, as an outage would.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from .conftest import free_port, wait_for_port

#: How long a test waits for a Redis deployment to come up or settle.
PATIENCE = 30.0


def binary(name: str) -> str:
    """The path of a Redis program; the test fails when it is not installed."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed (apt-get install redis-server)")
    return path


def cli(port: int, *args: str) -> str:
    """``redis-cli -p port args...``: the reply as text."""
    done = subprocess.run(
        [binary("redis-cli"), "-h", "127.0.0.1", "-p", str(port), *args],
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        check=True,
    )
    return done.stdout.strip()


def wait_until(condition: object, what: str, timeout: float = PATIENCE) -> None:
    """Poll ``condition()`` until it is true; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():  # type: ignore[operator]
                return
        except (OSError, subprocess.SubprocessError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"gave up after {timeout}s waiting for {what}")


class RedisServer:
    """One ``redis-server`` process on a fixed port, restartable with its data."""

    def __init__(
        self,
        workdir: Path,
        *,
        port: int | None = None,
        appendonly: bool = False,
        extra: Sequence[str] = (),
        sentinel_config: Path | None = None,
    ) -> None:
        self.port = port or free_port()
        self.workdir = workdir
        self.appendonly = appendonly
        self.extra = list(extra)
        self.sentinel_config = sentinel_config
        self.process: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        if self.sentinel_config is not None:
            return [binary("redis-server"), str(self.sentinel_config), "--sentinel"]
        return [
            binary("redis-server"),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "yes" if self.appendonly else "no",
            "--appendfsync",
            "always",
            "--dir",
            str(self.workdir),
            *self.extra,
        ]

    def start(self) -> RedisServer:
        assert self.process is None, "already running"
        self.process = subprocess.Popen(
            self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(self.port, PATIENCE)
        if self.sentinel_config is None:
            wait_until(lambda: cli(self.port, "ping") == "PONG", f"redis on {self.port}")
        return self

    def stop(self) -> None:
        """Kill the server at once, as a crash would (whatever was fsynced survives)."""
        if self.process is not None:
            self.resume()
            self.process.kill()
            self.process.wait(PATIENCE)
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def pause(self) -> None:
        """Freeze the process: connections stay open, nothing answers."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGCONT)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class RedisClusterSetup:
    """Three primaries with ``cluster-enabled yes``, joined by ``redis-cli --cluster create``."""

    def __init__(self, workdir: Path, primaries: int = 3) -> None:
        self.servers = []
        for index in range(primaries):
            port, bus = free_port(), free_port()
            config = workdir / f"nodes-{index}.conf"
            extra = [
                "--cluster-enabled",
                "yes",
                "--cluster-port",
                str(bus),
                "--cluster-config-file",
                str(config),
                "--cluster-node-timeout",
                "2000",
            ]
            self.servers.append(RedisServer(workdir / f"node-{index}", port=port, extra=extra))

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.servers[0].port}"

    @property
    def ports(self) -> list[int]:
        return [server.port for server in self.servers]

    def start(self) -> RedisClusterSetup:
        for server in self.servers:
            server.start()
        nodes = [f"127.0.0.1:{port}" for port in self.ports]
        subprocess.run(
            [binary("redis-cli"), "--cluster", "create", *nodes, "--cluster-yes"],
            capture_output=True,
            timeout=PATIENCE,
            check=True,
        )
        for port in self.ports:
            wait_until(
                lambda port=port: "cluster_state:ok" in cli(port, "cluster", "info"),
                f"cluster node {port} to agree the cluster is ok",
            )
        return self

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    def slot_owner(self, key: str) -> int:
        """The port of the primary that serves ``key``."""
        slot = int(cli(self.ports[0], "cluster", "keyslot", key))
        for line in cli(self.ports[0], "cluster", "nodes").splitlines():
            fields = line.split()
            address = fields[1].split("@")[0]
            for span in fields[8:]:
                low, _, high = span.partition("-")
                if low.isdigit() and int(low) <= slot <= int(high or low):
                    return int(address.rsplit(":", 1)[1])
        raise AssertionError(f"no node serves slot {slot}")


class SentinelSetup:
    """A primary, a replica and one ``redis-server --sentinel`` watching them."""

    service = "authonomy"

    def __init__(self, workdir: Path) -> None:
        self.primary = RedisServer(workdir / "a")
        self.replica = RedisServer(
            workdir / "b", extra=["--replicaof", "127.0.0.1", str(self.primary.port)]
        )
        self.sentinel_port = free_port()
        config = workdir / "sentinel.conf"
        config.write_text(
            f"port {self.sentinel_port}\n"
            "bind 127.0.0.1\n"
            f"dir {workdir}\n"
            f"sentinel monitor {self.service} 127.0.0.1 {self.primary.port} 1\n"
            f"sentinel down-after-milliseconds {self.service} 1000\n"
            f"sentinel failover-timeout {self.service} 5000\n"
        )
        self.sentinel = RedisServer(
            workdir / "sentinel", port=self.sentinel_port, sentinel_config=config
        )

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.sentinel_port}/{self.service}"

    def primary_port(self) -> int:
        reply = cli(self.sentinel_port, "sentinel", "get-master-addr-by-name", self.service)
        return int(reply.split()[1])

    def start(self) -> SentinelSetup:
        self.primary.start()
        self.replica.start()
        wait_until(
            lambda: "master_link_status:up" in cli(self.replica.port, "info", "replication"),
            "the replica to sync",
        )
        self.sentinel.start()
        wait_until(
            lambda: "slaves=1" in cli(self.sentinel_port, "info", "sentinel"),
            "the sentinel to find the replica",
        )
        return self

    def failover(self) -> None:
        """Promote the replica (``SENTINEL FAILOVER``) and wait until it serves writes."""
        before = self.primary_port()
        # Until the sentinel has heard from the replica it answers NOGOODSLAVE.
        wait_until(
            lambda: cli(self.sentinel_port, "sentinel", "failover", self.service) == "OK",
            "the sentinel to accept the failover",
        )
        wait_until(lambda: self.primary_port() != before, "the sentinel to name a new primary")
        after = self.primary_port()
        wait_until(
            lambda: "role:master" in cli(after, "info", "replication"),
            "the promoted replica to take writes",
        )

    def stop(self) -> None:
        for server in (self.sentinel, self.replica, self.primary):
            server.stop()


def scratch_dir() -> tempfile.TemporaryDirectory[str]:
    """A temporary directory for a deployment's data and configuration files."""
    return tempfile.TemporaryDirectory(prefix="authonomy-redis-")
