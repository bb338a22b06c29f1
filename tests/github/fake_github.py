"""A fake GitHub REST API on loopback: the issues, comments, labels, pull requests and
artifacts gpuctl's GitHub commands use, kept in memory. It rejects any call without the token
(401, as GitHub does), refuses bodies over GitHub's 65,536-character limit (422), pages every
listing with Link headers (`page_cap` makes pages small so paging is exercised), records every
request, and can answer with canned responses first (to any request, or to comment writes)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import posixpath
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

BODY_LIMIT = 65_536
LISTING_LIMIT = 1000  # the contents API lists at most this many entries of a directory
BASE_SHA = "ba5e" * 10  # a pull request's base commit, unless a test names another
BOT = {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"}


@dataclass
class Canned:
    status: int
    headers: dict[str, str]
    body: Any  # JSON; bytes are sent as they are, as text/html (a proxy's page)


@dataclass
class Gate:
    """Holds the first request whose `METHOD path` matches `pattern` until the test releases it:
    `arrived` is set when it comes in, and it is answered once `release` is set."""

    pattern: str
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


@dataclass
class FakeGitHub:
    token: str
    repository: str = "acme/ml-api"
    repository_id: int = 1
    page_cap: int = 100
    issues: dict[int, dict] = field(default_factory=dict)
    pulls: dict[int, dict] = field(default_factory=dict)
    comments: dict[int, dict] = field(default_factory=dict)
    labels: dict[str, dict] = field(default_factory=dict)
    commit_pulls: dict[str, list[int]] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)  # branch -> the commit it is at (a merge moves the base branch)
    artifacts: list[dict] = field(default_factory=list)
    trees: dict[str, dict[str, bytes]] = field(default_factory=dict)  # commit SHA -> {path: content}, for /contents and /git/trees
    links: dict[str, set[str]] = field(default_factory=dict)  # commit SHA -> the paths of its trees entry that are symbolic links
    tree_truncated: bool = False  # GET /git/trees answers `truncated` (a repository too large to list whole)
    requests: list[dict] = field(default_factory=list)
    canned: list[Canned] = field(default_factory=list)
    comment_refusals: list[Canned] = field(default_factory=list)  # answers to the next comment writes (POST, PATCH, DELETE), in turn
    token_user: dict | None = None  # the account the token writes as (and GraphQL's viewer); None: the Actions token's bot
    viewer_errors: list[dict] | None = None  # GraphQL's answer to `viewer` is these errors, with no data
    gates: list[Gate] = field(default_factory=list)  # requests held until the test releases them (each gate holds one)
    url: str = ""
    _current: str = ""  # the path being answered, for the Link header
    _next_id: int = 1000
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- what a test sets up or reads ---------------------------------------------------------

    def add_pull(self, number: int, head_sha: str, head_repo: str | None = None, head_repo_id: int | None = None, base_sha: str = BASE_SHA) -> dict:
        pull = {"number": number, "state": "open", "merged_at": None, "merge_commit_sha": None,
                "head": {"sha": head_sha, "repo": {"full_name": head_repo or self.repository, "id": head_repo_id or self.repository_id}},
                "base": {"ref": "main", "sha": base_sha, "repo": {"full_name": self.repository, "id": self.repository_id}}}
        self.pulls[number] = pull
        self.issues[number] = {"number": number, "title": f"PR {number}", "body": "", "state": "open", "labels": [], "pull_request": {"url": ""}}
        return pull

    def merge(self, number: int, merge_sha: str, when: str = "2026-01-02T03:04:05Z") -> None:
        self.pulls[number] |= {"state": "closed", "merged_at": when, "merge_commit_sha": merge_sha}
        self.commit_pulls.setdefault(merge_sha, []).append(number)
        self.branches[self.pulls[number]["base"]["ref"]] = merge_sha

    def add_artifact(self, name: str, run: dict, files: dict[str, bytes]) -> dict:
        """An artifact as upload-artifact leaves it; `run` is the uploading run's workflow_run
        summary (id, head_sha, head_repository_id)."""
        with self._lock:
            self._next_id += 1
            artifact = {"id": self._next_id, "name": name, "expired": False, "created_at": f"2026-01-01T00:00:{len(self.artifacts):02d}Z",
                        "workflow_run": {"repository_id": self.repository_id, **run}, "files": dict(files)}
            self.artifacts = [a for a in self.artifacts if not (a["name"] == name and a["workflow_run"]["id"] == run["id"])] + [artifact]
        return artifact

    def add_tree(self, sha: str, directory) -> None:
        """The files of commit `sha`, read from a checkout `directory` (a Path), for GET /contents.
        A symbolic link is kept as git keeps it: a blob holding the link's text (`links`)."""
        files, links = {}, set()
        for folder, dirs, names in os.walk(directory):
            for name in dirs + names:
                entry = Path(folder) / name
                path = entry.relative_to(directory).as_posix()
                if entry.is_symlink():
                    files[path] = os.fsencode(os.readlink(entry))
                    links.add(path)
                elif entry.is_file():
                    files[path] = entry.read_bytes()
        self.trees[sha], self.links[sha] = files, links

    def _contents(self, query: dict, path: str):
        """GET /contents/PATH?ref=: a file with its content, or a directory's entries (only its
        own, each with name, path, sha and type; at most LISTING_LIMIT of them, as GitHub lists)."""
        from urllib.parse import unquote

        files, path = self.trees.get(query.get("ref", "")), unquote(path).strip("/")
        if files is None:
            return 404, {}, {"message": "No commit found for the ref"}
        links = self.links.get(query.get("ref", ""), set())
        if path in links:  # GitHub answers with the file a link leads to when it is a file of the repository, else with the link
            target = posixpath.normpath(posixpath.join(posixpath.dirname(path), files[path].decode()))
            if target not in files or target in links:
                return 200, {}, {"type": "symlink", "name": path.rsplit("/", 1)[-1], "path": path, "sha": _blob(files[path]), "target": files[path].decode()}
            path = target
        if path in files:
            data = files[path]
            return 200, {}, {"type": "file", "name": path.rsplit("/", 1)[-1], "path": path, "sha": _blob(data),
                             "encoding": "base64", "content": base64.encodebytes(data).decode()}
        entries = self._entries(files, path, links)
        if entries:
            return 200, {}, [{"type": "dir" if e["type"] == "tree" else "symlink" if e["mode"] == "120000" else "file", "name": e["path"].rsplit("/", 1)[-1], "path": e["path"],
                              "sha": e["sha"]} for e in entries[:LISTING_LIMIT]]
        return 404, {}, {"message": "Not Found"}

    @staticmethod
    def _entries(files: dict[str, bytes], folder: str, links: set[str] = frozenset()) -> list[dict]:
        """The entries directly in `folder` ("" the root) of a commit's files, as the trees API
        names them (a directory's sha is a stand-in: the fake keeps no tree objects)."""
        prefix = folder + "/" if folder else ""
        found: dict[str, dict] = {}
        for path, data in files.items():
            if not path.startswith(prefix):
                continue
            name, _, rest = path[len(prefix):].partition("/")
            entry = prefix + name
            found[entry] = ({"path": entry, "mode": "040000", "type": "tree", "sha": hashlib.sha1(entry.encode()).hexdigest()} if rest
                            else {"path": entry, "mode": "120000" if entry in links else "100644", "type": "blob", "sha": _blob(data)})
        return [found[k] for k in sorted(found)]

    def _tree(self, query: dict, sha: str):
        """GET /git/trees/SHA[?recursive=1] for a commit SHA: its root's entries, or every entry."""
        files = self.trees.get(sha)
        if files is None:
            return 404, {}, {"message": "Not Found"}
        if query.get("recursive"):
            folders = {"/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/") + 1)}
            entries = [e for f in sorted(folders | {""}) for e in self._entries(files, f, self.links.get(sha, set()))]
        else:
            entries = self._entries(files, "", self.links.get(sha, set()))
        return 200, {}, {"sha": sha, "tree": sorted(entries, key=lambda e: e["path"]), "truncated": self.tree_truncated}

    def artifact(self, run_id: int, name: str) -> dict | None:
        return next((a for a in self.artifacts if a["workflow_run"]["id"] == run_id and a["name"] == name), None)

    def add_comment(self, number: int, body: str, user: dict) -> dict:
        """A comment someone posted on the pull request or issue, as `user`."""
        comment = {"id": self._new_id(), "issue_number": number, "body": body, "user": user}
        self.comments[comment["id"]] = comment
        return comment

    def comments_on(self, number: int) -> list[dict]:
        return [c for c in self.comments.values() if c["issue_number"] == number]

    def real_issues(self) -> list[dict]:
        return [i for i in self.issues.values() if "pull_request" not in i]

    def writes(self) -> list[dict]:
        return [r for r in self.requests if r["method"] != "GET" and r["path"] != "/graphql"]  # a GraphQL query reads

    # -- the server -----------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: Any) -> tuple[int, dict[str, str], Any]:
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        authorized = headers.get("authorization") in (f"Bearer {self.token}", f"token {self.token}")
        self.requests.append({"method": method, "path": parts.path, "query": query, "body": body, "authorized": authorized})
        gate = next((g for g in self.gates if not g.arrived.is_set() and re.fullmatch(g.pattern, f"{method} {parts.path}")), None)
        if gate is not None:
            gate.arrived.set()
            gate.release.wait()
        if not authorized:
            return 401, {}, {"message": "Bad credentials"}
        if self.canned:
            canned = self.canned.pop(0)
            return canned.status, canned.headers, canned.body
        if self.comment_refusals and method != "GET" and re.search(r"/issues/(\d+/)?comments", parts.path):
            refusal = self.comment_refusals.pop(0)
            return refusal.status, refusal.headers, refusal.body
        if parts.path == "/user" and method == "GET":  # as GitHub: the Actions token and App installation tokens may not ask
            return (200, {}, self.token_user) if self.token_user and self.token_user["type"] == "User" else (403, {}, {"message": "Resource not accessible by integration"})
        if parts.path == "/graphql" and method == "POST":
            return self._graphql(body)
        prefix = f"/repos/{self.repository}"
        if not parts.path.startswith(prefix + "/"):
            return 404, {}, {"message": "Not Found"}
        with self._lock:
            self._current = parts.path
            return self._route(method, parts.path[len(prefix):], query, body)

    def _route(self, method: str, path: str, query: dict, body: Any) -> tuple[int, dict[str, str], Any]:
        for pattern, verb, handler in self._routes():
            found = re.fullmatch(pattern, path)
            if found and verb == method:
                return handler(query, body, *found.groups())
        return 404, {}, {"message": "Not Found"}

    def _routes(self):
        return [
            (r"/issues/(\d+)/comments", "GET", lambda q, b, n: self._page(q, [c for c in self.comments.values() if c["issue_number"] == int(n)])),
            (r"/issues/(\d+)/comments", "POST", lambda q, b, n: self._create_comment(int(n), b)),
            (r"/issues/comments/(\d+)", "PATCH", lambda q, b, i: self._edit_comment(int(i), b)),
            (r"/issues/comments/(\d+)", "DELETE", lambda q, b, i: self._delete_comment(int(i))),
            (r"/issues", "GET", lambda q, b: self._page(q, self._filtered_issues(q))),
            (r"/issues", "POST", lambda q, b: self._create_issue(b)),
            (r"/issues/(\d+)", "PATCH", lambda q, b, n: self._edit_issue(int(n), b)),
            (r"/labels/([^/]+)", "GET", lambda q, b, name: (200, {}, self.labels[name]) if name in self.labels else (404, {}, {"message": "Not Found"})),
            (r"/labels", "POST", lambda q, b: self._create_label(b)),
            (r"/pulls/(\d+)", "GET", lambda q, b, n: (200, {}, self.pulls[int(n)]) if int(n) in self.pulls else (404, {}, {"message": "Not Found"})),
            (r"/commits/([0-9a-f]+)/pulls", "GET", lambda q, b, sha: self._page(q, [self.pulls[n] for n in self.commit_pulls.get(sha, [])])),
            (r"/git/ref/heads/(.+)", "GET", lambda q, b, name: (200, {}, {"ref": f"refs/heads/{name}", "object": {"type": "commit", "sha": self.branches[name]}})
             if name in self.branches else (404, {}, {"message": "Not Found"})),
            (r"/contents/(.*)", "GET", lambda q, b, path: self._contents(q, path)),
            (r"/git/trees/([0-9a-f]+)", "GET", lambda q, b, sha: self._tree(q, sha)),
            (r"/actions/artifacts", "GET", lambda q, b: self._page(q, [self._artifact_view(a) for a in self.artifacts if a["name"] == q.get("name", a["name"])], key="artifacts")),
        ]

    def _graphql(self, body: Any) -> tuple[int, dict[str, str], Any]:
        """GraphQL, as far as gpuctl asks it: `viewer { login }`, which any token may ask."""
        if not isinstance(body, dict) or re.fullmatch(r"query \{ viewer \{ login \} \}", str(body.get("query"))) is None:
            return 200, {}, {"errors": [{"message": "this fake answers only `query { viewer { login } }`"}]}
        if self.viewer_errors is not None:
            return 200, {}, {"data": None, "errors": self.viewer_errors}
        return 200, {}, {"data": {"viewer": {"login": (self.token_user or BOT)["login"]}}}

    def _page(self, query: dict, items: list, key: str | None = None) -> tuple[int, dict[str, str], Any]:
        size = min(int(query.get("per_page", 30)), self.page_cap)
        page = int(query.get("page", 1))
        chunk = items[(page - 1) * size: page * size]
        headers = {}
        if page * size < len(items):
            headers["Link"] = f'<{self.url}{self._current}?{urlencode(query | {"page": page + 1})}>; rel="next"'
        return 200, headers, ({"total_count": len(items), key: chunk} if key else chunk)

    def _too_long(self, body: Any) -> tuple[int, dict, dict] | None:
        if isinstance(body, dict) and len(body.get("body") or "") > BODY_LIMIT:
            return 422, {}, {"message": "Validation Failed", "errors": [{"field": "body", "code": "custom", "message": "body is too long (maximum is 65536 characters)"}]}
        return None

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _create_comment(self, number: int, body: dict):
        if number not in self.issues:
            return 404, {}, {"message": "Not Found"}
        if self._too_long(body):
            return self._too_long(body)
        comment_id = self._new_id()
        comment = {"id": comment_id, "issue_number": number, "body": body["body"], "user": self.token_user or BOT,
                   "html_url": f"https://github.com/{self.repository}/pull/{number}#issuecomment-{comment_id}"}
        self.comments[comment["id"]] = comment
        return 201, {}, comment

    def _edit_comment(self, comment_id: int, body: dict):
        if comment_id not in self.comments:
            return 404, {}, {"message": "Not Found"}
        if self._too_long(body):
            return self._too_long(body)
        self.comments[comment_id]["body"] = body["body"]
        return 200, {}, self.comments[comment_id]

    def _delete_comment(self, comment_id: int):
        return (204, {}, None) if self.comments.pop(comment_id, None) else (404, {}, {"message": "Not Found"})

    def _filtered_issues(self, query: dict) -> list[dict]:
        state, label = query.get("state", "open"), query.get("labels")
        return [i for i in self.issues.values() if state in ("all", i["state"]) and (label is None or label in [x["name"] for x in i["labels"]])]

    def _create_issue(self, body: dict):
        if self._too_long(body):
            return self._too_long(body)
        unknown = [name for name in body.get("labels", []) if name not in self.labels]
        if unknown:
            return 422, {}, {"message": "Validation Failed", "errors": [{"field": "labels", "code": "invalid"}]}
        number = max([0, *self.issues]) + 1
        issue = {"number": number, "title": body["title"], "body": body.get("body", ""), "state": "open", "state_reason": None,
                 "labels": [self.labels[n] for n in body.get("labels", [])], "user": self.token_user or BOT}
        self.issues[number] = issue
        return 201, {}, issue

    def _edit_issue(self, number: int, body: dict):
        if number not in self.issues:
            return 404, {}, {"message": "Not Found"}
        if self._too_long(body):
            return self._too_long(body)
        self.issues[number] |= {k: v for k, v in body.items() if k in ("title", "body", "state", "state_reason")}
        return 200, {}, self.issues[number]

    def _create_label(self, body: dict):
        if body["name"] in self.labels:
            return 422, {}, {"message": "Validation Failed", "errors": [{"resource": "Label", "code": "already_exists", "field": "name"}]}
        self.labels[body["name"]] = {"name": body["name"], "color": body.get("color"), "description": body.get("description")}
        return 201, {}, self.labels[body["name"]]

    @staticmethod
    def _artifact_view(artifact: dict) -> dict:
        return {k: v for k, v in artifact.items() if k != "files"}


def _blob(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def serve(fake: FakeGitHub) -> ThreadingHTTPServer:
    """Start `fake` on 127.0.0.1 (a free port) in a daemon thread; `fake.url` is its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            status, headers, payload = fake.handle(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            raw_page = isinstance(payload, bytes)
            data = payload if raw_page else b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "text/html" if raw_page else "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _answer

        def log_message(self, *args) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
