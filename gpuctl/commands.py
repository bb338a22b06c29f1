"""The shell commands gpuctl suggests to a person: one way to write them (`suggest`). Standard
library only: config, plan, render and the CLI all suggest commands.

A suggested command is meant to be copied into a shell, so every word is `shlex.quote`d: an
endpoint's name comes from the account, where anyone who can create an endpoint chooses it
(`a|b`, `$(curl ...)`, `My Endpoint`), and a path may hold spaces. And it must act on what the
report was made of: run from the same directory, a bare `gpu serverless pull --write` rewrites
./gpu.jsonc, not the `--config services/asr/gpu.jsonc` the report read, so the run's `--config`
(when it is not the default ./gpu.jsonc), `--provider` (when the run named one) and, for a
deploy that a workflow runs with a platform policy, `--policy` are appended (`Flags`).

Where a command takes an endpoint's id as well as its name, the callers give the id: ids have
RunPod's shape (letters, digits, `_`, `-`) and name one endpoint even where two share a name.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass

DEFAULT_CONFIG = "gpu.jsonc"
_TAKES_POLICY = {("serverless", "deploy")}  # the commands that check a plan against a --policy
# the commands (and groups) that take neither --config nor --provider: the run's are not theirs to repeat
_TAKES_NEITHER = {("auth",), ("local",), ("config", "schema"), ("github", "reviewed-plan")}
_TAKES_CONFIG_ONLY = {("config", "validate")}


@dataclass(frozen=True)
class Flags:
    """The options of the run a suggestion repeats. `config`: as the person runs it (relative
    to the working directory; on GitHub, to the repository root), None for ./gpu.jsonc;
    `provider`: the one the run named (None: the default chooses); `policy`: the platform
    policy a deploy must keep (a workflow's `policy` input), None for none."""

    config: str | None = None
    provider: str | None = None
    policy: str | None = None

    @classmethod
    def of_run(cls, config: str | os.PathLike | None, provider: str | None = None, policy: str | None = None) -> Flags:
        """The flags of a run given `--config config` (None or a spelling of ./gpu.jsonc: the
        default, left out) and `--provider provider`."""
        shown = None if config is None or os.path.normpath(str(config)) == DEFAULT_CONFIG else str(config)
        return cls(shown, provider or None, policy or None)

    def words(self, *argv: str) -> list[str]:
        """The options `gpu *argv` takes from this run: none that the command does not take
        (`gpu local down` has no --config; tests/test_commands.py checks the tables against
        gpu's commands)."""
        if any(tuple(argv[:len(path)]) == path for path in _TAKES_NEITHER):
            return []
        out = ["--config", self.config] if self.config else []
        out += ["--provider", self.provider] if self.provider and tuple(argv[:2]) not in _TAKES_CONFIG_ONLY else []
        if self.policy and tuple(argv[:2]) in _TAKES_POLICY:
            out += ["--policy", self.policy]
        return out


NONE = Flags()


def suggest(*argv: str, flags: Flags = NONE) -> str:
    """`gpu *argv` with the run's options, each word quoted for a POSIX shell:
    `suggest("serverless", "delete", "My Endpoint")` is `gpu serverless delete 'My Endpoint'`.
    `shlex.split` of it gives back `["gpu", *argv, *flags.words(*argv)]`."""
    words = [str(a) for a in argv]
    return shlex.join(["gpu", *words, *flags.words(*words)])


def git_restore(path: str) -> str:
    """`git checkout HEAD -- <path>` for `path` from the repository root, runnable as printed
    from any directory of the repository: git reads a plain pathspec from the current directory,
    `:(top,literal)` from the root and as a name, never a pattern; quoted for a POSIX shell (a
    path with a space was two words, review 10, R10-8)."""
    return shlex.join(["git", "checkout", "HEAD", "--", f":(top,literal){path}"])
