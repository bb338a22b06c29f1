"""Whether gpuctl's token wrote a comment or an issue ([ADR 27](../../docs/adr/0027-whose-comment-is-gpuctl-s.md)).
A hidden marker is only text: anyone may comment on a pull request or open an issue (on a
public repository, anyone at all) and start it with the marker, and so may any GitHub App
installed on the repository and any other workflow's bot. Only what the token's own account
wrote is gpuctl's, to edit, delete or close; the rest is someone else's, never touched
(editing it would put gpuctl's text under its author's name, for them to edit back)."""

from __future__ import annotations

from gpuctl.github.client import GitHub

AUTHORED = {"user.login": (str, type(None))}  # what `Author` reads of a comment or issue, checked by the client


class Author:
    """Whether the job's token wrote a comment or issue: its author's login is the login of the
    account the token writes as (`GitHub.whoami`: GPU_GITHUB_LOGIN, or GitHub's answer, asked
    only once a body carries the marker). Being a bot is not enough: every GitHub App writes as
    a bot. A login is unique and a person's login never holds `[bot]`."""

    def __init__(self, gh: GitHub):
        self._gh = gh

    def wrote(self, item: dict) -> bool:
        login = (item.get("user") or {}).get("login")
        return isinstance(login, str) and login.lower() == self._gh.whoami().lower()

    def check_created(self, item: dict, what: str) -> None:
        """When the login was given (GPU_GITHUB_LOGIN) and GitHub says what the token just
        created is someone else's, the login is wrong: the next run would not find it again
        (and would take the given account's text for gpuctl's). Say so in the job's log."""
        given, login = self._gh.login, (item.get("user") or {}).get("login")
        if self._gh.login_given and isinstance(login, str) and given and login.lower() != given.lower():
            self._gh.note(f"warning: the {what} gpuctl just wrote is by @{login}, but GPU_GITHUB_LOGIN (the action's github-login input) says @{given}: "
                          f"set it to {login}, or leave it empty, or the next run will not find this {what} again")


def login(item: dict) -> str:
    return f"@{(item.get('user') or {}).get('login', '?')}"
