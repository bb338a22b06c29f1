"""What every `gpu github` command shares within one job: the run's variables, the REST client
(made on first use, so a plan without a pull request needs no token), the name each config is
known by on GitHub, and the rule that nothing leaves with a secret in it."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import TextIO
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from gpuctl import __version__
from gpuctl.author import public_text
from gpuctl.cli.context import AppContext
from gpuctl.commands import Flags
from gpuctl.redact import redact
from gpuctl.safetext import Wrapping, printable
from gpuctl.github.client import GitHub
from gpuctl.github.env import Actions, append_summary, write_outputs
from gpuctl.render.md import code as md_code, fenced
from gpuctl.interrupts import held

@dataclass
class Job:
    app: AppContext
    actions: Actions
    _github: GitHub | None = field(default=None, repr=False)
    _roots: dict[Path, None] = field(default_factory=dict, repr=False)  # the repository roots Job.root found, in order (Job.gone)

    @classmethod
    def start(cls, app: AppContext) -> Job:
        """The job of `app`'s command. From here on what the command writes to its stdout and
        stderr, the job's log, shows each lease holder it quotes without its host (`PublicLog`)."""
        actions = Actions.from_environ(app.environ)
        app.protect(actions.token)
        app.stdout, app.stderr = PublicLog.of(app.stdout, actions.repository), PublicLog.of(app.stderr, actions.repository)
        return cls(app, actions)

    @property
    def github(self) -> GitHub:
        if self._github is None:
            self._github = GitHub.from_actions(self.actions, note=self.app.note, debug=self.app.note if self.app.debug else None)
        return self._github

    def report(self, write: Callable[[], int]) -> int:
        """Run `write`, the last step of a command whose outcome is decided (its summary,
        comments and outputs): a SIGINT/SIGTERM (GitHub sends both) waits until it is done and
        then changes nothing, so nothing is left half written and the process exits as the
        `exit_code` output says."""
        with held(interrupt_after=False) as caught:
            code = write()
        if caught:
            self.app.note("the job was cancelled while its result was written; the result stands")
        return code

    def one_project_per_config(self, configs: tuple[str, ...]) -> None:
        """Refuse configs of one run that declare the same project (a gpu.jsonc copied to a second
        service's directory): gpuctl owns endpoints by project_id, so each would take the other's
        live endpoints for its own that left gpu.jsonc, and `--prune` would delete them (ADR 35).
        A config listed twice is one config; one that cannot be read is left to its own error."""
        from gpuctl.config.loader import load_config
        from gpuctl.errors import ConfigError, DiagnosticsError, GpuctlError

        seen: dict[str, tuple[str, object]] = {}
        for config in configs:
            key = self.key(config)
            try:
                self.readable(config)
            except GpuctlError:
                continue  # its own error, where it is planned: never read
            try:
                loaded = load_config(self.app.cwd / config, display=key)
            except (ConfigError, OSError):
                continue
            first = seen.setdefault(loaded.project_id, (key, loaded.source))
            if first[0] == key:
                continue
            said = 'declare "project_id": "{}"' if loaded.source.data.get("project_id") else 'have the project "{}" (no project_id: the directory name)'
            fix = ('give each gpu.jsonc its own "project_id": gpuctl owns endpoints by project, so each config would take the other\'s endpoints '
                   "for its own that left gpu.jsonc, and --prune would delete them")
            raise DiagnosticsError(f"{first[0]} and {key} both {said.format(loaded.project_id)}; nothing was planned or applied",
                                   [src.diagnostic(("project_id",), f'"{loaded.project_id}" is also the project of {other}', fix)
                                    for src, other in ((first[1], key), (loaded.source, first[0]))])

    def close(self) -> None:
        if self._github is not None:
            self._github.close()

    def root(self, config: str) -> Path:
        """The repository root of the checkout that holds `config` (a path as the workflow gives
        it, from the working directory): the top of the git work tree it is in, the directory
        holding `.git` (config.loader.repository_root, by which the last-applied record names a
        config, ADR 35), so a repository checked out into a subdirectory of the workspace
        (`actions/checkout` with `path: src`) is named from its own root (ADR 50). In a GitHub
        run the search stops at GITHUB_WORKSPACE: a `.git` above it is not this job's checkout,
        and the fork flow's downloaded configs, outside it, are laid out as the repository is.
        Without one: GITHUB_WORKSPACE, else the working directory."""
        from gpuctl.config.loader import repository_root

        workspace = self._workspace()
        lexical = Path(os.path.normpath(os.path.join(self.app.cwd, config)))
        found = repository_root(lexical, tuple(dict.fromkeys((workspace, workspace.resolve()))) if workspace else None)
        root = found or workspace or self.app.cwd
        self._roots.setdefault(root, None)
        return root

    def _workspace(self) -> Path | None:
        workspace = self.app.environ.get("GITHUB_WORKSPACE")
        return Path(os.path.normpath(os.path.join(self.app.cwd, workspace))) if workspace else None

    def placed(self, config: str) -> tuple[Path, str]:
        """(root, key): the config's name on GitHub, in markers, contents lookups, links and plan
        file names (`key`), its path from its repository root (`root`, Job.root) when it is
        inside that checkout, else from the working directory, as in the fork flow, whose
        configs are laid out as in the repository."""
        path, cwd = (self.app.cwd / config).resolve(), self.app.cwd.resolve()
        for top in dict.fromkeys((self.root(config).resolve(), cwd)):
            if path.is_relative_to(top):
                return top, path.relative_to(top).as_posix()
        return cwd, Path(config).as_posix()

    def key(self, config: str) -> str:
        """The config's name on GitHub (Job.placed): its path from the repository root."""
        return self.placed(config)[1]

    def flags(self, config: str, provider: str | None, policy: str | None = None) -> Flags:
        """The options a command suggested on GitHub (a comment, an issue, the job summary, the
        log) carries, as a person runs it from the repository root: the config and the policy
        by their repository paths (Job.key, ADR 50), never as the job was given them (a
        working-directory below the root, the fork flow's download under RUNNER_TEMP, the base
        branch's policy copy: `policy` is the workflow's own input), and the provider the
        workflow named. The policy is named as the workflow writes it, no link followed
        (Job.in_checkout, ADR 33): the file a link leads to is not the one the rules are read as."""
        shown = (self.in_checkout(policy, config).key or self.key(policy)) if policy else None
        return Flags.of_run(self.key(config), provider, shown)

    def gone(self, key: str) -> bool:
        """Whether nothing is at `key` (a config's key, as a marker names it) in the checkout:
        neither under the repository root of a config of this run (Job.root), GITHUB_WORKSPACE
        nor the working directory, where `key` looks for it. A key that could name a file outside
        them (absolute, `..`) is never gone: the run cannot tell. A dangling symbolic link, a
        directory, anything there is not gone."""
        path = PurePosixPath(key)
        if not key or path.is_absolute() or ".." in path.parts or "\\" in key:
            return False
        roots = [*self._roots, self._workspace(), self.app.cwd]
        return not any(os.path.lexists(root / path) for root in roots if root is not None)

    def in_checkout(self, path: str, config: str | None = None, *, root: Path | None = None) -> Named:
        """`path` (as a workflow names it: the `policy` input, a config) as the checkout that
        holds `config` has it (its root: Job.placed), or as the directory `root` has it (the fork
        flow's downloaded configs, in place of the checkout). "In the checkout" is decided from
        the path as written, with `.` and `..` folded and no link followed, so a symbolic link a
        pull request puts at or above it never moves it out of the checkout, nor renames it. The
        plan's policy check (policy_base), the apply's "newer commit" check (apply_flow), the
        refusal of a config behind a link out of the checkout (Job.readable) and the fork flow's
        policy check (plan_flow, with `root`) ask this."""
        cwd = self.app.cwd.resolve()
        lexical = Path(os.path.normpath(os.path.join(cwd, path)))
        if root is not None:
            given = Path(os.path.normpath(os.path.join(cwd, root)))
            top, roots = given.resolve(), tuple(dict.fromkeys((given, given.resolve())))
        else:
            assert config is not None, "in_checkout needs the config whose checkout it asks about, or a root"
            top, written = self.placed(config)[0], self.root(config)
            roots = (written, top) if written.resolve() == top else (top,)
        for root in dict.fromkeys(roots):
            if lexical == root or not lexical.is_relative_to(root):
                continue
            parts = lexical.relative_to(root).parts
            links = tuple(PurePosixPath(*parts[:i]).as_posix() for i in range(1, len(parts) + 1) if root.joinpath(*parts[:i]).is_symlink())
            key = PurePosixPath(*parts).as_posix()
            if not links:
                return Named(top, key, (), key)
            real = Path(os.path.realpath(lexical))
            return Named(top, key, links, real.relative_to(top).as_posix() if real != top and real.is_relative_to(top) else None)
        return Named(top, None)

    def readable(self, config: str) -> None:
        """Refuse `config` when it is, or sits under, a symbolic link that leads out of its
        checkout (Job.in_checkout), as the policy file is (ADR 33): a `gpu github` run never
        reads a file of the runner into a comment or the job summary. The error names the link,
        never where it leads. A link that stays in the checkout is read as any file is."""
        from gpuctl.errors import GpuctlError

        named = self.in_checkout(config, config)
        if named.key is None or not named.links or named.target is not None:
            return
        link = named.links[0]
        what = "is a symbolic link" if link == named.key else f"is under the symbolic link {link}"
        raise GpuctlError(f"{named.key} {what} that leads out of the checkout; gpuctl never reads a file outside the checkout in a GitHub run, "
                          f"so {named.key} was not read", hint=f"make {link} a file of the repository, or a link to one")

    def clean(self, text: str) -> str:
        """`text` with every registered secret (the GitHub token, the RunPod key, `${VAR}`
        values) replaced, and every control character or character that shows nothing or
        reorders what follows (a bidi override in a name, a zero-width space) written as an
        escape: the same rules as the terminal's, for all that goes to GitHub or a file (a
        comment, an issue, the job summary, an output), whichever message quotes the name; a
        lease holder a message quotes without its host (ADR 39), another owner's repository unnamed
        (`author.public_text`, review 11, R11-7)."""
        return public_text(printable(redact(text, self.app.secrets)), self.actions.repository)

    def source_url(self, key: str, commit: str | None) -> str | None:
        """The config's page at `commit` (`https://github.com/OWNER/REPO/blob/SHA/PATH`), to
        which a plan comment links each gpu.jsonc key (`#L9`): the commit whose file was read,
        or the line numbers point elsewhere (`plan_flow.read_commit`). `key` is the config's path
        from the repository root (in the fork flow the downloaded configs are laid out as the
        repository is, and a fork's head commit is shown under the base repository). None when
        the run does not know the repository or the commit, or the config is outside the
        repository (an absolute path, `..`)."""
        repository, server = self.actions.repository, self.actions.server_url
        if not re.fullmatch(r"https?://[A-Za-z0-9.:-]+(/[A-Za-z0-9._~-]+)*", server):  # GitHub's own (GITHUB_SERVER_URL): nothing a link could end on
            return None
        if not (repository and commit and re.fullmatch(r"[0-9a-fA-F]{7,64}", commit) and re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repository)):
            return None
        path = PurePosixPath(key)
        if path.is_absolute() or ".." in path.parts or not path.parts:
            return None
        return f"{server}/{repository}/blob/{commit.lower()}/{quote(path.as_posix(), safe='/')}"

    def footer(self, what: str, key: str, commit: str | None = None) -> str:
        """The last line of a comment: what was done, for which commit of the pull request (so a
        plan left from an earlier push says so), by which gpuctl, in which run."""
        run = self.actions.run_url()
        where = f" in [run {self.actions.run_id}]({run})" if run else ""
        at = f" at commit {commit[:12]}" if commit else ""
        return f"\n<sub>{what} {md_code(key)}{at} with gpuctl {__version__}{where}.</sub>\n"

    def summary(self, markdown: str) -> None:
        append_summary(self.actions.summary_path, self.clean(markdown))

    def outputs(self, values: dict[str, str]) -> None:
        write_outputs(self.actions.output_path, {k: self.clean(v) for k, v in values.items()})


class PublicLog(Wrapping):
    """The stdout or stderr of a `gpu github` command: the job's log, which GitHub shows to
    anyone who can read a public repository. Each lease holder a message quotes (`pid 12 on
    HOST (...)`: the exit 3 refusal, the notes of a wait or a takeover, the summary lines) is
    shown by `author.public_text`, as in the summary and the comments (`Job.clean`), never
    with its host (ADR 39, ADR 48), nor another owner's repository named (R11-7). Every such message is written whole, in one write."""

    def __init__(self, inner: TextIO, repository: str | None = None):
        super().__init__(inner)
        self.repository = repository

    @classmethod
    def of(cls, stream: TextIO, repository: str | None = None) -> TextIO:
        return stream if isinstance(stream, cls) else cls(stream, repository)

    def write(self, text: str) -> int:
        self.inner.write(public_text(text, self.repository))
        return len(text)


@dataclass(frozen=True)
class Named:
    """A path of the checkout (Job.in_checkout): `key`, its path from the repository root `root`
    as written (None: not in the checkout); `links`, the symbolic links at or above it (their
    keys, from the root down); `target`, the key of the file the links lead to (None: outside
    the checkout), which is `key` itself when there is no link."""

    root: Path
    key: str | None
    links: tuple[str, ...] = ()
    target: str | None = None


def plan_file(plan_dir: Path, key: str) -> Path:
    """Where a config's plan is kept in the plan artifact: its key, flattened to one name."""
    return plan_dir / (re.sub(r"[^A-Za-z0-9._-]", "_", key.replace("/", "__")) + ".plan.json")


def error_markdown(title: str, text: str) -> str:
    return f"### {title}\n\n{fenced(text, 'text')}"


def combined(codes: list[int]) -> int:
    """One detailed exit code for several configs: 130 if one was interrupted (the job is being
    cancelled), else 1 if any failed, else 5 if any failed its health gate after the apply, else
    4 if any breaks the policy, else 2 if any has changes."""
    return next((code for code in (130, 1, 5, 4, 2) if code in codes), 0)
