"""A real install works: the built wheel carries every module and data file, and `gpu` run from
a fresh virtual environment, outside the repository, validates and plans the echo example.

An editable install reads `state/` from the repository beside the code, so only a wheel installed
somewhere else can show a file missing from the package. The wheel is built once per session
from a copy of the working tree, so the build never writes `build/` or `*.egg-info` into the
tree and a stale `build/lib` cannot hide a missing file. Dependencies and the build backend
come from the package registry (pip's cache makes that quick). No command here needs a key or
starts a server.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

# What .gitignore keeps out of a clean clone: none of it belongs to the package.
NOT_SOURCE = (".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", ".pytest_cache", ".hypothesis", ".gpu")


@dataclass
class Install:
    """gpuctl installed from its wheel into a fresh venv, and a home and a project outside the tree."""

    venv: Path
    home: Path
    project: Path

    @property
    def env(self) -> dict[str, str]:
        """No key, no provider choice, no real $HOME, nothing that would reach the source tree."""
        drop = ("RUNPOD_", "GPUCTL_", "GPU_", "PYTHON", "VIRTUAL_ENV")
        keep = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
        return keep | {"HOME": str(self.home), "GPUCTL_LOCAL_DIR": str(self.local_dir), "NO_COLOR": "1", "COLUMNS": "120"}

    @property
    def local_dir(self) -> Path:
        return self.home / "local-provider"

    def run(self, program: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.venv / "bin" / program), *args], cwd=self.project, env=self.env,
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)

    def gpu(self, *args: str) -> subprocess.CompletedProcess:
        return self.run("gpu", *args)


def pip(*args: str) -> None:
    """Run the test interpreter's pip; a failure shows pip's own output."""
    done = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True)
    assert done.returncode == 0, f"pip {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A snapshot of the working tree, as a clean clone plus any files not yet committed."""
    copy = tmp_path_factory.mktemp("source") / "gpuctl"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    return copy


@pytest.fixture(scope="module")
def wheel(source: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    pip("wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(source))
    (built,) = out.glob("gpuctl-*.whl")
    return built


@pytest.fixture(scope="module")
def install(source: Path, wheel: Path, tmp_path_factory) -> Iterator[Install]:
    """A venv without system site packages; this interpreter's pip installs into it (`--python`),
    which spares bootstrapping a second pip."""
    base = tmp_path_factory.mktemp("installed")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    pip("--python", str(venv / "bin" / "python"), "install", "--quiet", str(wheel))
    project = base / "echo"
    shutil.copytree(source / "examples" / "echo", project)
    shutil.copy(source / "examples" / "empty-account.json", base)
    (base / "home").mkdir()
    installed = Install(venv, base / "home", project)
    yield installed
    if (installed.local_dir / "server.json").exists():
        installed.gpu("local", "down")


def expected_files(source: Path) -> set[str]:
    """Every file a command may read, at its path in the wheel: gpuctl/ as it is, state/ as gpuctl/_state/."""
    files = {p.relative_to(source).as_posix() for p in (source / "gpuctl").rglob("*") if p.is_file()}
    files |= {"gpuctl/_state/" + p.relative_to(source / "state").as_posix() for p in (source / "state").rglob("*") if p.is_file()}
    return files


def test_wheel_holds_every_package_and_data_file(source, wheel):
    with zipfile.ZipFile(wheel) as archive:
        shipped = {name for name in archive.namelist() if not name.startswith("gpuctl-")}
    expected = expected_files(source)
    assert not expected - shipped, (
        f"missing from the wheel: {sorted(expected - shipped)}; list each new package in "
        "[tool.setuptools] packages and each data file in package-data in pyproject.toml")
    assert not shipped - expected, f"in the wheel but not in the source tree: {sorted(shipped - expected)}"


def test_installed_gpuctl_is_the_wheel_not_the_source_tree(install):
    assert not install.project.is_relative_to(ROOT)
    assert "include-system-site-packages = false" in (install.venv / "pyvenv.cfg").read_text()
    done = install.run("python", "-c", "import gpuctl, gpuctl.catalog as c; print(gpuctl.__file__); print(c.state_dir())")
    assert done.returncode == 0, done.stderr
    module, state = (Path(line) for line in done.stdout.splitlines())
    assert module.is_relative_to(install.venv), f"gpuctl imported from {module}, not the fresh venv"
    assert state.is_relative_to(install.venv) and (state / "catalog" / "gpus.json").is_file()


def test_the_installed_local_provider_reads_its_reference_data_from_the_wheel(install):
    """The local provider finds the catalog and RunPod's OpenAPI document by itself (it shares
    no code with gpuctl.catalog), inside the installed package, and checks a body with them."""
    code = ("from gpuctl.local.store.reference import Catalog, openapi_path, state_dir; "
            "from gpuctl.local.controlplane.requests import RequestRules; "
            "print(openapi_path()); print(len(Catalog(state_dir()).gpus)); "
            "print(RequestRules(openapi_path()).errors('CreateNetworkVolumeRequest', {'name': 'v', 'size': 5, 'dataCenter': 'X'}))")
    done = install.run("python", "-c", code)
    assert done.returncode == 0, done.stderr
    document, gpus, errors = done.stdout.splitlines()
    assert Path(document).is_relative_to(install.venv) and int(gpus) > 0
    assert errors == "['$.size: minimum: got 5, want 10']"


def test_version_and_help(source, install):
    version = install.gpu("--version")
    assert version.returncode == 0, version.stderr
    expected = tomllib.loads((source / "pyproject.toml").read_text())["project"]["version"]
    assert version.stdout.strip() == f"gpuctl, version {expected}"
    helped = install.gpu("--help")
    assert helped.returncode == 0, helped.stderr
    assert "serverless" in helped.stdout
    assert "Deploy and manage RunPod Serverless endpoints" in install.gpu("serverless", "--help").stdout


def test_config_validate_of_the_example(install):
    done = install.gpu("config", "validate")
    assert done.returncode == 0, done.stderr
    assert "gpu.jsonc is valid: 1 endpoint: echo (custom-image on NVIDIA GeForce RTX 4090)" in done.stdout


def test_unknown_gpu_type_is_named_from_the_installed_catalog(install, tmp_path):
    config = (install.project / "gpu.jsonc").read_text().replace("NVIDIA GeForce RTX 4090", "RTX 4090 Ti")
    (tmp_path / "gpu.jsonc").write_text(config)
    done = install.gpu("config", "validate", "--config", str(tmp_path / "gpu.jsonc"))
    assert done.returncode == 1
    assert 'unknown GPU type "RTX 4090 Ti"' in done.stderr and 'did you mean "NVIDIA GeForce RTX 4090"?' in done.stderr
    assert "Traceback" not in done.stderr


def test_config_schema_matches_the_checked_in_schema(source, install):
    done = install.gpu("config", "schema")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json.loads((source / "schema" / "gpu.schema.json").read_text())


def test_plan_against_an_observed_empty_account(install):
    done = install.gpu("serverless", "deploy", "--plan", "--observed", "../empty-account.json")
    assert done.returncode == 0, done.stderr
    assert "Plan: 1 to create, 0 to update, 0 to replace, 0 to delete." in done.stdout
    assert re.search(r'\+ gpu\.pools += \["ADA_24"\]', done.stdout), "the catalog maps the RTX 4090 to its pool"
    worst = re.search(r"Cost estimate .*\n.*\n  worst case \$0\.00/h → \$(\d+\.\d+)/h", done.stdout)
    assert worst and float(worst[1]) > 0, "the catalog prices the pool"
    assert not (install.local_dir / "server.json").exists(), "planning against a snapshot started the local provider"


def test_an_install_without_its_catalog_says_so(install, tmp_path):
    """The installed package with `_state/` deleted, imported ahead of the venv's own copy."""
    (site,) = (install.venv / "lib").glob("python3*/site-packages")
    shutil.copytree(site / "gpuctl", tmp_path / "gpuctl", ignore=shutil.ignore_patterns("_state"))
    done = subprocess.run([str(install.venv / "bin" / "python"), "-m", "gpuctl", "config", "validate"], cwd=install.project,
                          env=install.env | {"PYTHONPATH": str(tmp_path)}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "error: gpuctl's catalog (GPU types, pools, data centers) is missing from this installation" in done.stderr
    assert f"looked for {tmp_path / 'gpuctl' / '_state'}" in done.stderr and "hint: reinstall gpuctl" in done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr


def test_first_deploy_and_invoke_from_the_wheel_reach_a_worker_of_the_installed_interpreter(install, tmp_path):
    """The day-one path of docs/first-deploy.md from the installed wheel: deploy starts the local
    provider on demand and creates the endpoint; invoke starts a worker process with the venv's
    own interpreter (`local.command` starts with python). The wheel does not depend on the
    runpod SDK, so the job fails, saying where to install it, as docs/local-development.md says."""
    project = tmp_path / "first"
    shutil.copytree(install.project, project)
    def gpu(*args):
        return subprocess.run([str(install.venv / "bin" / "gpu"), *args], cwd=project, env=install.env, capture_output=True,
                              text=True, timeout=120, stdin=subprocess.DEVNULL)
    try:
        deployed = gpu("serverless", "deploy", "-y", "--provider", "local")
        assert deployed.returncode == 0, deployed.stderr
        assert "Apply complete: 1 created" in deployed.stdout and "/runsync" in deployed.stdout
        invoked = gpu("serverless", "invoke", "echo", "--provider", "local", "--input", '{"prompt": "hi"}', "--timeout", "90")
        assert invoked.returncode == 1 and "Traceback (most recent call last)" not in invoked.stderr.split("last output:")[0], invoked.stderr
        assert "No module named 'runpod'" in invoked.stderr, invoked.stderr
        assert f"{install.venv / 'bin'}" in invoked.stderr and "-m pip install runpod" in invoked.stderr and "pipx inject gpuctl runpod" in invoked.stderr, invoked.stderr
    finally:
        gpu("local", "down")
