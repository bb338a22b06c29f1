"""Whether gpuctl's token wrote a comment or an issue. A hidden marker is only text: anyone may
comment on a pull request or open an issue (on a public repository, anyone at all) and start it
with the marker. Only what the token wrote is gpuctl's, to edit, delete or close; the rest is
someone else's, never touched (editing it would put gpuctl's text under its author's name, for
them to edit back)."""

from __future__ import annotations

from gpuctl.github.client import GitHub, GitHubError


class Author:
    """Whether the job's token wrote a comment or issue. The Actions token and GitHub Apps write
    as a bot, which no person can post as; a personal token writes as its user, asked for
    (`GET /user`) only when a person's text carries the marker. A token that cannot say who it
    is (an installation token: 403) is a bot, so a person's text is not its own."""

    def __init__(self, gh: GitHub):
        self._gh = gh
        self._me: int | None | bool = False  # False: not asked yet

    def wrote(self, item: dict) -> bool:
        user = item.get("user") or {}
        if user.get("type") == "Bot":
            return True
        if self._me is False:
            try:
                self._me = (self._gh.request("GET", "/user") or {}).get("id")
            except GitHubError as exc:
                if exc.status not in (401, 403, 404):
                    raise
                self._me = None
        return self._me is not None and user.get("id") == self._me


def login(item: dict) -> str:
    return f"@{(item.get('user') or {}).get('login', '?')}"
