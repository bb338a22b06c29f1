"""Each policy rule, as a check. The rules about an endpoint's own settings read gpu.jsonc's blocks
(after per-run flags), so a violation names the key that breaks it; the rules about what a plan
does (its cost, its deletes and replaces) read the plan, with the cost from `plan.cost`, the
numbers every rendering shows (gpuctl.plan.cost), never a second formula."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from gpuctl.config import references
from gpuctl.config.loader import Block, LoadedConfig
from gpuctl.config.policy import Policy
from gpuctl.config.sourcemap import dotted
from gpuctl.model import Notice
from gpuctl.plan.cost import usd_per_hour
from gpuctl.plan.model import Action, Kind, Plan, Violation
from gpuctl.plan.volumes import PODS_UNREAD_CODE, SHARED_ADVICE, SHARED_CODE
from gpuctl.policy.secrets import looks_generated
from gpuctl.redact import credential_key

ENTROPY_CODE = "policy-high-entropy-env"
UNPRICED_CODE = "policy-cost-unpriced"


class _Endpoint:
    """One block, as the rules name it: its address, key paths and the flags that set a key."""

    def __init__(self, loaded: LoadedConfig, block: Block, policy: Policy):
        self.block, self.policy, self.source = block, policy, loaded.source
        self.address = f"endpoint.{block.model.name or loaded.project_id}"
        self.prefix = dotted(block.prefix)
        self.flags = {o.path: o.flag for o in loaded.overrides}

    def violation(self, rule: str, key: tuple, message: str) -> Violation:
        """`key`: the path within the block, as the source map spells it (`("gpu_types", 0)`)."""
        flag = self.flags.get(".".join(k for k in key if isinstance(k, str)))
        said = f" (set by {flag})" if flag else ""
        where = flag or self.source.diagnostic(self.block.prefix + key, message, hint="").location() or None  # only its place
        return Violation(rule, self.address, dotted(self.block.prefix + key), message + said, self.policy.origin.get(rule, ""), where)


def config_findings(policy: Policy, loaded: LoadedConfig) -> tuple[list[Violation], list[Notice]]:
    """What gpu.jsonc alone breaks (GPU types, worker counts, credentials in env) and the
    high-entropy warnings; the same for every plan of this configuration."""
    violations, warnings = [], []
    for block in loaded.blocks:
        endpoint = _Endpoint(loaded, block, policy)
        violations += [*_gpus(endpoint), *_workers(endpoint), *_credentials(endpoint), *_variables(endpoint)]
        warnings += list(_generated(endpoint))
    return violations, warnings


def _gpus(e: _Endpoint) -> Iterator[Violation]:
    allowed = e.policy.allowed_gpu_types
    if allowed is None:
        return
    m = e.block.model
    named = [(("gpu_type",), m.gpu_type)] + [(("gpu_types", i), g) for i, g in enumerate(m.gpu_types)]
    choices = ", ".join(f'"{g}"' for g in allowed) or "none (the allow-lists of the policy files have nothing in common)"
    for key, gpu in named:
        if gpu is not None and gpu not in allowed:
            yield e.violation("allowed_gpu_types", key, f'GPU type "{gpu}" is not allowed; allowed: {choices}')


def _workers(e: _Endpoint) -> Iterator[Violation]:
    scaling = e.block.model.scaling
    for rule, key, value in (("max_min_workers", "min_workers", scaling.min_workers), ("max_max_workers", "max_workers", scaling.max_workers)):
        limit = getattr(e.policy, rule)
        if limit is not None and value > limit:
            yield e.violation(rule, ("scaling", key), f"{key} is {value}; the policy allows at most {limit}")


# A `${VAR}` reference, in the text the credential rules read of an env value: a character of
# Unicode's private use area, which no value written by hand holds, so a rule sees only what the
# file itself holds and where the references stand.
HOLE = "\ue000"
_WORD = re.compile(r"[^\W_]+")  # letters and digits; '_' joins words
_LABEL = re.compile(r"(?:[-_.][^\W_]+)*\s*[:=]")  # after a word: the rest of a name, then ':' or '=' (`session=`, `X-Api-Key:`, `admin:`)
_SCHEMES = {"bearer", "basic", "token", "bot", "digest"}  # HTTP authentication schemes: `Bearer ${TOKEN}`
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*[^?#]*(?P<rest>.*)", re.S)
# The fixed prefixes of providers' tokens (Hugging Face, OpenAI, Anthropic, Stripe, GitHub,
# GitLab, Slack, Replicate, Groq, RunPod): one directly before a reference is the token's
# prefix, not a written part of it (`hf_${HF_REST}`). Any other text there still counts.
_TOKEN_PREFIX = re.compile(r"(?<![^\W_])(?:hf_|sk-(?:proj-|ant-)?|sk_(?:live|test)_|rk_(?:live|test)_|gh[pousr]_|github_pat_|glpat-|xox[bpae]-|xapp-|r8_|gsk_|rpa_)"
                           rf"(?={HOLE})")
_SETTING = re.compile(r"\s*([A-Za-z][\w .-]*?)\s*=(.*)", re.S)  # `Password=${PW}` of `user=admin;Password=${PW}`
_URL_PASSWORD = re.compile(rf"(?:[A-Za-z][A-Za-z0-9+.-]*|{HOLE}+)://[^/?#@\s:]*:([^/?#@\s]+)@")


def _written(e: _Endpoint) -> Iterator[tuple[str, str]]:
    """(key, text) of each env value with text written in gpu.jsonc itself (not a secret): the
    value with each `${VAR}` reference as HOLE."""
    for key, value in e.block.model.runpod.env.items():
        if isinstance(value, str) and value:
            yield key, references.REFERENCE.sub(lambda m: HOLE if m.group(2) else m.group(0), value)


def _literal_passwords(text: str) -> list[str]:
    """The passwords of the URLs in `text` that are written, whole or in part, in the file:
    `postgres://app:hunter2@${DBHOST}/db`'s, never `postgres://app:${DB_PASSWORD}@db/app`'s."""
    return [p for p in _URL_PASSWORD.findall(text) if p.strip(HOLE)] if "://" in text else []


def _credential_text(text: str) -> bool:
    """Does a credential key's value hold a credential written in the file: any literal value;
    with `${VAR}` references, a letter or digit that is not an authentication scheme at the start
    (`Bearer ${TOKEN}`), nor a name before ':' or '=' (`admin:${PASSWORD}`, `session=${ID}`),
    nor a known token prefix directly before a reference (`hf_${REST}`). A URL's scheme, host
    and path are addresses: of a URL only its password and its query and fragment count. Of a
    key=value string every setting's value counts but those of NON_SECRET_SETTINGS
    (`user=admin;password=${PW}` keeps the rule, `Server=${H};Pwd=hunter2` breaks it)."""
    if HOLE not in text:
        return True
    text = _TOKEN_PREFIX.sub("", text)
    url = _URL.match(text)
    if url:
        return bool(_literal_passwords(text)) or _credential_words(url.group("rest"), 0)
    settings = _settings(text)
    if settings is not None:
        return any(_setting_name(name) not in NON_SECRET_SETTINGS and _WORD.search(value.replace(HOLE, " ")) for name, value in settings)
    return _credential_words(text, len(text) - len(text.lstrip()))


# The settings of a key=value credential string (connection strings, SAS tokens, libpq DSNs)
# that name where and as whom to connect, never the secret: their written values are not
# credentials. Every other setting with a written letter or digit is taken for the secret (fail
# closed: `Pwd=`, `AccountKey=`, `sig=`, a name gpuctl has never seen). Names are compared
# lower-case without spaces, '_', '.' or '-' (`User Id` is `userid`). Listed in docs/policy.md.
NON_SECRET_SETTINGS = frozenset({
    "user", "uid", "userid", "username", "login", "server", "host", "hostname", "port", "database", "db",
    "dbname", "initialcatalog", "datasource", "endpoint", "accountname", "defaultendpointsprotocol",
    "endpointsuffix", "sharedaccesskeyname", "sv", "se", "sp", "spr", "srt", "ss", "st", "sr",
    "sslmode", "encrypt", "trustservercertificate", "clientid", "tenantid", "region", "schema",
    "applicationname", "connecttimeout", "timeout",
})


def _setting_name(name: str) -> str:
    return re.sub(r"[\s._-]+", "", name).lower()


def _settings(text: str) -> list[tuple[str, str]] | None:
    """The (name, value) settings of a key=value string (`user=admin;password=${PW}`,
    `host=db user=admin password=${PW}`, `id=app&secret=${S}`), None when `text` is none: of
    them all but NON_SECRET_SETTINGS may hold the secret (`password=`, `Pwd=`, `sig=`)."""
    parts = re.split(r"[;&]", text) if re.search(r"[;&]", text) else re.split(r"\s+(?=[A-Za-z][\w.-]*\s*=)", text.strip())
    settings = [_SETTING.fullmatch(part) for part in parts if part.strip()]
    if len(settings) < 2 or not all(settings):
        return None
    return [(m.group(1), m.group(2)) for m in settings]


def _credential_words(text: str, start: int) -> bool:
    for word in _WORD.finditer(text):
        if word.start() == start and word.group().lower() in _SCHEMES and text[word.end():word.end() + 1].isspace():
            continue
        if not _LABEL.match(text, word.end()):
            return True
    return False


def _breaks(key: str, text: str) -> str | None:
    """Which part of `require_secret_env` the value `text` (with HOLEs) of the env `key` breaks."""
    if credential_key(key) and _credential_text(text):
        return "key"
    return "url" if _literal_passwords(text) else None


def _credentials(e: _Endpoint) -> Iterator[Violation]:
    if not e.policy.require_secret_env:
        return
    for key, text in _written(e):
        broken = _breaks(key, text)
        if broken == "key" and HOLE in text:
            yield e.violation("require_secret_env", ("runpod", "env", key),
                              f"{key} looks like a credential but part of its value is written in the file beside its ${{VAR}} references; "
                              'use {"secret": "name"} (a RunPod secret) or "${VAR}" for the whole value')
        elif broken == "key":
            yield e.violation("require_secret_env", ("runpod", "env", key),
                              f'{key} looks like a credential but its value is written in the file; use {{"secret": "name"}} (a RunPod secret) or "${{VAR}}" (from the deploying environment)')
        elif broken == "url":
            yield e.violation("require_secret_env", ("runpod", "env", key),
                              f'{key} holds a URL with a password (user:password@) written in the file; use {{"secret": "name"}} (a RunPod secret) or "${{VAR}}" '
                              "for the value or for the password alone (postgres://app:${DB_PASSWORD}@db/app)")


def _variables(e: _Endpoint) -> Iterator[Violation]:
    """`allowed_env_vars`: a platform team pins the variables of the deploying environment (CI's
    secrets among them) that a config may route into a worker with `${VAR}`."""
    allowed = e.policy.allowed_env_vars
    if allowed is None:
        return
    choices = ", ".join(allowed) or "none"
    for key, value in e.block.model.runpod.env.items():
        for name in dict.fromkeys(references.names(value)):
            if name not in allowed:
                yield e.violation("allowed_env_vars", ("runpod", "env", key), f"{key} reads ${{{name}}}, which the policy does not let a config read; allowed: {choices}")


def _generated(e: _Endpoint) -> Iterator[Notice]:
    if not e.policy.warn_high_entropy_env:
        return
    for key, text in _written(e):
        if not (e.policy.require_secret_env and _breaks(key, text)) and looks_generated(text.replace(HOLE, " ")):
            yield Notice(ENTROPY_CODE, f"{e.prefix}.runpod.env.{key} holds a literal value that looks like a generated secret; "
                                       'if it is one, use {"secret": "name"} or "${VAR}" (policy warn_high_entropy_env)', e.address)


def plan_findings(policy: Policy, plan: Plan) -> tuple[list[Violation], list[Notice]]:
    """What the plan itself breaks: its hourly cost estimate, its deletes and replaces."""
    violations, warnings = [], []
    for rule, label, value in (("max_always_on_per_hour", "always-on", plan.cost.always_on_per_hour),
                               ("max_worst_case_per_hour", "worst-case", plan.cost.worst_case_per_hour)):
        limit = getattr(policy, rule)
        if limit is None:
            continue
        if value > limit:
            floor = " at least (some GPU pools have no published price)" if not plan.cost.complete else ""
            violations.append(Violation(rule, None, None, f"the plan's {label} cost estimate is {usd_per_hour(value)}{floor}; the policy allows at most {usd_per_hour(limit)}", policy.origin.get(rule, "")))
        elif not plan.cost.complete:
            warnings.append(Notice(UNPRICED_CODE, f"some GPU pools have no published price, so {rule} ({usd_per_hour(limit)}) was checked against a lower bound ({usd_per_hour(value)})"))
    for rule, action, verb in (("forbid_delete", Action.DELETE, "deletes"), ("forbid_replace", Action.REPLACE, "replaces")):
        if getattr(policy, rule):
            violations += [Violation(rule, c.address, None, f"the plan {verb} {c.address}{f' ({c.id})' if c.id else ''}: {c.reason}; the policy forbids it",
                                     policy.origin.get(rule, "")) for c in plan.changes if c.action == action]
    return violations + _volumes(policy, plan), warnings


def _volumes(policy: Policy, plan: Plan) -> list[Violation]:
    """`max_volume_size_gb`: the size the plan gives a volume it creates or grows (a growth is
    permanent); `forbid_shared_volumes`: a volume the plan's `shared-volume` warning names (the
    planner's one reading of who attaches or mounts it, gpuctl.plan.volumes.shared), and one it
    could not check for want of the pods listing (`shared-volume-pods-unread`), but one whose
    name its `except` list gives."""
    out = []
    limit = policy.max_volume_size_gb
    if limit is not None:
        for c in plan.changes:
            grown = c.kind is Kind.NETWORK_VOLUME and c.action in (Action.CREATE, Action.UPDATE)
            size = next((f.after for f in c.changes if f.path == "size"), None) if grown else None
            if isinstance(size, int) and size > limit:
                verb = "creates" if c.action is Action.CREATE else "grows"
                out.append(Violation("max_volume_size_gb", c.address, None, f"the plan {verb} {c.address} to {size} GB; the policy allows at most {limit} GB",
                                     policy.origin.get("max_volume_size_gb", "")))
    if policy.forbid_shared_volumes:
        names = {c.address: c.name for c in plan.changes if c.kind is Kind.NETWORK_VOLUME}
        allowed = {a for a, name in names.items() if name in policy.shared_volumes_except}
        origin = policy.origin.get("forbid_shared_volumes", "")
        out += [Violation("forbid_shared_volumes", n.address, None, f"{n.message.removesuffix(SHARED_ADVICE)}; the policy forbids a shared volume",
                          origin) for n in plan.notices if n.code == SHARED_CODE and n.address not in allowed]
        # Fail closed (review 10, R10-6): a policy that forbids sharing refuses the plan it could
        # not check; without the policy the plan only warns (ADR 54).
        out += [Violation("forbid_shared_volumes", n.address, None, f"{n.message}, and the policy forbids a shared volume: use an API key that can read pods, "
                                                                    f'or add the volume to the policy\'s except list ({{"forbid_shared_volumes": {{"except": {json.dumps([names.get(n.address, "")])}}}}})',
                          origin) for n in plan.notices if n.code == PODS_UNREAD_CODE and n.address not in allowed]
    return out
