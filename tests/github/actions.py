"""A small GitHub Actions runner for the tests: it runs a workflow file from examples/github/
the way GitHub does, on this machine. Jobs are filtered by their `if:`, matrices expanded,
`run:` steps run with `bash --noprofile --norc -eo pipefail` and GitHub's variables and files
(GITHUB_EVENT_PATH, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, ...), and `gpuctl/gpuctl@...` runs this
repository's action.yml as a composite action. The other actions the workflows use are played
by the fake GitHub: checkout copies the tree the event is for; upload-artifact and
download-artifact store and fetch files in the fake (download across runs needs the token, as
on GitHub); setup-python and the action's own install step are skipped, since the tests run the
gpuctl installed in this environment."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tests.github.expressions import condition, interpolate, text
from tests.github.fake_github import FakeGitHub

ROOT = Path(__file__).resolve().parents[2]
ACTION = re.compile(r"^gpuctl/gpuctl@")
SKIPPED_STEPS = {"install"}  # action.yml's pip install: the tests use the gpuctl installed here


@dataclass
class Event:
    name: str
    payload: dict
    sha: str
    tree: Path  # what actions/checkout checks out: for a pull request, GitHub's merge of it into the base
    ref: str = "refs/heads/main"
    head_tree: Path | None = None  # a pull request's head commit, which `ref: ${{ github.event.pull_request.head.sha }}` checks out
    head_repository_id: int = 1  # recorded on the artifacts this run uploads


@dataclass
class Step:
    name: str
    code: int | None  # None: skipped
    out: str = ""
    err: str = ""
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class Job:
    name: str
    status: str  # success | failure | skipped
    steps: list[Step] = field(default_factory=list)
    summary: str = ""

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)


@dataclass
class Run:
    run_id: int
    directory: Path
    jobs: list[Job]

    def job(self, name: str) -> Job:
        return next(j for j in self.jobs if j.name == name)

    def texts(self) -> str:
        """Every log, output and summary of the run, and every file it left."""
        logs = [s.out + s.err + json.dumps(s.outputs) for j in self.jobs for s in j.steps] + [j.summary for j in self.jobs]
        files = [p.read_bytes().decode(errors="replace") for p in self.directory.rglob("*") if p.is_file()]
        return "\n".join(logs + files)


@dataclass
class Runner:
    fake: FakeGitHub
    workdir: Path
    env: dict[str, str]
    secrets: dict[str, str]
    action_inputs: dict[str, str] = field(default_factory=dict)  # forced inputs of the gpuctl action (provider: local)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(5001))

    def run(self, workflow: Path, event: Event, rerun: Run | None = None) -> Run:
        """Run `workflow` for `event`; `rerun`: re-run that run's jobs, as GitHub's "Re-run
        jobs" does: the same event, the same run id (GITHUB_RUN_ID), a new attempt."""
        doc = yaml.safe_load(workflow.read_text())
        run_id = rerun.run_id if rerun is not None else next(self._ids)
        attempt = 1 + sum(1 for _ in self.workdir.glob(f"run-{run_id}*")) if rerun is not None else 1
        directory = self.workdir / (f"run-{run_id}" if attempt == 1 else f"run-{run_id}-attempt-{attempt}")
        jobs = []
        if not triggered(doc.get(True, doc.get("on")), event):  # PyYAML reads the key `on` as True
            return Run(run_id, directory, jobs)  # GitHub starts no run at all
        for name, job in doc["jobs"].items():
            for i, matrix in enumerate(_matrix(job.get("strategy", {}).get("matrix"))):
                jobs.append(_JobRun(self, run_id, directory / f"{name}-{i}", event, doc.get("env") or {}, matrix).run(name, job))
        return Run(run_id, directory, jobs)


def triggered(on, event: Event) -> bool:
    """Whether the workflow's `on:` starts a run for `event`, as GitHub decides: the event is
    listed, and for push and pull_request the branch (the pushed ref; the pull request's base)
    matches a `branches` pattern, if any are given."""
    import fnmatch

    events = {on: None} if isinstance(on, str) else {name: None for name in on} if isinstance(on, list) else dict(on or {})
    if event.name not in events:
        return False
    spec = events[event.name]
    branches = spec.get("branches") if isinstance(spec, dict) else None  # schedule's is a list of crons
    if branches is None or event.name not in ("push", "pull_request", "pull_request_target"):
        return True
    ref = event.payload["pull_request"]["base"]["ref"] if event.name != "push" else event.ref.removeprefix("refs/heads/")
    return any(fnmatch.fnmatchcase(ref, pattern) for pattern in branches)


def _matrix(spec: dict | None) -> list[dict]:
    if not spec:
        return [{}]
    axes = {k: v for k, v in spec.items() if k not in ("include", "exclude")}
    combos = [dict(zip(axes, values)) for values in itertools.product(*axes.values())] if axes else []
    return combos + list(spec.get("include", []))


class _JobRun:
    def __init__(self, runner: Runner, run_id: int, directory: Path, event: Event, env: dict, matrix: dict):
        self.runner, self.run_id, self.event, self.matrix = runner, run_id, event, matrix
        self.workspace, self.temp = directory / "workspace", directory / "temp"
        self.workspace.mkdir(parents=True)
        self.temp.mkdir(parents=True)
        (self.temp / "event.json").write_text(json.dumps(event.payload))
        self.workflow_env = env
        self.counter = itertools.count()
        self.status = "success"

    def contexts(self, env: dict, steps: dict, inputs: dict | None = None) -> dict:
        github = {"event": self.event.payload, "event_name": self.event.name, "repository": self.runner.fake.repository,
                  "repository_owner": self.runner.fake.repository.split("/")[0], "sha": self.event.sha, "ref": self.event.ref,
                  "token": self.runner.fake.token, "run_id": self.run_id, "workspace": str(self.workspace),
                  "server_url": "https://github.com", "api_url": self.runner.fake.url, "action_path": str(ROOT)}
        workflow_inputs = self.event.payload.get("inputs") or {}
        return {"github": github, "env": env, "secrets": self.runner.secrets, "runner": {"temp": str(self.temp), "os": "Linux"},
                "inputs": workflow_inputs if inputs is None else inputs, "matrix": self.matrix, "vars": {}, "steps": steps}

    def variables(self) -> dict[str, str]:
        return {"CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_API_URL": self.runner.fake.url, "GITHUB_GRAPHQL_URL": f"{self.runner.fake.url}/graphql", "GITHUB_SERVER_URL": "https://github.com",
                "GITHUB_REPOSITORY": self.runner.fake.repository, "GITHUB_EVENT_NAME": self.event.name,
                "GITHUB_EVENT_PATH": str(self.temp / "event.json"), "GITHUB_SHA": self.event.sha,
                "GITHUB_ACTOR": str((self.event.payload.get("sender") or {}).get("login") or "github-actions[bot]"), "GITHUB_REF": self.event.ref,
                "GITHUB_REF_NAME": self.event.ref.rsplit("/", 1)[-1], "GITHUB_RUN_ID": str(self.run_id),
                "GITHUB_WORKSPACE": str(self.workspace), "RUNNER_TEMP": str(self.temp), "GITHUB_ACTION_PATH": str(ROOT)}

    def run(self, name: str, job: dict) -> Job:
        env = {k: text(interpolate(v, self.contexts({}, {}))) for k, v in (self.workflow_env | (job.get("env") or {})).items()}
        result = Job(name, "skipped")
        if not condition(job.get("if"), self.contexts(env, {}), "success"):
            return result
        self.steps(job["steps"], env, {}, result, inputs=None)
        result.status = self.status
        result.summary = "".join(p.read_text() for p in sorted(self.temp.glob("summary-*"), key=lambda p: int(p.name.split("-")[1])))
        return result

    def steps(self, steps: list[dict], env: dict, state: dict, result: Job, inputs: dict | None) -> None:
        for step in steps:
            ctx = self.contexts(env, state, inputs)
            label = step.get("id") or step.get("name") or step.get("uses") or "run"
            if step.get("id") in SKIPPED_STEPS or not condition(step.get("if"), ctx, self.status):
                result.steps.append(Step(label, None))
                continue
            step_env = env | {k: text(interpolate(v, ctx)) for k, v in (step.get("env") or {}).items()}
            if "uses" in step:
                record = self.uses(label, step["uses"], {k: interpolate(v, ctx) for k, v in (step.get("with") or {}).items()}, step_env, result)
            else:
                record = self.script(label, text(interpolate(step["run"], ctx)), step_env, text(interpolate(step.get("working-directory", "."), ctx)))
            result.steps.append(record)
            if step.get("id"):
                state[step["id"]] = {"outputs": record.outputs, "outcome": "success" if record.code == 0 else "failure"}
            if record.code != 0 and not step.get("continue-on-error"):
                self.status = "failure"

    def script(self, label: str, script: str, env: dict, directory: str) -> Step:
        n = next(self.counter)
        output, summary, path = self.temp / f"output-{n}", self.temp / f"summary-{n}", self.temp / f"step-{n}.sh"
        output.touch()
        summary.touch()
        path.write_text(script)
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)], cwd=self.workspace / directory,
                              env=self.runner.env | self.variables() | env | {"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)},
                              capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
        return Step(label, done.returncode, done.stdout, done.stderr, read_outputs(output.read_text()))

    def uses(self, label: str, ref: str, given: dict, env: dict, result: Job) -> Step:
        name = ref.split("@")[0]
        if ACTION.match(ref):
            return self.composite(label, given, env, result)
        if name == "actions/checkout":
            shutil.copytree(self.checked_out(text(given.get("ref")) if given.get("ref") else None), self.workspace / text(given.get("path") or "."),
                            dirs_exist_ok=True, symlinks=True)  # git checks a link out as a link; `path:` is under the workspace
        elif name == "actions/upload-artifact":
            return self.upload(label, given)
        elif name == "actions/download-artifact":
            return self.download(label, given)
        elif name != "actions/setup-python":
            raise AssertionError(f"the test runner does not play {ref}")
        return Step(label, 0)

    def checked_out(self, ref: str | None) -> Path:
        """The tree actions/checkout gives for `ref` (None: the event's own commit, which for a
        pull request is the merge, not the head)."""
        head = self.event.payload.get("pull_request", {}).get("head", {}).get("sha")
        if ref is None or ref in (self.event.sha, self.event.ref):
            return self.event.tree
        if ref == head:
            return self.event.head_tree or self.event.tree  # a test without its own head tree: head and merge hold the same files
        raise AssertionError(f"the test runner has no tree for checkout ref {ref!r}")

    def upload(self, label: str, given: dict) -> Step:
        source = self.workspace / text(given["path"])
        hidden = text(given.get("include-hidden-files")) == "true"
        files = {p.relative_to(source).as_posix(): p.read_bytes() for p in source.rglob("*")
                 if p.is_file() and (hidden or not any(part.startswith(".") for part in p.relative_to(source).parts))} if source.is_dir() else {}
        if not files:
            return Step(label, 0 if text(given.get("if-no-files-found")) == "ignore" else 1, err="no files to upload")
        run = {"id": self.run_id, "head_sha": self.event.payload.get("pull_request", {}).get("head", {}).get("sha") or self.event.sha,
               "head_repository_id": self.event.head_repository_id}
        self.runner.fake.add_artifact(text(given["name"]), run, files)
        return Step(label, 0)

    def download(self, label: str, given: dict) -> Step:
        run_id = int(text(given.get("run-id")) or self.run_id)
        if run_id != self.run_id and text(given.get("github-token")) != self.runner.fake.token:
            return Step(label, 1, err="download-artifact needs github-token to read another run's artifacts")
        artifact = self.runner.fake.artifact(run_id, text(given["name"]))
        if artifact is None:
            return Step(label, 1, err=f"no artifact {text(given['name'])} in run {run_id}")
        target = self.workspace / text(given.get("path") or ".")
        for relative, data in artifact["files"].items():
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            (target / relative).write_bytes(data)
        return Step(label, 0)

    def composite(self, label: str, given: dict, env: dict, result: Job) -> Step:
        meta = yaml.safe_load((ROOT / "action.yml").read_text())
        caller = self.contexts(env, {})
        inputs = {name: text(interpolate(spec.get("default", ""), caller)) for name, spec in meta["inputs"].items()}
        unknown = set(given) - set(inputs)
        assert not unknown, f"inputs not declared in action.yml: {unknown}"
        inputs |= {k: text(v) for k, v in given.items()} | self.runner.action_inputs
        state: dict = {}
        inner = Job(label, "success")
        self.steps(meta["runs"]["steps"], env, state, inner, inputs=inputs)
        result.steps.extend(inner.steps)
        ctx = self.contexts(env, state, inputs)
        outputs = {name: text(interpolate(spec["value"], ctx)) for name, spec in meta["outputs"].items()}
        return Step(label, 0 if self.status == "success" else 1, outputs=outputs)


def read_outputs(content: str) -> dict[str, str]:
    """GITHUB_OUTPUT as GitHub reads it: `name=value` lines and `name<<DELIMITER` blocks."""
    outputs, lines = {}, content.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)
            outputs[name] = "\n".join(lines[i + 1:end])
            i = end + 1
            continue
        if "=" in line:
            name, value = line.split("=", 1)
            outputs[name] = value
        i += 1
    return outputs
