"""Structural validation of the parsed document: the top-level keys, repeated keys, and each
`serverless` block (read by `gpuctl.config.shape`, explained by `gpuctl.config.explain` when it
is not valid). Every problem is a located `Diagnostic`; env values are never echoed.
"""

from __future__ import annotations

import json
import re
from typing import Any

from gpuctl.commands import Flags, suggest
from gpuctl.config import references
from gpuctl.config.shape import PRINTABLE_NAME, TOP_LEVEL_KEYS, ServerlessBlock, read_block
from gpuctl.config.source import Source
from gpuctl.errors import ConfigError, Diagnostic
from gpuctl.model import Notice
from gpuctl.redact import clip
from gpuctl.spelling import closest, did_you_mean

_JSON_TYPE = {dict: "an object", list: "a list", str: "a string", bool: "true/false", int: "a number", float: "a number", type(None): "null"}


def kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _JSON_TYPE.get(type(value), type(value).__name__)


def show(value: Any, secret: bool) -> str:
    """The value as it is spelled in the file (true, null, NaN), shortened; only its kind when secret."""
    if secret:
        return kind(value)
    if isinstance(value, (dict, list)):
        return kind(value)
    try:
        text = json.dumps(value, ensure_ascii=False)  # escapes control characters: never replay them to a terminal
    except (TypeError, ValueError):
        text = repr(value)
    return clip(text, 59)


def type_hint(kind: str, value: Any) -> str | None:
    """How to fix a value of the wrong type: quote a number, unquote a quoted number or boolean."""
    if kind == "string_type" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'quote it: "{value}"'
    if kind in ("int_type", "int_from_float") and isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
        return f"remove the quotes: {value.strip()}"
    if kind in ("int_type", "int_from_float") and isinstance(value, float) and value.is_integer():
        return f"write it as a whole number: {int(value)}"
    if kind == "bool_type" and isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return f"remove the quotes: {value.strip().lower()}"
    return None


def _references(source: Source, block: ServerlessBlock, prefix: tuple) -> list[Diagnostic]:
    """Env values no worker could get: a NUL character (a process environment is C strings, so
    the worker would see the value cut short there), and `${VAR}` references that could never
    be read: a bad name, no closing brace, or a variable that is the run's own credential
    (GITHUB_TOKEN, ACTIONS_*, GPUCTL_*: `references.runs_own`). Caught here so `config validate` reports them,
    not only deploy. The value itself is never shown."""
    out = []
    for key, value in block.runpod.env.items():
        if isinstance(value, str) and "\x00" in value:
            out.append(source.diagnostic(prefix + ("runpod", "env", key), "the value holds a NUL character (\\u0000), which no process environment can hold: the worker would see the value cut short there",
                                         "remove the \\u0000 from the value"))
        for name, closed in references.scan(value):
            if not closed:
                out.append(source.diagnostic(prefix + ("runpod", "env", key), 'malformed reference: "${" without a closing "}"', "write ${NAME}; the value is read from the deploying environment"))
            elif not references.NAME.fullmatch(name):
                shown = clip(name, 39)
                out.append(source.diagnostic(prefix + ("runpod", "env", key), f'malformed reference "${{{shown}}}"', "write ${NAME} with letters, digits and '_'"))
            elif (what := references.runs_own(name)) is not None:
                out.append(source.diagnostic(prefix + ("runpod", "env", key), f"${{{name}}} is {what}: gpuctl never passes it to a worker "
                                             "(a pull request could route it into an endpoint and the account's env)", references.RUNS_OWN_HINT))
    return out


# Where a `${VAR}` is left as written without being an error: env values expand it, and
# local.command is an argv that may run a shell (["sh", "-c", "echo ${X}"]) which expands it.
_EXPANDS_OR_SHELL = (("runpod", "env"), ("local",))
_UNEXPANDED_HINT = "write the value itself (a CI job can write it into gpu.jsonc before running gpu); only runpod.env values read the environment"


def _unexpanded(source: Source, value: Any, path: tuple, prefix: tuple = ()) -> list[Diagnostic]:
    """A `${VAR}` in a string outside runpod.env: gpuctl expands references only in env values,
    so `"image_name": "ghcr.io/me/worker:${TAG}"` would reach RunPod as written (an image no
    registry has, found only when workers fail to pull it). Caught at its key instead."""
    if isinstance(value, dict):
        if path in _EXPANDS_OR_SHELL:
            return []
        return [d for key, item in value.items() for d in _unexpanded(source, item, path + (key,), prefix)]
    if isinstance(value, list):
        return [d for i, item in enumerate(value) for d in _unexpanded(source, item, path + (i,), prefix)]
    if not isinstance(value, str) or "${" not in value:  # every value of every block passes here: the plan's hot path at 10,000 endpoints
        return []
    names = references.names(value)
    if not names:
        return []
    shown = json.dumps(clip("${" + names[0] + "}", 43), ensure_ascii=False)
    return [source.diagnostic(prefix + path, f"{shown} is not expanded here: gpuctl reads ${{VAR}} only in runpod.env values, so the text would be used as written",
                              _UNEXPANDED_HINT)]


def _outside_unknown(unexpanded: list[Diagnostic], diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """`unexpanded` less what lies below a key reported unknown: its `${VAR}` note would say
    gpuctl reads references only in runpod.env values of a value under `*.runpod.env` that
    gpuctl never reads at all (review 4, R4-11). The unknown key is the one problem there."""
    from gpuctl.config.explain import UNKNOWN_KEY

    unknown = tuple(d.path + "." for d in diagnostics if d.message == UNKNOWN_KEY)
    return [u for u in unexpanded if not u.path.startswith(unknown)] if unknown else unexpanded


def validate_block(source: Source, raw: Any, prefix: tuple, *, flags: bool = False) -> tuple[ServerlessBlock | None, list[Diagnostic]]:
    """The block `raw` holds, or located diagnostics. The quick checks read a valid block;
    anything else is pydantic's to judge and explain (docs/adr/0012-config-quick-path.md).
    `flags`: `raw` holds values typed on the command line, which the file's text does not show."""
    walk = flags or source.may_reference  # else no value can hold a `${`: the walk, on the plan's hot path, is skipped
    unexpanded = _unexpanded(source, raw, (), prefix) if walk else []
    block = read_block(raw)
    if block is None:
        from gpuctl.config import explain

        block, diagnostics = explain.validate_block(source, raw, prefix)
        if block is None:
            return None, diagnostics + _outside_unknown(unexpanded, diagnostics)
    problems = unexpanded + _references(source, block, prefix)
    return (None, problems) if problems else (block, [])


# The way to a first block that is an endpoint of the account already (R5-7): a GPU CLI user's
# pod config has none, and import writes it.
def import_hint(source: Source) -> str:
    """The way to a first block by import, for the gpu.jsonc `source` is (its --config)."""
    return f"or run `{suggest('serverless', 'import', 'NAME', '--write', flags=Flags.of_run(source.display))}` to write the block of an endpoint the account has"


def _top_level(source: Source, blocks_optional: bool = False) -> list[Diagnostic]:
    data = source.data
    if not isinstance(data, dict):
        return [source.diagnostic((), f"the file must hold an object, got {kind(data)}", 'wrap the settings in { "serverless": { ... } }')]
    out = []
    if data.get("serverless") is None:  # no key, or `"serverless": null`: no block yet
        typo = closest("serverless", [k for k in data if k not in TOP_LEVEL_KEYS]) if "serverless" not in data else None
        if typo:  # point at the misspelled key itself
            out.append(source.diagnostic((typo,), "no serverless block", 'did you mean "serverless"?'))
        elif not blocks_optional:
            out.append(source.diagnostic(("serverless",), "no serverless block", f'add "serverless": {{"template": ..., "gpu_type": ...}}, {import_hint(source)}'))
    out += _misspelled_top_level(source)
    for key in ("project_id", "$schema"):
        if key in data and not (isinstance(data[key], str) and data[key].strip()):
            fix = {"project_id": "name the project (it becomes the GPUCTL_PROJECT marker and the default endpoint name), or remove the key to use the directory name",
                   "$schema": "give the schema's path or URL, or remove the key (gpuctl ignores it)"}[key]
            out.append(source.diagnostic((key,), f"expected a non-empty string, got {show(data[key], False)}", type_hint("string_type", data[key]) or fix))
    project_id = data.get("project_id")
    out += _unexpanded(source, project_id, ("project_id",)) if isinstance(project_id, str) else []
    if isinstance(project_id, str) and (len(project_id) > 191 or not re.fullmatch(PRINTABLE_NAME, project_id)):
        out.append(source.diagnostic(("project_id",), "must be at most 191 printable characters (no control characters) with no surrounding whitespace", "it becomes the GPUCTL_PROJECT marker (and the default endpoint name)"))
    if "provider" in data and data["provider"] not in ("runpod", "local"):
        hint = did_you_mean(data["provider"], ["runpod", "local"]) if isinstance(data["provider"], str) else None
        out.append(source.diagnostic(("provider",), f"must be one of 'runpod', 'local', got {show(data['provider'], False)}", hint or 'write "runpod" or "local", or remove the key'))
    return out


# Top-level keys of GPU CLI's pod workflows: gpuctl ignores them (docs/configuration.md).
GPU_CLI_KEYS = ("gpu_types", "environment", "hooks", "outputs", "template", "name")


def _misspelled_top_level(source: Source) -> list[Diagnostic]:
    """Other top-level keys are GPU CLI's and ignored, but one that is a near-miss of a key
    gpuctl reads and does not find (`projectid`, `polices`) is a typo whose silence would cost:
    another project's marker, or a policy that is off."""
    data = source.data
    missing = [k for k in ("project_id", "provider", "policy") if k not in data]
    out = []
    for key in data:
        if key in TOP_LEVEL_KEYS or key in GPU_CLI_KEYS:
            continue
        meant = closest(key, missing, cutoff=0.75)
        if meant:
            out.append(source.diagnostic((key,), f'unknown top-level key, and gpu.jsonc has no "{meant}"',
                                         f'did you mean "{meant}"? (other top-level keys belong to GPU CLI and are ignored)'))
    return out


# Settings only a serverless block has (pods do not scale, pre-warm or time out jobs): one at the
# top level is a block closed too early, not a GPU CLI key. Keys GPU CLI's pods may also have at
# the top level (gpu_type, volume, runpod, env, ...) are left out, so its files draw no warning.
SERVERLESS_ONLY_KEYS = ("scaling", "min_workers", "max_workers", "idle_timeout", "prewarm", "local", "flashboot",
                        "scaler_type", "scaler_value", "execution_timeout_ms", "cached_model", "adopt", "renamed_from")


def stray_serverless_keys(source: Source) -> list[Notice]:
    """A warning for each serverless setting at the top level, where nothing reads it."""
    data = source.data if isinstance(source.data, dict) else {}
    out = []
    for key in data:
        if key in SERVERLESS_ONLY_KEYS:
            where = source.diagnostic((key,), "", "")
            at = f"{where.file}:{where.line}:{where.col}" if where.line else where.file
            out.append(Notice("top-level-serverless-key", f'top-level "{key}" ({at}) is not read: serverless settings go inside the "serverless" block '
                                                          "(was it closed one brace too early?); move it there"))
    return out


_BLOCK_HINT = 'write "serverless": {"template": ..., "gpu_type": ...}, or a list of such objects'


def validate_document(source: Source, *, blocks_optional: bool = False) -> list[tuple[tuple, ServerlessBlock]]:
    """The validated serverless blocks with their key paths, or a ConfigError listing every problem.
    `blocks_optional`: a document without a block (no `serverless` key, null, or an empty list) is
    valid, with no blocks: `import` is about to add the first (a GPU CLI user's pod config). A
    key that is a near-miss of `serverless` is still an error: the block is meant to be there."""
    diagnostics = source.repeat_diagnostics() + _top_level(source, blocks_optional)
    blocks: list[tuple[tuple, ServerlessBlock]] = []
    raw = source.data.get("serverless") if isinstance(source.data, dict) else None
    if isinstance(raw, dict):
        items = [(("serverless",), raw)]
    elif isinstance(raw, list):
        items = [(("serverless", i), item) for i, item in enumerate(raw)]
        if not raw and not blocks_optional:
            diagnostics.append(source.diagnostic(("serverless",), "the list of serverless blocks is empty", f"add at least one block, {import_hint(source)}"))
    else:
        items = []
        if raw is not None:  # null is no block, as no key is (_top_level)
            diagnostics.append(source.diagnostic(("serverless",), f"expected an object or a list of objects, got {kind(raw)}", _BLOCK_HINT))
    for prefix, item in items:
        if not isinstance(item, dict):
            diagnostics.append(source.diagnostic(prefix, f"expected an object, got {kind(item)}", _BLOCK_HINT))
            continue
        block, problems = validate_block(source, item, prefix)
        diagnostics.extend(problems)
        if block is not None:
            blocks.append((prefix, block))
    if diagnostics:
        raise ConfigError(f"{source.display} is not valid", sorted(diagnostics, key=lambda d: (d.line or 0, d.col or 0)))
    return blocks
