"""`gpu local up|down|status|reset|env`, run in-process with an injected environment."""

from __future__ import annotations

import contextlib

import json
import os
import stat
import subprocess
import sys
from pathlib import Path


from gpuctl.local.client.lifecycle import default_data_dir, ensure_running, read_server_info
from gpuctl.local.datadir import reaper
from tests.conftest import run_cli


def test_up_status_env_reset_down(env, tmp_path: Path) -> None:
    environ, data = env
    started = run_cli(["local", "up", "--port", "0"], tmp_path, environ)
    assert started.code == 0, started.err
    info = json.loads((data / "server.json").read_text())
    assert set(info) == {"pid", "port", "url", "api_base_url", "endpoint_base_url", "started_at"}
    assert info["url"] == f"http://127.0.0.1:{info['port']}" and info["endpoint_base_url"] == info["url"] + "/ai/v2"
    assert stat.S_IMODE((data / "token").stat().st_mode) == 0o600
    token = (data / "token").read_text().strip()
    assert token not in started.out + started.err

    again = run_cli(["local", "up", "--port", "0"], tmp_path, environ)
    assert again.code == 0 and "already running" in again.out
    assert json.loads((data / "server.json").read_text())["pid"] == info["pid"]

    status = json.loads(run_cli(["local", "status", "--json"], tmp_path, environ).out)
    assert status == {"running": True, "url": info["url"], "pid": info["pid"], "endpoints": 0, "workers": 0, "data_dir": str(data)}

    exports = run_cli(["local", "env"], tmp_path, environ).out.splitlines()
    assert exports == [f"export RUNPOD_API_KEY={token}", f"export RUNPOD_API_BASE_URL={info['api_base_url']}",
                       f"export RUNPOD_ENDPOINT_BASE_URL={info['endpoint_base_url']}", f"export GPUCTL_LOCAL_DIR={data.resolve()}"]

    assert run_cli(["local", "reset", "-y"], tmp_path, environ).code == 0
    assert run_cli(["local", "down"], tmp_path, environ).out == "local provider stopped\n"
    assert not reaper.alive(info["pid"]) and not (data / "server.json").exists()
    stopped = json.loads(run_cli(["local", "status", "--json"], tmp_path, environ).out)
    assert stopped["running"] is False and stopped["url"] is None
    assert run_cli(["local", "down"], tmp_path, environ).out == "local provider was not running\n"


def test_runpod_sdk_works_from_the_exported_env(env, tmp_path: Path) -> None:
    environ, data = env
    run_cli(["local", "up", "--port", "0"], tmp_path, environ)
    exports = dict(line.removeprefix("export ").split("=", 1) for line in run_cli(["local", "env"], tmp_path, environ).out.splitlines())
    # The SDK takes its key from ~/.runpod or from code; RunPod's docs read it from the env:
    script = ("import os, runpod; runpod.api_key = os.getenv('RUNPOD_API_KEY'); print(len(runpod.get_endpoints()));"
              " print(runpod.Endpoint('nosuch').rp_client.endpoint_url_base)")
    child = subprocess.run([sys.executable, "-c", script], env={**os.environ, **exports, "HOME": str(tmp_path)},
                           capture_output=True, text=True, timeout=60)
    assert child.returncode == 0, child.stderr
    assert child.stdout.split() == ["0", exports["RUNPOD_ENDPOINT_BASE_URL"]]


def test_stale_server_json_is_detected_and_replaced(env, tmp_path: Path) -> None:
    environ, data = env
    data.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (data / "server.json").write_text(json.dumps({"pid": dead.pid, "port": 1, "url": "http://127.0.0.1:1"}))
    assert read_server_info(data) is None
    assert json.loads(run_cli(["local", "status", "--json"], tmp_path, environ).out)["running"] is False
    info = ensure_running(data, 0)
    assert info["pid"] != dead.pid and read_server_info(data) == info
    assert ensure_running(data, 0) == info  # harmless the second time


def test_env_and_errors_without_a_server(env, tmp_path: Path) -> None:
    environ, data = env
    result = run_cli(["local", "env"], tmp_path, environ)
    assert result.code == 1 and "not running" in result.err and "gpu local up" in result.err and "Traceback" not in result.err
    busy = run_cli(["local", "up", "--port", "0"], tmp_path, environ)
    port = json.loads((data / "server.json").read_text())["port"]
    other = tmp_path / "other"
    clash = run_cli(["local", "up", "--port", str(port), "--data-dir", str(other)], tmp_path, environ)
    assert busy.code == 0 and clash.code == 1 and f"port {port}" in clash.err and "Traceback" not in clash.err


def test_default_data_dir_order() -> None:
    assert default_data_dir({"GPUCTL_LOCAL_DIR": "/a", "XDG_DATA_HOME": "/b", "HOME": "/c"}) == Path("/a")
    assert default_data_dir({"XDG_DATA_HOME": "/b", "HOME": "/c"}) == Path("/b/gpuctl/local")
    assert default_data_dir({"HOME": "/c"}) == Path("/c/.local/share/gpuctl/local")


def test_concurrent_starts_share_one_server(env, tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    _, data = env
    with ThreadPoolExecutor(3) as pool:
        infos = list(pool.map(lambda _: ensure_running(data, 0), range(3)))
    assert len({i["pid"] for i in infos}) == 1
    assert read_server_info(data) == infos[0]


def test_the_token_never_reaches_logs_or_output(env, tmp_path: Path) -> None:
    import httpx

    environ, data = env
    up = run_cli(["local", "up", "--port", "0"], tmp_path, environ)
    info, token = json.loads((data / "server.json").read_text()), (data / "token").read_text().strip()
    httpx.post(info["url"] + "/graphql", params={"api_key": token}, json={"query": "query { myself { id } }"})
    httpx.get(info["url"] + "/v2/serverless", headers={"Authorization": f"Bearer {token}x"})
    httpx.get(info["url"] + "/_admin/requests", headers={"Authorization": f"Bearer {token}"})
    status = run_cli(["local", "status", "--json"], tmp_path, environ)
    run_cli(["local", "down"], tmp_path, environ)
    assert token not in up.out + up.err + status.out + status.err
    for path in data.rglob("*"):
        if path.is_file() and path.name != "token":
            assert token.encode() not in path.read_bytes(), path


@contextlib.contextmanager
def _taken_port():
    """A loopback port another program listens on, for as long as the block runs."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def test_on_demand_start_moves_off_a_taken_port(env, tmp_path: Path) -> None:
    _, data = env
    with _taken_port() as port:
        info = ensure_running(data, port)
    assert info["port"] != port and read_server_info(data) == info


def test_a_restart_off_a_taken_port_comes_back_on_the_port_it_had(env, tmp_path: Path) -> None:
    """deploy printed http://127.0.0.1:36695/... (8787 was taken); after `gpu local down`, the
    next command started the server on another random port, and every URL and curl printed
    before, and the exported RUNPOD_* base URLs, pointed at nothing."""
    from gpuctl.local.client.lifecycle import stop

    _, data = env
    with _taken_port() as port:
        first = ensure_running(data, port)
        stop(data)
        again = ensure_running(data, port)
    assert first["port"] != port and again["port"] == first["port"] and again["url"] == first["url"]


def test_up_without_a_port_moves_off_a_taken_default_and_comes_back(env, tmp_path: Path, monkeypatch) -> None:
    """`gpu local up` on a machine where 8787 was taken said "port 8787 on 127.0.0.1 is in use",
    though the user gave no port: after `gpu local down`, the documented way to start the server
    again refused, and the URLs an on-demand start had printed (on the port it moved to) stayed
    dead. Without --port, up starts as an on-demand start does; an explicit --port is kept to."""
    from gpuctl.local.client import lifecycle

    environ, data = env
    with _taken_port() as port:
        monkeypatch.setattr(lifecycle, "DEFAULT_PORT", port)
        first = run_cli(["local", "up"], tmp_path, environ)
        assert first.code == 0, first.err
        moved = read_server_info(data)["port"]
        assert moved != port and f":{moved}" in first.out
        assert run_cli(["local", "down"], tmp_path, environ).code == 0
        again = run_cli(["local", "up"], tmp_path, environ)
        assert again.code == 0 and read_server_info(data)["port"] == moved, again.err
        assert run_cli(["local", "down"], tmp_path, environ).code == 0
        explicit = run_cli(["local", "up", "--port", str(port)], tmp_path, environ)
        assert explicit.code == 1 and f"port {port} on 127.0.0.1 is in use" in explicit.err


def test_up_on_another_port_than_the_running_server_says_so_and_how_to_move_it(env, tmp_path: Path) -> None:
    """`gpu local up --port N` while the provider runs on another port used to print "already
    running" and exit 0: a script then talked to port N, where nothing answers."""
    import socket

    environ, data = env
    assert run_cli(["local", "up", "--port", "0"], tmp_path, environ).code == 0
    info = json.loads((data / "server.json").read_text())
    with socket.socket() as probe:  # a port that is surely not the server's
        probe.bind(("127.0.0.1", 0))
        other = probe.getsockname()[1]
    moved = run_cli(["local", "up", "--port", str(other)], tmp_path, environ)
    assert moved.code == 1 and "Traceback" not in moved.err, moved.err
    assert f"already running at {info['url']}" in moved.err and f"not on port {other}" in moved.err, moved.err
    assert f"gpu local up --port {other}" in moved.err and "gpu local down" in moved.err, moved.err
    assert json.loads((data / "server.json").read_text())["pid"] == info["pid"]
    same = run_cli(["local", "up", "--port", str(info["port"])], tmp_path, environ)
    assert same.code == 0 and "already running" in same.out, same.err


def test_up_in_another_data_dir_names_that_dir_in_the_env_hint(env, tmp_path: Path) -> None:
    """The hint after `up --data-dir DIR` used to be plain `gpu local env`, which prints the
    default data dir's server: the exports pointed at another provider, or at none."""
    environ, _ = env
    other = tmp_path / "other dir"
    try:
        started = run_cli(["local", "up", "--port", "0", "--data-dir", str(other)], tmp_path, environ)
        assert started.code == 0, started.err
        assert f"eval \"$(gpu local env --data-dir '{other}')\"" in started.err, started.err
        exports = run_cli(["local", "env", "--data-dir", str(other)], tmp_path, environ)
        assert exports.code == 0 and f"GPUCTL_LOCAL_DIR='{other.resolve()}'" in exports.out or f"GPUCTL_LOCAL_DIR={other.resolve()}" in exports.out, exports.out
    finally:
        run_cli(["local", "down", "--data-dir", str(other)], tmp_path, environ)
