"""gpu.jsonc -> `Desired`: read, apply per-run overrides, validate, check, resolve env."""

from __future__ import annotations

import copy
import functools
import os
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from gpuctl.catalog import Catalog, load_catalog
from gpuctl.config import checks, references
from gpuctl.config.ancestry import Ancestry
from gpuctl.config.policy import Policy, read_policy
from gpuctl.config.shape import ServerlessBlock
from gpuctl.config.source import CONFIG, DEPLOY_CONFIG, Source, flags_only, read_source, text_source
from gpuctl.config.sourcemap import dotted
from gpuctl.config.validate import stray_serverless_keys, validate_block, validate_document
from gpuctl.errors import ConfigError, Diagnostic, MissingVariables
from gpuctl.model import (
    Desired, EndpointSpec, Notice, Override, PrewarmSpec, RegistryAuth, Sensitive, TemplateChoice, Unresolved, VolumeSpec, acyclic,
)
from gpuctl.words import agreeing

_SCALER = {"queue_delay": "QUEUE_DELAY", "request_count": "REQUEST_COUNT"}


@dataclass(frozen=True)
class Block:
    prefix: tuple
    model: ServerlessBlock
    template: TemplateChoice


@dataclass(frozen=True)
class LoadedConfig:
    source: Source
    project_id: str
    provider: str | None
    blocks: tuple[Block, ...]
    notices: tuple[Notice, ...]
    overrides: tuple[Override, ...]
    policy: Policy | None = None  # the `policy` block (docs/policy.md), None when there is none

    @property
    def project_dir(self) -> Path:
        return self.source.path.resolve().parent


# The keys a per-run flag of deploy sets, each under its own name (--gpu-type sets gpu_type).
_FLAG_KEYS = ("template", "gpu_type", "min_workers", "max_workers", "idle_timeout")


class _Locator:
    """Turns a block-relative key path into a Diagnostic at the right place: the file
    position, or the command-line flag when a per-run override set that key."""

    def __init__(self, source: Source, prefix: tuple, overrides: Sequence[Override]):
        self.source, self.prefix = source, prefix
        self.flags = {tuple(o.path.split(".")): o.flag for o in overrides}

    def __call__(self, path: tuple, message: str, hint: str) -> Diagnostic:
        keys = tuple(p for p in path if isinstance(p, str))
        flag = self.flags.get(keys)
        if flag:
            return Diagnostic(message, dotted(self.prefix + path), flag, hint=hint)
        if keys and keys[-1] in _FLAG_KEYS and not self.source.path.exists():  # from flags alone: no file to set the key in
            hint = f"pass --{keys[-1].replace('_', '-')} (or write gpu.jsonc): {hint}"
        siblings = sorted(f for p, f in self.flags.items() if p[:-1] == keys[:-1])
        if siblings:
            message += f" (with {', '.join(siblings)} from the command line)"
        return self.source.diagnostic(self.prefix + path, message, hint)


def _set(data: dict, path: str, value) -> None:
    *parents, leaf = path.split(".")
    for key in parents:
        data = data.setdefault(key, {})
        if not isinstance(data, dict):
            return
    data[leaf] = value


OVERRIDES_INVALID = "the per-run overrides make the configuration invalid"


def _with_overrides(source: Source, blocks, overrides: Sequence[Override]):
    """Re-validate the raw blocks with the overrides applied; errors point at the flag."""
    if not overrides:
        return blocks
    raw = source.data["serverless"]
    out, problems = [], []
    for prefix, _ in blocks:
        item = copy.deepcopy(raw if len(prefix) == 1 else raw[prefix[1]])
        for o in overrides:
            _set(item, o.path, o.value)
        model, errors = validate_block(source, item, prefix, flags=True)
        locate = _Locator(source, prefix, overrides)
        problems += [locate(_relative(d.path, prefix), d.message, d.hint) for d in errors]
        if model is not None:
            out.append((prefix, model))
    if problems:
        raise ConfigError(OVERRIDES_INVALID, problems)
    return out


def _relative(path: str, prefix: tuple) -> tuple:
    parts = path[len(dotted(prefix)):].lstrip(".").split(".")
    return tuple(p for p in parts if p)


@acyclic
def load_config(path: Path, overrides: Sequence[Override] = (), catalog: Catalog | None = None, display: str | None = None,
                *, flags_may_replace: bool = False, text: str | None = None, blocks_optional: bool = False) -> LoadedConfig:
    """Read and check gpu.jsonc; every problem is reported at once with its position. With
    `flags_may_replace` (deploy, which has --template, and no --config given), a missing file
    is fine when --template says what to deploy: the configuration then comes from the flags
    alone, and the fix for a missing file says so. With `text`, that is
    the file's content instead of what is on disk (an edit checked before it is written).
    `blocks_optional`: a file that declares no serverless block is loaded with none (`import`,
    which adds the first; validate.validate_document).
    A ConfigError carries the `${VAR}` names the file reads (`variables`): their values are
    secrets before they are resolved, so whoever shows the error protects them first (a
    `${DB_URL}` value pasted into gpu_type was quoted back by "unknown GPU type")."""
    try:
        return _load(path, overrides, catalog, display, flags_may_replace, text, blocks_optional)
    except ConfigError as error:
        error.variables = _variables_read(path, text)
        raise


def _unset_project_id(project_id: str, name: str, from_flags: bool) -> str:
    """The warning for a project whose marker is its directory's name, with what keeps it."""
    if from_flags:
        return (f'there is no {name}, so the ownership marker is the directory name "{project_id}", which a clone or a CI checkout '
                f'under another name changes: create {name} with "project_id": "{project_id}" and the template and GPU type passed as '
                "flags to keep managing the endpoint deployed from here (any other project_id makes it another project's)")
    return (f'project_id is not set, so the ownership marker is the directory name "{project_id}", which a clone or a CI '
            f'checkout under another name changes: add "project_id": "{project_id}" to {name} to keep managing the '
            "endpoints deployed so far (any other value makes them another project's)")


def _variables_read(path: Path, text: str | None) -> tuple[str, ...]:
    """The `${VAR}` names anywhere in gpu.jsonc's text, comments included (a file that does not
    parse has no values to walk); none when it cannot be read."""
    from gpuctl.files import read_text

    if text is None:
        try:
            text = read_text(path)
        except (OSError, ValueError):
            return ()
    return tuple(sorted(set(references.names(text))))


def _load(path: Path, overrides: Sequence[Override], catalog: Catalog | None, display: str | None, flags_may_replace: bool,
          text: str | None, blocks_optional: bool = False) -> LoadedConfig:
    catalog = catalog or load_catalog()
    from_flags = flags_may_replace and not path.exists() and any(o.path == "template" for o in overrides)
    if text is not None:
        source = text_source(path, text, display)
    else:
        source = flags_only(path) if from_flags else read_source(path, display, DEPLOY_CONFIG if flags_may_replace else CONFIG)
    blocks = _with_overrides(source, validate_document(source, blocks_optional=blocks_optional), overrides)
    project_dir = path.resolve().parent
    project_id = source.data.get("project_id") or project_dir.name
    notices = [] if source.data.get("project_id") else [Notice("project-id-default", _unset_project_id(project_id, path.name, from_flags))]
    notices += stray_serverless_keys(source)
    errors: list[Diagnostic] = []
    checked = []
    for prefix, block in blocks:
        at = _Locator(source, prefix, overrides)
        template, problems = checks.resolve_template(block, project_dir, at)
        errors += problems + checks.check_gpus(block, catalog, at)
        found = [checks.check_scaling(block, at), checks.check_volume(block, at), checks.check_local(block, project_dir)]
        if template:
            found.append(checks.check_runpod(block, template, catalog, at))
            checked.append(Block(prefix, block, template))
        address = f"endpoint.{block.name or project_id}"
        notices += _account_key_notices(block, prefix, block.name or project_id)
        for errs, notes in found:
            errors += errs
            notices += [replace(n, address=address) for n in notes]
    errors += _cross_block(source, checked, project_id, overrides)
    policy, problems = read_policy(source, ("policy",), catalog) if "policy" in source.data else (None, [])
    errors += problems
    if errors:
        by_flags = all((d.file or "").startswith("--") for d in errors)  # gpu.jsonc itself is fine: say so
        raise ConfigError(OVERRIDES_INVALID if by_flags else f"{source.display} is not valid", sorted(errors, key=lambda d: (d.file or "", d.line or 0, d.col or 0)))
    return LoadedConfig(source, project_id, source.data.get("provider"), tuple(checked), tuple(notices), tuple(overrides), policy)


ACCOUNT_KEY_CODE = "account-key-in-env"


def _account_key_notices(block: ServerlessBlock, prefix: tuple, name: str) -> list[Notice]:
    """A warning for each env value that reads `${RUNPOD_API_KEY}`: a worker may need a RunPod key,
    but this one is the key gpuctl deploys with (in CI, the action's), with access to the whole
    account; a plan says so at its top, not only as "(sensitive, from $RUNPOD_API_KEY)" in its
    diff (docs/adr/0034-secrets-ci-credentials.md)."""
    return [Notice(ACCOUNT_KEY_CODE, f"endpoint {name} receives the RunPod API key gpuctl deploys with ({dotted(prefix + ('runpod', 'env', key))} "
                                     f"reads ${{{references.ACCOUNT_KEY}}}): full access to the account, readable by the worker's code and in the "
                                     "console; if the worker needs a key, give it one of its own with only the access it needs, as a RunPod secret",
                   f"endpoint.{name}")
            for key, value in block.runpod.env.items() if references.ACCOUNT_KEY in references.names(value)]


def _cross_block(source: Source, blocks: list[Block], project_id: str, overrides) -> list[Diagnostic]:
    errors, names, sizes = [], {}, {}
    for b in blocks:
        at = _Locator(source, b.prefix, overrides)
        name = b.model.name or project_id
        if name in names:
            hint = "give each serverless block a distinct \"name\"" if b.model.name else "blocks without a name all default to the project name; add \"name\""
            errors.append(at(("name",), f'endpoint name "{name}" is used twice (first in {dotted(names[name])})', hint))
        names.setdefault(name, b.prefix)
        if b.model.volume and b.model.volume.size_gb is not None:
            first = sizes.setdefault(b.model.volume.name, (b.model.volume.size_gb, b.prefix))
            if first[0] != b.model.volume.size_gb:
                errors.append(at(("volume", "size_gb"), f'volume "{b.model.volume.name}" is declared with {first[0]} GB in {dotted(first[1])} and {b.model.volume.size_gb} GB here', "use one size for a shared volume"))
    return errors + _renames(source, blocks, project_id, overrides, names)


def _renames(source: Source, blocks: list[Block], project_id: str, overrides, names: dict) -> list[Diagnostic]:
    """`renamed_from` takes over this project's endpoint of the old name (ADR 29): never one
    that a block of gpu.jsonc still declares, and only for one block."""
    errors, claimed = [], {}
    for b in blocks:
        old = b.model.renamed_from
        if old is None:
            continue
        at = _Locator(source, b.prefix, overrides)
        if old == (b.model.name or project_id):
            errors.append(at(("renamed_from",), f'"renamed_from" is this block\'s own name "{old}"', "remove it, or set it to the name the endpoint had before"))
        elif old in names:
            errors.append(at(("renamed_from",), f'"renamed_from": "{old}" names an endpoint gpu.jsonc still declares ({dotted(names[old])})',
                             "a rename moves the endpoint to this block: remove or rename the other block, or remove renamed_from"))
        elif old in claimed:
            errors.append(at(("renamed_from",), f'"renamed_from": "{old}" is also in {dotted(claimed[old])}', "one endpoint can be renamed into one block only"))
        claimed.setdefault(old, b.prefix)
    return errors


def variables(loaded: LoadedConfig) -> list[tuple[Block, str, str]]:
    """Every `${VAR}` the config reads: (block, env key, variable)."""
    found = []
    for b in loaded.blocks:
        for key, value in b.model.runpod.env.items():
            if isinstance(value, str):
                found += [(b, key, name) for name in references.names(value)]
    return found


class _EnvProblem(Exception):
    """What is wrong with one env value: one (message, hint, unset variable or None) per problem,
    so a value reading two unset variables names both."""

    def __init__(self, problems: list[tuple[str, str, str | None]]):
        super().__init__(problems[0][0])
        self.problems = problems


def _env_value(value, environ: Mapping[str, str], unknown_ok: bool) -> str | Sensitive | Unresolved:
    """A literal as it is, a RunPod secret as its reference, a `${VAR}` value read from
    `environ`: a variable that is not set is an error, or, when `unknown_ok` (a plan-only
    run), makes the value Unresolved."""
    if not isinstance(value, str):
        return Sensitive(f"{{{{ RUNPOD_SECRET_{value.secret} }}}}")
    names = references.names(value)
    for name in names:
        if not references.NAME.fullmatch(name):
            raise _EnvProblem([(f'malformed reference "${{{name}}}"', "write ${NAME} with letters, digits and '_'", None)])
    unset = tuple(dict.fromkeys(n for n in names if n not in environ))
    if unset and unknown_ok:
        return Unresolved(unset)
    if unset:
        raise _EnvProblem([(f"environment variable {n} is not set", f"export {n}=... before running gpu, or remove the reference", n) for n in unset])
    return Sensitive(references.substitute(value, environ), tuple(dict.fromkeys(names))) if names else value


def _resolved_env(loaded: LoadedConfig, b: Block, environ: Mapping[str, str], unknown_ok: bool) -> dict[str, str | Sensitive | Unresolved]:
    at = _Locator(loaded.source, b.prefix, loaded.overrides)
    env, problems, unset = {}, [], []
    for key, value in b.model.runpod.env.items():
        try:
            env[key] = _env_value(value, environ, unknown_ok)
        except _EnvProblem as problem:
            for message, hint, name in problem.problems:
                problems.append(at(("runpod", "env", key), message, hint))
                unset.append(name)
    if problems:
        raise MissingVariables("gpu.jsonc refers to missing environment variables", problems, unset)
    return env


def _endpoint(loaded: LoadedConfig, b: Block, environ: Mapping[str, str], catalog: Catalog, unknown_ok: bool) -> tuple[EndpointSpec, list[Notice]]:
    m, notices = b.model, []
    env = _resolved_env(loaded, b, environ, unknown_ok)
    name = m.name or loaded.project_id
    if b.template.resolved == "vllm" and "MODEL_NAME" not in env and m.runpod.cached_model:
        env["MODEL_NAME"] = m.runpod.cached_model.split(":")[0]
        notices.append(Notice("model-name", f"MODEL_NAME is set to {env['MODEL_NAME']} from runpod.cached_model", f"endpoint.{name}", level="note"))
    template = catalog.templates[b.template.resolved]
    local_cwd = (loaded.project_dir / (m.local.cwd or ".")).resolve() if m.local else None
    command = m.local.command if m.local else None
    if isinstance(command, str):
        command = shlex.split(command)
    spec = EndpointSpec(
        name=name,
        template=b.template,
        image=m.runpod.image_name or template.image,
        disk_gb=m.runpod.container_disk_gb or template.disk_gb,
        gpu_types=tuple(dict.fromkeys([m.gpu_type, *m.gpu_types])),
        workers_min=m.scaling.min_workers,
        workers_max=m.scaling.max_workers,
        idle_timeout=m.scaling.idle_timeout,
        scaler_type=_SCALER[m.runpod.scaler_type],
        scaler_value=m.runpod.scaler_value,
        execution_timeout_ms=m.runpod.execution_timeout_ms,
        flashboot=m.runpod.flashboot,
        data_center_ids=tuple(m.runpod.data_center_ids),
        env=tuple(sorted(env.items())),
        ports=tuple(m.runpod.ports) if m.runpod.ports is not None else None,
        cached_model=m.runpod.cached_model,
        volume=VolumeSpec(m.volume.name, m.volume.size_gb, tuple(m.runpod.data_center_ids), m.volume.mount_path) if m.volume else None,
        volume_declined=m.volume is False,
        prewarm=PrewarmSpec(m.prewarm.enabled, m.prewarm.mode, tuple(m.prewarm.models)),
        local_command=tuple(command) if command else None,
        local_cwd=str(local_cwd) if local_cwd is not None else None,
        adopt=m.adopt,
        renamed_from=m.renamed_from,
        registry_auth=_registry_auth(loaded, b),
    )
    return spec, notices


def _registry_auth(loaded: LoadedConfig, b: Block) -> RegistryAuth | None:
    """`runpod.registry_auth` with where it is written: the plan resolves it against the
    account's credentials, and a name the account lacks is an error at this key."""
    value = b.model.runpod.registry_auth
    if value is None:
        return None
    at = _Locator(loaded.source, b.prefix, loaded.overrides)(("runpod", "registry_auth"), "", "")
    return RegistryAuth(value, at.path, at.file, at.line, at.col)


def _unset_notice(specs: Sequence[EndpointSpec]) -> list[Notice]:
    """One warning for the whole plan, however many endpoints read the unset variables."""
    unset = sorted({v for s in specs for _, value in s.env if isinstance(value, Unresolved) for v in value.variables})
    if not unset:
        return []
    named = ", ".join(unset)
    return [Notice("unset-variables", f"{named} {agreeing(len(unset), 'is', 'are')} not set in this run, so the env values read from "
                                      f"{agreeing(len(unset), 'it', 'them')} are unknown: the plan shows them as possible changes. "
                                      "deploy (without --plan) needs them set")]


@acyclic
def build_desired(loaded: LoadedConfig, environ: Mapping[str, str], catalog: Catalog | None = None, *, unknown_ok: bool = False) -> Desired:
    """The desired state, with `${VAR}` read from `environ`. A missing variable is an error,
    or, with `unknown_ok` (plan-only runs), an Unresolved value and one warning (ADR 24)."""
    catalog = catalog or load_catalog()
    built, problems, unset = [], [], []
    for b in loaded.blocks:  # every block's unset variables in one error, not the first block's alone
        try:
            built.append(_endpoint(loaded, b, environ, catalog, unknown_ok))
        except MissingVariables as missing:
            problems += missing.diagnostics
            unset += missing.unset
    if problems:
        raise MissingVariables("gpu.jsonc refers to missing environment variables", problems, unset)
    notices = list(loaded.notices) + [n for _, found in built for n in found] + _unset_notice([spec for spec, _ in built])
    endpoints = tuple(spec for spec, _ in built)
    read = bool(loaded.source.text)
    root = repository_root(loaded.source.path) if read else None
    root = root if root is not None and not sparse_checkout(root) else None  # no config is "gone" on a guess (ADR 52)
    ancestry = Ancestry(root) if root is not None else None  # git runs only if the plan asks (ADR 52, R7-2)
    return Desired(loaded.project_id, loaded.source.display, endpoints, loaded.provider, tuple(notices), loaded.overrides,
                   config_identity(loaded.source.path) if read else None, str(root) if root is not None else None,
                   ancestry, ancestry.in_head if ancestry is not None else None,
                   _repository(environ, repository_root(loaded.source.path) if read else None))  # git once, only if asked (ADR 60)


def _repository(environ: Mapping[str, str], root: Path | None) -> Callable[[], str | None]:
    """Which repository the gpu.jsonc at `root` is in (gpuctl.author.repository), asked of git at
    most once, and only when a deploy writes records or the plan meets an endpoint that left
    gpu.jsonc, or one renamed in the account whose record names a repository (ADR 60, ADR 59)."""
    @functools.cache
    def ask() -> str | None:
        from gpuctl.author import repository

        return repository(environ, root)
    return ask


def config_identity(path: Path) -> str:
    """Which gpu.jsonc this is, as the last-applied record keeps it (ADR 35): its path from the
    root of the git repository it is in (`repository_root`), so a laptop's checkout and CI's
    name it alike, else its file name. Two configs of one project (a gpu.jsonc copied to a
    second service's directory) differ by it."""
    absolute = Path(os.path.abspath(path))
    root = repository_root(absolute)
    return absolute.relative_to(root).as_posix() if root is not None else absolute.name


def repository_root(path: Path, within: tuple[Path, ...] | None = None) -> Path | None:
    """The top of the git work tree `path` is in: the nearest directory above it holding `.git`
    (a directory, or the file of a worktree or submodule), found from the path as written (no
    link followed). None when there is none; with `within`, when there is none at or below one
    of those directories (`gpu github`: the job's workspace, so a `.git` of the runner above it,
    or in files a run downloaded elsewhere, never counts). The one definition of "the
    repository root" (config_identity, ADR 35; gpuctl.github.job.Job.root, ADR 50; the planner
    looks there for another gpu.jsonc a last-applied record names: Desired.config_gone, ADR 52)."""
    absolute = Path(os.path.abspath(path))
    for root in absolute.parents:
        if within is not None and not any(root.is_relative_to(top) for top in within):
            return None
        if (root / ".git").exists():
            return root
    return None


def sparse_checkout(root: Path) -> bool:
    """Whether the git work tree at `root` may leave files of the repository out
    (`git sparse-checkout`, `actions/checkout` with `sparse-checkout:`): its git directory has
    `info/sparse-checkout`. A file missing there is then no sign it left the repository, so a
    last-applied record's other gpu.jsonc is never taken for gone (ADR 52). A `.git` file (a
    worktree, a submodule) names its git directory; one that can't be read counts as sparse."""
    dot = root / ".git"
    try:
        if dot.is_file():
            named = dot.read_text(encoding="utf-8", errors="replace").strip()
            if not named.startswith("gitdir:"):
                return True
            dot = root / named.removeprefix("gitdir:").strip()
        return (dot / "info" / "sparse-checkout").exists()
    except OSError:
        return True
