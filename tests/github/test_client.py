"""The GitHub REST client against the fake API in-process (its pauses recorded, never slept),
the comment split, and the step-output format."""

from __future__ import annotations

import re

import pytest

from gpuctl.github import comments
from gpuctl.errors import GpuctlError
from gpuctl.github.client import GitHub, GitHubError
from gpuctl.github.env import write_outputs
from gpuctl.github.parts import BUDGET, COMMENT_LIMIT, read_marker, split
from tests.github.actions import read_outputs
from tests.github.conftest import TOKEN
from tests.github.fake_github import Canned


@pytest.fixture
def client(fake):
    slept: list[float] = []
    gh = GitHub(fake.url, TOKEN, fake.repository, sleep=slept.append, clock=lambda: 1_000_000.0)
    gh.slept = slept
    yield gh
    gh.close()


def test_listings_are_followed_page_by_page(fake, client):
    fake.page_cap = 2
    fake.add_pull(5, "a" * 40)
    for i in range(5):
        fake.comments[i] = {"id": i, "issue_number": 5, "body": f"comment {i}", "user": {}}
    found = list(client.paginate(client.repo("issues", 5, "comments")))
    assert [c["id"] for c in found] == [0, 1, 2, 3, 4]
    assert [r["query"].get("page", "1") for r in fake.requests] == ["1", "2", "3"]


def test_the_sticky_comment_is_found_on_a_later_page(fake, client):
    fake.page_cap = 2
    fake.add_pull(5, "a" * 40)
    comments.upsert(client, 5, "gpu.jsonc", "first plan")
    for i in range(5):
        fake.comments[i] = {"id": i, "issue_number": 5, "body": f"a reviewer's comment {i}", "user": {}}
    posted = comments.upsert(client, 5, "gpu.jsonc", "second plan")
    assert (posted.created, posted.updated) == (0, 1)
    assert [read_marker(c["body"]) is not None for c in fake.comments_on(5)].count(True) == 1


def test_a_call_without_the_right_token_gets_a_hint_and_never_shows_the_token(fake):
    wrong = "ghs_wrongTOKEN_987654321"
    gh = GitHub(fake.url, wrong, fake.repository)
    with pytest.raises(GitHubError) as caught:
        gh.request("GET", gh.repo("issues"))
    assert caught.value.status == 401 and "github-token" in caught.value.hint
    assert wrong not in caught.value.format() and TOKEN not in caught.value.format()
    assert fake.requests[-1]["authorized"] is False


@pytest.mark.parametrize("canned, wait", [
    (Canned(429, {"Retry-After": "7"}, {"message": "slow down"}), 7.0),
    (Canned(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1000030"}, {"message": "API rate limit exceeded"}), 30.0),
    (Canned(403, {}, {"message": "You have exceeded a secondary rate limit"}), 60.0),
])
def test_a_rate_limit_is_waited_out_as_github_asks(fake, client, canned, wait):
    fake.canned.append(canned)
    assert client.request("GET", client.repo("issues"), answer=list) == []
    assert client.slept == [wait]
    assert len(fake.requests) == 2


def test_a_spent_limit_holds_back_the_next_request_until_its_reset(fake, client):
    fake.canned.append(Canned(200, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1000012"}, []))
    client.request("GET", client.repo("issues"), answer=list)
    client.request("GET", client.repo("issues"), answer=list)
    assert client.slept == [12.0]


def test_a_wait_longer_than_gpuctl_waits_fails_with_the_time(fake, client):
    fake.canned.append(Canned(429, {"Retry-After": "3600"}, {"message": "slow down"}))
    with pytest.raises(GitHubError, match="3600 s"):
        client.request("GET", client.repo("issues"), answer=list)
    assert client.slept == []


def test_a_server_error_that_persists_says_it_was_retried_and_to_re_run_the_job_later(fake, client):
    """GitHub answers 502 to every try of a read: the waits between tries are gpuctl's own
    (GitHub asked for none), and the error says how many tries failed and what to do on a
    runner (re-run the job later), not `--debug`, which a scheduled job cannot be given."""
    notes: list[str] = []
    client.note = notes.append
    for _ in range(client.attempts):
        fake.canned.append(Canned(502, {}, {"message": "Server Error"}))
    with pytest.raises(GitHubError) as caught:
        client.request("GET", client.repo("issues"), answer=list)
    assert len(fake.requests) == client.attempts and client.slept == [2.0 ** n for n in range(1, client.attempts)]
    assert notes and not [n for n in notes if "as it asks" in n], notes
    assert notes[0] == "note: GitHub answered 502; trying again in 2 s"
    assert caught.value.summary == f"GitHub rejected GET /repos/acme/ml-api/issues (502): Server Error, {client.attempts} times"
    assert "--debug" not in caught.value.hint and "re-run the job" in caught.value.hint and "GitHub's side" in caught.value.hint


def test_a_permission_error_names_the_permission(fake, client):
    fake.canned.append(Canned(403, {}, {"message": "Resource not accessible by integration"}))
    with pytest.raises(GitHubError) as caught:
        client.request("POST", client.repo("issues"), json={"title": "x"})
    assert "issues: write" in caught.value.hint and "Resource not accessible" in caught.value.summary


def test_a_denied_contents_read_names_contents_read(fake, client):
    """The fork flow reads the pull request's files through the contents API (`contents: read`)."""
    fake.canned.append(Canned(403, {}, {"message": "Resource not accessible by integration"}))
    with pytest.raises(GitHubError) as caught:
        client.request("GET", client.repo("contents", "gpu.jsonc"), params={"ref": "a" * 40})
    assert "`permissions: contents: read`" in caught.value.hint


def test_the_token_is_never_sent_in_clear_text_off_this_machine():
    with pytest.raises(GitHubError, match="refusing to send the GitHub token"):
        GitHub("http://api.example.com", TOKEN, "acme/x")


def test_a_fold_of_folds_cut_over_several_parts_is_closed_and_reopened_whole():
    """An apply comment that replaces a refusal folds the refusal, with its plan's own sections,
    under `<details>` (comments._earlier). Cut over parts, each part must close and reopen every
    open fold, the outer one too: measured before, the first part left the outer fold open and
    the second showed the refusal's sections outside it, as if they were this run's result."""
    inner = "".join(f"<details open><summary>r{i}</summary>\n\n```diff\n" + "~ x = 1 → 2\n" * 40 + "```\n</details>\n" for i in range(200))
    markdown = "### applied\n\n<details><summary>Before this run</summary>\n\n" + inner + "\n</details>\n"
    parts = split(markdown, BUDGET)
    assert len(parts) > 1
    for part in parts:
        assert part.count("```") % 2 == 0 and part.count("<details") == part.count("</details>"), part[-300:]
    assert all(part.startswith("<details><summary>Before this run</summary>") for part in parts[1:])  # still inside the fold
    assert sum(p.count("<summary>r") for p in parts) >= 200


def test_every_part_fits_and_renders_even_when_one_block_is_larger_than_a_part():
    block = "<details><summary>huge</summary>\n\n```diff\n" + "".join(f"+ line {i} {'é' * 40}\n" for i in range(3000)) + "```\n</details>\n"
    markdown = "### heading\n\n" + block + "<details><summary>small</summary>\n\n```diff\n+ x\n```\n</details>\n"
    parts = split(markdown, 20_000, most=100)  # the cap on parts is tested in test_plan_workflow
    assert len(parts) > 5 and all(len(p.encode()) <= 20_000 for p in parts)
    assert all(p.count("```") % 2 == 0 and p.count("<details") == p.count("</details>") for p in parts)
    assert sum(p.count("+ line ") for p in parts) == 3000
    assert split("short", BUDGET) == ["short"]


def test_outputs_use_a_random_delimiter_so_a_value_cannot_set_another_output(tmp_path):
    path = tmp_path / "output"
    write_outputs(path, {"summary": "line one\nexit_code=0\nEOF", "exit_code": "2"})
    write_outputs(path, {"plain": "x"})
    text = path.read_text()
    assert read_outputs(text) == {"summary": "line one\nexit_code=0\nEOF", "exit_code": "2", "plain": "x"}
    delimiters = [line.split("<<", 1)[1] for line in text.splitlines() if "<<" in line]
    assert len(set(delimiters)) == 3 and all(d.startswith("ghadelimiter_") and len(d) > 40 for d in delimiters)


def test_a_missing_resource_says_which_and_what_to_check(fake, client):
    with pytest.raises(GitHubError) as caught:
        client.request("GET", client.repo("pulls", 404))
    assert caught.value.status == 404 and "/repos/acme/ml-api/pulls/404" in caught.value.summary
    assert "GITHUB_REPOSITORY (acme/ml-api)" in caught.value.hint


def test_the_token_s_account_is_asked_of_graphql_once(fake, client):
    """GraphQL's `viewer` names the account any kind of token writes as (REST `GET /user`
    refuses the Actions token and App installation tokens); gpuctl asks once per run."""
    assert client.whoami() == "github-actions[bot]" and client.whoami() == "github-actions[bot]"
    assert [(r["method"], r["path"]) for r in fake.requests] == [("POST", "/graphql")]


@pytest.mark.parametrize("api, given, expected", [
    ("https://api.github.com", None, "https://api.github.com/graphql"),
    ("https://ghe.example.com/api/v3", None, "https://ghe.example.com/api/graphql"),
    ("https://ghe.example.com/api/v3", "https://ghe.example.com/api/graphql/", "https://ghe.example.com/api/graphql"),
])
def test_the_graphql_endpoint_is_beside_the_rest_api(api, given, expected):
    from gpuctl.github.client import graphql_url_for

    assert graphql_url_for(api, given) == expected


def test_the_token_never_goes_to_a_graphql_endpoint_on_another_host():
    with pytest.raises(GitHubError) as caught:
        GitHub("https://api.github.com", TOKEN, "acme/ml-api", graphql_url="https://evil.example/graphql")
    assert "evil.example" in caught.value.summary and "GITHUB_GRAPHQL_URL" in caught.value.hint


def test_a_given_login_is_used_without_asking_and_must_be_a_login(fake):
    gh = GitHub(fake.url, TOKEN, fake.repository, login="acme-deployer[bot]")
    assert gh.whoami() == "acme-deployer[bot]" and not fake.requests
    assert GitHub(fake.url, TOKEN, fake.repository, login="mona_acme").whoami() == "mona_acme"  # an Enterprise Managed User
    with pytest.raises(GitHubError) as caught:
        GitHub(fake.url, TOKEN, fake.repository, login="@acme deployer")
    assert "GPU_GITHUB_LOGIN is not a GitHub login" in caught.value.summary and "<app-slug>[bot]" in caught.value.hint


def test_an_apply_comment_that_wrote_nothing_is_kept_folded_under_the_run_that_wrote(fake, client):
    """Refused, then applied (a run by hand), then applied again (a later merge's re-run that
    wrote): the refusal stays folded under each, once; a run that writes nothing keeps it all."""
    fake.add_pull(5, "a" * 40)
    comments.upsert(client, 5, "gpu.jsonc", "### refused: the plan is not the one reviewed\n", kind="apply", wrote=False)
    comments.upsert(client, 5, "gpu.jsonc", "### applied by hand\n", kind="apply", wrote=True)
    (body,) = [c["body"] for c in fake.comments_on(5)]
    assert body.index("applied by hand") < body.index("refused: the plan is not the one reviewed") and read_marker(body).wrote
    assert comments.upsert(client, 5, "gpu.jsonc", "### refused again\n", kind="apply", wrote=False).kept
    comments.upsert(client, 5, "gpu.jsonc", "### applied again\n", kind="apply", wrote=True)
    (body,) = [c["body"] for c in fake.comments_on(5)]
    assert "applied by hand" not in body and body.count("refused: the plan is not the one reviewed") == 1 and body.count("<details>") == 1, body


def test_a_long_config_path_s_marker_still_leaves_every_part_under_github_s_limit(fake, client):
    """The marker names the config by its percent-encoded path (three characters a byte outside
    ASCII): a deep path of non-ASCII directories (4,000 bytes, as Linux allows) made a marker of
    some 12,000 characters, on top of a part packed to BUDGET, and GitHub refused the comment (422)."""
    fake.add_pull(5, "a" * 40)
    key = "/".join(["設定" * 40] * 16) + "/gpu.jsonc"
    assert len(key.encode()) > 3800
    markdown = "".join(f"line {i} {'x' * 70}\n" for i in range(3000))
    posted = comments.upsert(client, 5, key, markdown)
    bodies = [c["body"] for c in fake.comments_on(5)]
    assert posted.created == len(bodies) > 1 and all(len(b) <= COMMENT_LIMIT for b in bodies)
    assert all(read_marker(b).key == key for b in bodies)


PROXY_PAGE = b"<html><body>\nerror: please log in to the proxy\n</body></html>"


def test_a_page_that_is_not_json_is_a_github_error_naming_the_request(fake, client):
    """A proxy or captive portal answers 200 with its own HTML page: measured before, `.json()`
    raised JSONDecodeError, which the job showed as an internal error."""
    fake.canned.append(Canned(200, {}, PROXY_PAGE))
    with pytest.raises(GitHubError) as caught:
        client.request("GET", client.repo("pulls", 5))
    summary = caught.value.summary
    assert summary.startswith("GitHub's answer to GET /repos/acme/ml-api/pulls/5 (200) is not JSON (text/html): <html>")
    assert "\n" not in summary and "\\n" in summary and "proxy" in caught.value.hint


@pytest.mark.parametrize("body, key", [
    (PROXY_PAGE, None),
    ({"message": "a listing was expected"}, None),
    ([{"id": 1}, "not an object"], None),
    ({"total_count": 1}, "artifacts"),
    ([], "artifacts"),
])
def test_a_listing_of_the_wrong_shape_is_a_github_error_naming_the_request(fake, client, body, key):
    """A KeyError or TypeError before (`body[key]`, `c["id"]` on a string)."""
    fake.canned.append(Canned(200, {}, body))
    with pytest.raises(GitHubError) as caught:
        list(client.paginate(client.repo(*(("actions", "artifacts") if key else ("issues",))), key=key))
    assert caught.value.summary.startswith(f"GitHub's answer to GET /repos/acme/ml-api/{'actions/artifacts' if key else 'issues'} (200) ")
    assert "\n" not in caught.value.summary


def test_github_s_message_stays_on_one_line(fake, client):
    """A newline in GitHub's message began a line of its own that read like gpuctl's (`error: ...`)."""
    fake.canned.append(Canned(422, {}, {"message": "Validation Failed\nerror: not gpuctl's line"}))
    with pytest.raises(GitHubError) as caught:
        client.request("POST", client.repo("issues"), json={"title": "x"})
    assert "\n" not in caught.value.summary and "Validation Failed\\nerror: not gpuctl's line" in caught.value.summary
    fake.canned.append(Canned(502, {}, PROXY_PAGE))
    client.attempts = 1
    with pytest.raises(GitHubError) as caught:
        client.request("GET", client.repo("issues"), answer=list)
    assert "\n" not in caught.value.summary and "<html>" in caught.value.summary


@pytest.mark.parametrize("url, sent", [
    ("https://api.github.com", True), ("https://ghe.example.com/api/v3/", True), ("http://127.0.0.1:8080", True),
    ("http://localhost:1", True), ("http://[::1]:9", True), ("http://api.example.com", False), ("http://127.0.0.2", False),
    ("http://localhost.example.com", False), ("ftp://127.0.0.1", False), ("HTTPS://API.GITHUB.COM", True),
])
def test_the_token_and_the_key_go_where_one_rule_says(url, sent):
    """One https-only rule (gpuctl.urls.check_https) for the GitHub token and the RunPod key:
    the two clients had each their own copy of it, and of the loopback names."""
    from gpuctl.provider.errors import InsecureURL
    from gpuctl.provider.http import check_base_url
    from gpuctl.github.client import check_api_url

    for check, refused in ((check_api_url, GitHubError), (check_base_url, InsecureURL)):
        if sent:
            assert check(url) == url.rstrip("/")
        else:
            with pytest.raises(refused, match="refusing to send the"):
                check(url)


def test_each_request_and_each_attempt_is_listed_under_debug_without_the_token(fake):
    """--debug lists GitHub's requests as it lists RunPod's: method, path, status, and which
    attempt it was, so a retried or rate-limited call shows; never the token."""
    slept, lines = [], []
    gh = GitHub(fake.url, TOKEN, fake.repository, sleep=slept.append, clock=lambda: 1_000_000.0, debug=lines.append)
    fake.canned.append(Canned(429, {"Retry-After": "7"}, {"message": "slow down"}))
    try:
        gh.request("GET", gh.repo("issues"), params={"state": "open"}, answer=list)
    finally:
        gh.close()
    assert [re.sub(r"\d+ ms", "N ms", line) for line in lines] == [
        "debug: GitHub GET /repos/acme/ml-api/issues?state=open -> 429 (attempt 1 of 4, N ms)",
        "debug: GitHub GET /repos/acme/ml-api/issues?state=open -> 200 (attempt 2 of 4, N ms)"]
    assert slept == [7.0]


def test_a_request_without_an_answer_is_listed_under_debug():
    lines = []
    gh = GitHub("http://127.0.0.1:9", TOKEN, "acme/ml-api", sleep=lambda s: None, debug=lines.append, attempts=2)
    with pytest.raises(GitHubError, match="cannot reach GitHub"):
        gh.request("GET", gh.repo("issues"))
    gh.close()
    assert [re.sub(r"\d+ ms", "N ms", line) for line in lines] == [
        f"debug: GitHub GET /repos/acme/ml-api/issues -> no answer (ConnectError) (attempt {n} of 2, N ms)" for n in (1, 2)]


@pytest.mark.parametrize("canned, wait", [
    (Canned(429, {"Retry-After": "nan"}, {"message": "slow down"}), 60.0),  # no time to wait: a secondary limit's minute
    (Canned(429, {"Retry-After": "-5"}, {"message": "slow down"}), 60.0),
    (Canned(403, {}, {"message": "You have triggered an abuse detection mechanism. Please wait a few minutes before you try again."}), 60.0),
    (Canned(503, {"Retry-After": "9"}, {"message": "Service Unavailable"}), 9.0),
])
def test_odd_and_older_rate_limit_answers_are_waited_out_as_github_asks(fake, client, canned, wait):
    fake.canned.append(canned)
    assert client.request("GET", client.repo("issues"), answer=list) == []
    assert client.slept == [wait]


def test_the_drift_job_lists_githubs_requests_under_debug(fake, monkeypatch, tmp_path):
    """`gpu --debug github drift` (GPUCTL_DEBUG in a workflow's env) shows GitHub's requests
    beside RunPod's, never the token."""
    import io

    from gpuctl.cli import main
    from gpuctl.cli.context import AppContext
    from gpuctl.github import drift_flow, runner

    monkeypatch.setattr(runner, "drift_document", lambda app, config, provider, flags=None, repository=None: {"in_sync": True, "drift": [], "project_id": "p", "applying": None})
    monkeypatch.setattr(runner, "drift_markdown", lambda doc, source_url=None, flags=None: "in sync\n")
    monkeypatch.setattr(drift_flow, "ending", lambda doc, flags=None: "")
    (tmp_path / "gpu.jsonc").write_text("{}")
    env = {"GITHUB_ACTIONS": "true", "GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": fake.repository, "GITHUB_API_URL": fake.url,
           "GITHUB_WORKSPACE": str(tmp_path), "GITHUB_SHA": "e" * 40, "GITHUB_RUN_ID": "5", "GITHUB_SERVER_URL": "https://github.com"}
    err = io.StringIO()
    app = AppContext(environ=env, cwd=tmp_path, stdout=io.StringIO(), stderr=err)
    assert main(["--debug", "github", "drift", "--config", "gpu.jsonc"], context=app) == 0, err.getvalue()
    lines = [line for line in err.getvalue().splitlines() if line.startswith("debug: GitHub ")]
    assert lines and any(" /repos/acme/ml-api/issues" in line and "-> 200 (attempt 1 of 4" in line for line in lines), err.getvalue()
    assert TOKEN not in err.getvalue()


@pytest.mark.parametrize("body, said", [
    ([], "is not what gpuctl expects (an object)"),
    ({"number": 5, "head": "abc"}, "its head is \"abc\", not an object"),
    ({"number": 5, "head": {}}, "its head.sha is missing, not a string"),
    ({"number": 5, "head": {"sha": 7}}, "its head.sha is 7, not a string"),
    ({"number": True, "head": {"sha": "a" * 40}}, "its number is true, not a whole number"),
])
def test_an_odd_single_object_answer_is_a_github_error_naming_the_request(fake, client, body, said):
    fake.canned.append(Canned(200, {}, body))
    with pytest.raises(GitHubError) as caught:
        client.request("GET", client.repo("pulls", 5), fields={"number": int, "head.sha": str})
    assert caught.value.summary.startswith("GitHub's answer to GET /repos/acme/ml-api/pulls/5 (200) ")
    assert said in caught.value.summary and "proxy" in caught.value.hint


def test_an_optional_field_may_be_missing_or_null_but_not_of_another_type(fake, client):
    fields = {"base.sha": (str, type(None))}
    for body in ({}, {"base": None}, {"base": {"sha": None}}, {"base": {"sha": "b" * 40}}):
        fake.canned.append(Canned(200, {}, body))
        assert client.request("GET", client.repo("pulls", 5), fields=fields) == body
    fake.canned.append(Canned(200, {}, {"base": {"sha": ["b"]}}))
    with pytest.raises(GitHubError, match="its base.sha is"):
        client.request("GET", client.repo("pulls", 5), fields=fields)


def test_an_empty_answer_is_only_for_a_delete(fake, client):
    fake.canned += [Canned(204, {}, b""), Canned(200, {}, b"")]
    assert client.request("DELETE", client.repo("issues", "comments", 1)) is None
    with pytest.raises(GitHubError, match="is not what gpuctl expects"):
        client.request("GET", client.repo("pulls", 5))


PULL = {"number": 5, "state": "closed", "merged_at": "2026-01-01T00:00:00Z", "merge_commit_sha": "c" * 40, "head": {"sha": "a" * 40}}


@pytest.mark.parametrize("module, function, args, body", [
    ("reviewed", "branch_head", ("main",), {"ref": "refs/heads/main"}),  # was None, "no such branch": the supersede check skipped
    ("reviewed", "branch_head", ("main",), {"object": "abc"}),
    ("reviewed", "chosen_pull", ("5", "refs/heads/main"), ["a pull"]),
    ("reviewed", "chosen_pull", ("5", "refs/heads/main"), PULL | {"base": "main"}),
    ("reviewed", "merged_pull", ("c" * 40,), ["a pull"]),
    ("reviewed", "merged_pull", ("c" * 40,), [PULL | {"head": None}]),
    ("reviewed", "plan_artifact", ("gpuctl-plan", "a" * 40), {"artifacts": [{"name": "gpuctl-plan-" + "a" * 40, "workflow_run": "5"}]}),
    ("issues", "find_open", ("gpu.jsonc", "gpuctl-drift"), [{"number": 3, "user": "someone"}]),
    ("comments", "upsert", (5, "gpu.jsonc", "a plan"), [{"id": "7", "body": "x"}]),
    ("inputs", "listing", ("src", "a" * 40), [{"name": 3, "type": "file"}]),
    ("fork", "base_config", ("gpu.jsonc", "gpu.jsonc", "b" * 40), {"type": "file", "name": "gpu.jsonc", "encoding": "base64", "content": 12}),
])
def test_the_flows_reading_an_odd_answer_get_a_github_error_not_an_internal_error(fake, client, module, function, args, body):
    """Each place that reads a field of GitHub's answer declares it: an answer without it (or
    of another type) stops with what GitHub answered to which request."""
    import importlib

    from gpuctl.errors import GpuctlError

    fake.canned.append(Canned(200, {}, body))
    with pytest.raises(GpuctlError) as caught:
        getattr(importlib.import_module(f"gpuctl.github.{module}"), function)(client, *args)
    assert "GitHub's answer to GET /repos/acme/ml-api/" in caught.value.format() and "is not what gpuctl expects" in caught.value.format()


def test_every_segment_of_a_request_path_is_quoted_whole(fake):
    """Review 5, R5-12: no value in a request path (a file name, a branch, a label) adds a
    segment, a `..` or a query: the request goes where gpuctl meant, with the token."""
    from gpuctl.github.client import path_of

    gh = GitHub(fake.url, TOKEN, "acme/ml-api")
    assert gh.repo("contents", *path_of("")) == "/repos/acme/ml-api/contents/"
    assert gh.repo("contents", *path_of("services/asr/gpu.jsonc")) == "/repos/acme/ml-api/contents/services/asr/gpu.jsonc"
    assert gh.repo("contents", *path_of("a/../b c?x=1#f")) == "/repos/acme/ml-api/contents/a/%2E%2E/b%20c%3Fx%3D1%23f"
    assert gh.repo("labels", "gpuctl/drift ..") == "/repos/acme/ml-api/labels/gpuctl%2Fdrift%20.."
    assert gh.repo("issues", 7, "comments") == "/repos/acme/ml-api/issues/7/comments"
    with pytest.raises(GitHubError):
        gh.request("GET", gh.repo("labels", ".."))
    assert fake.requests[-1]["path"] == "/repos/acme/ml-api/labels/%2E%2E"
    gh.close()


@pytest.mark.parametrize("repository", ["acme/ml-api/../../orgs/x", "acme/ml-api?x=1", "acme", ".."])
def test_a_client_for_a_repository_that_is_not_owner_slash_name_is_refused(repository):
    with pytest.raises(GpuctlError, match="GITHUB_REPOSITORY is .*, not a repository's owner/name"):
        GitHub("https://api.github.com", TOKEN, repository)
