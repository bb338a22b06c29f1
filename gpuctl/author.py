"""Who applies: the name a deploy records with each apply, so `gpu serverless history` can say
who made a release (docs/history.md). Never an email and never a token: a GitHub login in
GitHub Actions (GITHUB_ACTOR), else the git author's name (GIT_AUTHOR_NAME, else git's
`user.name`), else the login name ($USER, $LOGNAME, $USERNAME); a value that looks like an
email address is skipped, and the name kept is printable and at most MAX_CHARS long."""

from __future__ import annotations

import re
import socket
import subprocess
from collections.abc import Mapping
from pathlib import Path

MAX_CHARS = 64
_EMAIL = re.compile(r"\S+@\S+")
_NAME = re.compile(r"[A-Za-z0-9._-]+")  # a login, a host name, a GitHub owner/repository or branch part
_COMMIT = re.compile(r"[0-9a-f]{40}")
_ACTIONS_PLACE = re.compile(r"[A-Za-z0-9._-]+/[A-Za-z0-9._-]+(:[A-Za-z0-9._/-]+)?")  # owner/repo[:branch], as `applied_from` writes it in Actions
OUTSIDE_ACTIONS = "a machine outside GitHub Actions"
ANOTHER_REPOSITORY = "another repository"  # a repository a public page does not name (public_repositories)
ACTIONS_RUN = "GitHub Actions"  # a holder known to run there, whose lease names no place (`public_holder`)
# How `engine.lease.project_lease` names its holder (`pid 12 on HOST[ in PLACE]`), or `public_holder` did already.
_HOLDER = re.compile(rf"pid (?P<pid>[0-9]+|\?) (?:on {OUTSIDE_ACTIONS}|in (?P<run>{ACTIONS_RUN})|in (?P<shown>[^ ()]+)"
                     rf"|on (?P<host>[^ ()]+)(?: in (?P<place>[^ ()]+))?)(?= \(|$)")
# The host names GitHub gives its hosted runners (`fv-az123-456`; `runnervm6qbrg` on newer images),
# with any domain: a lease an older gpuctl took there names no place, only this host (ADR 48).
_HOSTED_RUNNER = re.compile(r"(?:fv-az[0-9]+-[0-9]+|runnervm[a-z0-9]+)(?:\.[A-Za-z0-9-]+)*")


def clean(name: object) -> str | None:
    """`name` as a record may keep it: printable, one line, at most MAX_CHARS; None for nothing
    usable or anything with an email address in it."""
    if not isinstance(name, str):
        return None
    text = " ".join("".join(c for c in name if c.isprintable()).split())
    if not text or _EMAIL.search(text) or "<" in text:
        return None
    return text[:MAX_CHARS]


def applier(environ: Mapping[str, str], cwd: Path | None = None) -> str | None:
    """The name of whoever applies now, by the rules above; None when nothing tells."""
    if environ.get("GITHUB_ACTIONS") == "true" and clean(environ.get("GITHUB_ACTOR")):
        return clean(environ.get("GITHUB_ACTOR"))
    for name in (environ.get("GIT_AUTHOR_NAME"), _git_user_name(environ, cwd), environ.get("USER"), environ.get("LOGNAME"), environ.get("USERNAME")):
        if clean(name):
            return clean(name)
    return None


def _git_user_name(environ: Mapping[str, str], cwd: Path | None) -> str | None:
    try:
        done = subprocess.run(["git", "config", "--get", "user.name"], cwd=cwd, env=dict(environ), capture_output=True, text=True,
                              timeout=5, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _part(value: object, limit: int = MAX_CHARS) -> str | None:
    """`value` as one part of where an apply ran from: a name of letters, digits and `._-`
    (and `/` in a branch), at most `limit` long; None for anything else."""
    if not isinstance(value, str) or not value or len(value) > limit:
        return None
    return value if all(_NAME.fullmatch(p) for p in value.split("/")) else None


def applied_from(environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    """Where an apply runs from, and the commit it applies, as the last-applied record keeps
    them with each apply (ADR 37): in GitHub Actions `owner/repo:branch` (GITHUB_REPOSITORY,
    GITHUB_REF_NAME) and the first 12 hex digits of GITHUB_SHA; elsewhere `user@host` (the
    login name, the host name's first label) and no commit; a branch name is cut at 60 characters. A place names the line of
    configs applied from it (a branch, a person's machine); like `applier`, a label for
    people, not proof. None for a part that nothing tells, or that is not a plain name."""
    if environ.get("GITHUB_ACTIONS") == "true" and _part(environ.get("GITHUB_REPOSITORY"), 100):
        ref = _part((environ.get("GITHUB_REF_NAME") or "")[:60])  # the record keeps 20 applies in one env value: a few KB
        sha = environ.get("GITHUB_SHA") or ""
        return f"{environ['GITHUB_REPOSITORY']}" + (f":{ref}" if ref else ""), sha[:12] if _COMMIT.fullmatch(sha) else None
    user = next((u for u in (environ.get("USER"), environ.get("LOGNAME"), environ.get("USERNAME")) if _part(u)), None)
    host = _part(socket.gethostname().split(".")[0])
    if host is None:
        return None, None
    return f"{user}@{host}" if user else host, None


def repository(environ: Mapping[str, str], root: str | Path | None) -> str | None:
    """Which repository a gpu.jsonc is in, as the last-applied record keeps it beside the
    gpu.jsonc's path (ADR 60, ADR 62): `host:path`, the host lower-cased and the path as the forge
    names it (`github.com:acme/api`, `gitlab.corp:group/sub/svc`). In GitHub Actions the host of
    GITHUB_SERVER_URL (github.com when unset) and GITHUB_REPOSITORY (as `applied_from` reads it);
    elsewhere the git remote `origin` of the work tree at `root` (`remote_repository`), so a
    laptop's checkout and CI name one repository alike. None when nothing tells: no root, no
    `origin`, a remote on this machine (a path, `file://`: no repository's name), git missing, or
    a name that is not plain."""
    if environ.get("GITHUB_ACTIONS") == "true" and _part(environ.get("GITHUB_REPOSITORY"), 100):
        host = _url_host(environ.get("GITHUB_SERVER_URL") or "https://github.com")
        return f"{host}:{environ['GITHUB_REPOSITORY']}" if host else None
    if root is None:
        return None
    try:
        done = subprocess.run(["git", "-C", str(root), "config", "--get", "remote.origin.url"], env=dict(environ), capture_output=True, text=True,
                              timeout=5, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return remote_repository(done.stdout.strip()) if done.returncode == 0 else None


_HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?")  # a host name, lower-cased: no IP literal in brackets, no `_`


def _host(authority: str) -> str | None:
    """The host of a URL's authority (`user:token@Host:port`), lower-cased, without user,
    password, token or port; None for anything that is not a plain host name."""
    host = authority.rpartition("@")[2]
    host = host.split(":", 1)[0].lower().rstrip(".")
    return host if _HOST.fullmatch(host) else None


def _url_host(url: str) -> str | None:
    """The host of `url` (GITHUB_SERVER_URL: `https://github.example.com`), as `_host` keeps it."""
    _, sep, rest = url.strip().partition("://")
    return _host(rest.split("/", 1)[0]) if sep else None


def remote_repository(url: str) -> str | None:
    """`url`, a git remote, as `host:path` (`repository`); None for a remote on this machine or
    anything that is not a plain name. A user, a password, a token or a port is never kept: the
    host as `_host` keeps it (an ssh alias of ~/.ssh/config as written: git gives nothing else),
    the path without `.git`."""
    url = url.strip()
    if "://" in url:
        scheme, _, rest = url.partition("://")
        if scheme.lower() == "file" or "/" not in rest:
            return None
        authority, path = rest.split("/", 1)
    elif re.fullmatch(r"[^/:]+:[^/].*", url) and not re.match(r"[A-Za-z]:[\\/]", url):  # scp-like user@host:path (not C:\...)
        authority, path = url.split(":", 1)
    else:
        return None  # a path on this machine
    host = _host(authority)
    path = path.split("?", 1)[0].split("#", 1)[0].strip("/")
    path = path[:-4] if path.endswith(".git") else path
    path = path.rstrip("/")
    return f"{host}:{path}" if host and "/" in path and _part(path, 200) else None


def repository_parts(name: str) -> tuple[str | None, str]:
    """A recorded repository as (host, path): `github.com:acme/api` is ("github.com", "acme/api");
    a name without `:`, as gpuctl wrote before ADR 62 (`acme/api`, `group/sub/svc`), has no host:
    (None, the whole name). A path never holds `:`, so no path is read as a host."""
    host, sep, path = name.partition(":")
    return (host.lower(), path) if sep else (None, name)


def same_repository(a: str, b: str) -> bool:
    """Whether two recorded repositories are one: one host and one path, the path compared without
    case as GitHub (and most forges) name repositories (ADR 62, review 11, R11-9). Two names
    without host (records of an earlier gpuctl) compare by path, as ADR 60 did. A name without host
    is never one with a host: that it is on that host is not provable (`maybe_same_repository`)."""
    (host_a, path_a), (host_b, path_b) = repository_parts(a), repository_parts(b)
    return host_a == host_b and path_a.casefold() == path_b.casefold()


def maybe_same_repository(a: str, b: str) -> bool:
    """Whether `a` and `b` may be one repository that `same_repository` cannot prove: one path,
    and only one of them names its host (a record written before ADR 62)."""
    (host_a, path_a), (host_b, path_b) = repository_parts(a), repository_parts(b)
    return (host_a is None) != (host_b is None) and path_a.casefold() == path_b.casefold()


def place_repository(where: str | None) -> str | None:
    """The repository of an apply's place (`applied_from`), when GitHub Actions ran it
    (`owner/repo:branch`); None for a place outside Actions (`user@host`), which names none."""
    if where is None or not _ACTIONS_PLACE.fullmatch(where):
        return None
    return where.split(":", 1)[0]


def public_place(where: str | None) -> str | None:
    """`where` (an apply's place, `applied_from`) as a public page may show it (ADR 39): a
    GitHub Actions place (`owner/repo:branch`) as it is, since the repository and branch are
    what the page is about; any other place (`user@host`, a host) as OUTSIDE_ACTIONS, since it
    names a person's machine, and the drift issue and job summary of a public repository are
    public. None stays None (no place recorded). The one rule for everything gpuctl writes to
    GitHub; the terminal and --json, read by the account's own user, keep the place whole."""
    if where is None:
        return None
    return where if _ACTIONS_PLACE.fullmatch(where) else OUTSIDE_ACTIONS


def holder_name(pid: object, host: object, place: object = None) -> str:
    """The one way gpuctl names a lease's (or the local lock's) holder in any message:
    `pid 12 on HOST`, `pid 12 on HOST in PLACE` (a lease taken in GitHub Actions). Its parts come
    from records anyone may edit (a deploy.lock, a lease template), so each is written in the one
    shape `public_holders` recognises wherever a message puts it (`held by pid 12 on HOST (...)`,
    `if you are sure pid 12 on HOST in acme/api:main is gone`), and none can bring the host to a
    public page or job log (ADR 39): the pid as digits, `?` when it is unknown or not a number
    (`pid ? on HOST`); the host as a name of `A-Za-z0-9._-`, any other run of characters written
    `_`, `?` for none; the place only as `author.applied_from` writes it in Actions
    (owner/repo[:branch]), else left out."""
    return f"pid {_shown_pid(pid)} on {_shown_host(host)}" + (f" in {shown}" if (shown := _shown_place(place)) else "")


def holder_place(holder: str, pid: object, host: object) -> str | None:
    """The place a recorded holder line gives (`pid 12 on HOST in PLACE (...)`, a lease's
    GPUCTL_LEASE_HOLDER), when it names this `pid` on this `host`: what a view built from the
    lease's pid and host alone (deploy's hint) adds, to say where the holder runs as the
    refusal does. None when the line gives none, or names another holder."""
    found = _HOLDER.match(holder)
    if found is None or found["pid"] != _shown_pid(pid) or found["host"] != _shown_host(host):
        return None
    return found["place"]


def _shown_pid(pid: object) -> str:
    if isinstance(pid, int) and not isinstance(pid, bool) and 0 <= pid < 10 ** 20:
        return str(pid)
    return pid if isinstance(pid, str) and re.fullmatch(r"[0-9]{1,20}", pid) else "?"


def _shown_host(host: object) -> str:
    text = re.sub(r"[^A-Za-z0-9._-]+", "_", host)[:100].strip(".") if isinstance(host, str) else ""
    return text or "?"


def _shown_place(place: object) -> str | None:
    text = place.rstrip(".") if isinstance(place, str) else ""
    return text if re.fullmatch(_PLACE_IN_TEXT, text) else None


_HOST_IN_TEXT = r"\?|[A-Za-z0-9._-]*[A-Za-z0-9_-]"  # as `_shown_host` writes it: it never ends with the dot that may end a sentence
_PLACE_IN_TEXT = r"[A-Za-z0-9._-]+/[A-Za-z0-9._-]*[A-Za-z0-9_-](?::[A-Za-z0-9._/-]*[A-Za-z0-9_/-])?"  # owner/repo[:branch], no dot last
# A holder inside a message (`holder_name`), wherever it stands; not one shown already (`on a machine outside ...`).
_HOLDER_IN_TEXT = re.compile(rf"pid (?:[0-9]+|\?) on (?!{OUTSIDE_ACTIONS}\b)(?:{_HOST_IN_TEXT})(?: in {_PLACE_IN_TEXT})?")


def public_text(text: str, repository: str | None) -> str:
    """`text` as a page or log on GitHub may show it: its lease holders without their host
    (`public_holders`) and the repositories it names by `public_repositories`. The one rule for
    what a GitHub job writes (github.job.Job.clean, github.job.PublicLog)."""
    return public_repositories(public_holders(text), repository)


# A repository a message names (`of repository github.com:owner/repo`, ADR 60's notes: planner._other_repository), as
# remote_repository keeps it (a host, then a path of segments, a self-hosted forge's groups too; a record of an
# earlier gpuctl without host); no dot last (a sentence's).
_REPOSITORY_IN_TEXT = re.compile(r"\brepository (?:(?P<host>[A-Za-z0-9.-]+):)?(?P<owner>[A-Za-z0-9._-]+)(?:/[A-Za-z0-9._-]+)*/[A-Za-z0-9._-]*[A-Za-z0-9_-]")
PUBLIC_HOST = "github.com"  # the one host a page on GitHub names (ADR 62): any other may be a company's private forge


def public_repositories(text: str, repository: str | None) -> str:
    """`text` with each repository it names (`repository github.com:owner/repo`) written
    ANOTHER_REPOSITORY unless its owner is that of `repository` (this run's, GITHUB_REPOSITORY)
    and its host, when it names one, is github.com (review 11, R11-7, R11-9): a record's
    repository may come from a laptop's private remote on a company's forge, and the drift issue
    and plan comment of a public repository are public. With no `repository` known none is named."""

    def shown(found: re.Match) -> str:
        public = _owned(found["owner"], repository) and found["host"] in (None, PUBLIC_HOST)
        return found.group(0) if public else ANOTHER_REPOSITORY
    return _REPOSITORY_IN_TEXT.sub(shown, text)


def public_repository_place(where: str | None, repository: str | None) -> str | None:
    """`where` (an apply's place, `applied_from`) as a page of `repository` (GITHUB_REPOSITORY) may
    show it: by `public_place`, and a GitHub Actions place of a repository `public_repositories`
    would not name as ANOTHER_REPOSITORY (review 11, F4)."""
    shown = public_place(where)
    theirs = place_repository(shown)
    return ANOTHER_REPOSITORY if theirs is not None and not _owned(theirs.split("/", 1)[0], repository) else shown


def _owned(owner: str, repository: str | None) -> bool:
    """Whether `owner` owns `repository` too (GitHub names owners case-insensitively); never with no repository known."""
    return bool(repository) and "/" in repository and repository.split("/", 1)[0].casefold() == owner.casefold()


def public_holders(text: str) -> str:
    """`text` with every lease holder it names (`holder_name`: the exit 3 refusal's
    `pid 12 on HOST (...)`, the notes of a wait or a takeover, deploy's hint `if you are sure pid 12
    on HOST is gone`) shown by `public_holder`: for what a GitHub job writes (github.job.Job.clean,
    github.job.PublicLog), since those messages reach the job summary, the comments and the job log
    whole (ADR 39, ADR 48). A holder is recognised by its own words, not by what follows it."""
    return _HOLDER_IN_TEXT.sub(lambda found: public_holder(found.group(0)), text)


def public_holder(holder: str) -> str:
    """An account lease's holder as gpuctl writes it (`pid 12 on HOST (`gpu serverless deploy`,
    since ...)`, with ` in owner/repo:branch` after HOST in GitHub Actions) as a public page may
    show it, by the rule of `public_place`: `pid 12 in owner/repo:branch (...)` for a run of
    Actions, `pid 12 on a machine outside GitHub Actions (...)` for any other; the host never.
    A holder of any other shape (written by hand) is not shown. A holder shown so already is
    left as it is. A gpuctl before ADR 39 recorded no place in a lease it took in GitHub
    Actions (`pid 12 on fv-az123-456 (...)`): one whose host is a GitHub-hosted runner's name
    (`_HOSTED_RUNNER`) is shown `pid 12 in GitHub Actions (...)`, a label like the place
    itself, not proof (ADR 48); a self-hosted runner's cannot be told from a laptop's."""
    found = _HOLDER.match(holder)
    if found is None:
        return "a holder not shown here"
    if found["run"] or (found["host"] and not found["place"] and _HOSTED_RUNNER.fullmatch(found["host"])):
        return f"pid {found['pid']} in {ACTIONS_RUN}{holder[found.end():]}"
    place = public_place(found["place"] or found["shown"] or "")
    where = f"in {place}" if place != OUTSIDE_ACTIONS else f"on {OUTSIDE_ACTIONS}"
    return f"pid {found['pid']} {where}{holder[found.end():]}"
