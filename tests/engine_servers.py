"""Real database servers for tests and benchmarks: PostgreSQL 15, MariaDB and a two-shard ClickHouse cluster,
each started on free loopback ports in a scratch folder and stopped by its PID (see ../shared/ENGINES.md).

`start_*` return a `Server` (or two for ClickHouse); `stop()` ends the process and waits for it.
A server whose binaries are missing raises `Unavailable`, so a test can skip with the reason.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
CLICKHOUSE_SERVER = "/usr/sbin/clickhouse-server"
MARIADB_SERVER = "/usr/sbin/mariadbd"
CLUSTER = "sluice_cluster"


class Unavailable(Exception):
    """The engine is not installed here."""


@dataclass
class Server:
    name: str
    port: int
    pid: int
    extra: dict = field(default_factory=dict)
    _stop: Callable[[], None] | None = None

    def stop(self) -> None:
        """Stop by PID and wait until the process is gone (idempotent)."""
        stop, self._stop = self._stop, None
        if stop is not None:
            stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(ready: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start in {seconds:g} s")


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _kill_and_wait(pid: int, sig: int = signal.SIGTERM, seconds: float = 20.0) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        try:  # our own child: reap it so it does not linger as a zombie
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            pass
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


def start_postgres(base: Path) -> Server:
    """An initdb'd cluster owned by `postgres` (initdb refuses root), trust auth on 127.0.0.1."""
    if not (POSTGRES_BIN / "postgres").exists():
        raise Unavailable("PostgreSQL 15 is not installed")
    data, sockets = base / "pgdata", base / "pgsock"
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    for folder in (base, data, sockets):
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
    subprocess.run(
        [*as_postgres, str(POSTGRES_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
        + ["-E", "UTF8", "--no-locale"],
        check=True,
        capture_output=True,
    )
    port = free_port()
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off -c TimeZone=UTC"
    command = [*as_postgres, str(POSTGRES_BIN / "pg_ctl"), "-D", str(data), "-l", str(base / "pg.log")]
    server = Server("postgres", port, 0, {"data": data})

    def launch() -> None:
        subprocess.run([*command, "-o", options, "-w", "start"], check=True, capture_output=True)
        server.pid = int((data / "postmaster.pid").read_text().split()[0])
        server._stop = lambda: _kill_and_wait(server.pid, signal.SIGINT)

    launch()
    server.extra["restart"] = launch  # the same data and port again, after stop()
    return server


def start_mariadb(base: Path) -> Server:
    """A private MariaDB instance run as root over its own data folder; root connects over the socket."""
    if not Path(MARIADB_SERVER).exists():
        raise Unavailable("MariaDB is not installed")
    data = base / "data"
    data.mkdir(parents=True, exist_ok=True)
    user = "root" if os.geteuid() == 0 else os.environ.get("USER", "root")
    subprocess.run(
        ["mariadb-install-db", "--no-defaults", f"--datadir={data}", f"--user={user}"]
        + ["--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"],
        check=True,
        capture_output=True,
    )
    port, sock = free_port(), base / "mysql.sock"
    process = subprocess.Popen(
        [MARIADB_SERVER, "--no-defaults", f"--datadir={data}", f"--socket={sock}", f"--port={port}"]
        + ["--bind-address=127.0.0.1", f"--user={user}", "--skip-name-resolve", f"--pid-file={base}/m.pid"]
        + [f"--log-error={base}/error.log", "--default-time-zone=+00:00", "--innodb-buffer-pool-size=64M"]
        + ["--innodb-flush-log-at-trx-commit=0", "--skip-log-bin"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait(lambda: _port_open(port) and sock.exists(), "MariaDB")
    return Server("mariadb", port, process.pid, {"socket": sock}, lambda: _kill_and_wait(process.pid))


CLICKHOUSE_CONFIG = """<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{base}/server.log</log><errorlog>{base}/error.log</errorlog></logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>{tcp}</tcp_port>
  <http_port>{http}</http_port>
  <interserver_http_port>{interserver}</interserver_http_port>
  <path>{base}/data/</path>
  <tmp_path>{base}/tmp/</tmp_path>
  <format_schema_path>{base}/format_schemas/</format_schema_path>
  <users_config>{base}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>5368709</mark_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  <remote_servers>
    <{cluster}>
      <shard><replica><host>127.0.0.1</host><port>{tcp0}</port></replica></shard>
      <shard><replica><host>127.0.0.1</host><port>{tcp1}</port></replica></shard>
    </{cluster}>
  </remote_servers>
</yandex>
"""

CLICKHOUSE_USERS = """<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
  </interval></default></quotas>
</yandex>
"""


def start_clickhouse_cluster(base: Path, shards: int = 2) -> list[Server]:
    """Two server processes that know each other as the shards of `sluice_cluster`."""
    if not Path(CLICKHOUSE_SERVER).exists():
        raise Unavailable("ClickHouse is not installed")
    tcp_ports = [free_port() for _ in range(shards)]
    servers = []
    for index in range(shards):
        folder = base / f"shard{index}"
        for sub in ("data", "tmp", "format_schemas"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        http = free_port()
        config = CLICKHOUSE_CONFIG.format(
            base=folder,
            tcp=tcp_ports[index],
            http=http,
            interserver=free_port(),
            cluster=CLUSTER,
            tcp0=tcp_ports[0],
            tcp1=tcp_ports[-1],
        )
        (folder / "config.xml").write_text(config)
        (folder / "users.xml").write_text(CLICKHOUSE_USERS)
        process = subprocess.Popen(
            [CLICKHOUSE_SERVER, f"--config-file={folder / 'config.xml'}"],
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        servers.append(
            Server(
                f"clickhouse{index}",
                tcp_ports[index],
                process.pid,
                {"http": http},
                functools.partial(_kill_and_wait, process.pid),
            )
        )
    for server in servers:
        _wait(functools.partial(_clickhouse_ready, server), "ClickHouse")
    return servers


def _clickhouse_ready(server: Server) -> bool:
    return _http_ok(server.extra["http"]) and _port_open(server.port)


def _http_ok(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=0.5) as response:
            return response.read().strip() == b"Ok."
    except OSError:
        return False
