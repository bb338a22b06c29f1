"""Exit codes scripts can trust: `delete NAME` and `template delete NAME` of something that does
not exist exit 1 with a did-you-mean (kubectl's convention) unless --ignore-not-found, and
`template delete` takes a template's name as well as its id."""

from __future__ import annotations

import pytest

from gpuctl.cli.deleting import find_template
from gpuctl.cli.resolve import Ambiguous
from tests.e2e.conftest import ECHO_HANDLER, echo_config, project

LOCAL = ("--provider", "local")
TEMPLATE = {"name": "spare-tpl", "image": "ghcr.io/example/echo-worker:0.1.0", "serverless": True, "startSsh": False, "startJupyter": False}


def _deployed(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", *LOCAL, cwd=proj).code == 0
    return proj


def _templates(account) -> list[dict]:
    return account.server.http.get("/v2/templates").json()["templates"]


def _bind(account, template_id: str, endpoint_name: str) -> None:
    query = 'mutation { saveEndpoint(input: {name: "%s", templateId: "%s", gpuIds: "ADA_24", workersMax: 1}) { id templateId } }' % (endpoint_name, template_id)
    answer = account.server.http.post("/graphql", json={"query": query}).json()
    assert answer["data"]["saveEndpoint"]["templateId"] == template_id, answer


def test_deleting_a_typo_exits_1_and_names_the_close_endpoint(account, tmp_path):
    proj = _deployed(account, tmp_path)
    typo = account.gpu("serverless", "delete", "ecko", "--force", *LOCAL, cwd=proj)
    assert typo.code == 1, typo.err
    assert 'no endpoint named or with id "ecko"' in typo.err and 'did you mean "echo"?' in typo.err
    assert "--ignore-not-found" in typo.err and "Traceback" not in typo.err
    as_json = account.gpu("serverless", "delete", "ecko", "--force", "--json", *LOCAL, cwd=proj)
    assert as_json.code == 1 and 'did you mean "echo"?' in as_json.err
    assert as_json.json() == {"deleted": None, "not_found": True, "already_gone": False, "volumes_kept": [], "error": 'no endpoint named or with id "ecko"'}
    assert [e["name"] for e in account.endpoints()] == ["echo"]


def test_ignore_not_found_makes_an_absent_endpoint_success(account, tmp_path):
    proj = _deployed(account, tmp_path)
    ignored = account.gpu("serverless", "delete", "ecko", "--force", "--ignore-not-found", *LOCAL, cwd=proj)
    assert ignored.code == 0, ignored.err
    assert ignored.out == "" and ignored.err.count("\n") == 1 and "nothing to delete" in ignored.err
    as_json = account.gpu("serverless", "delete", "ecko", "--ignore-not-found", "--json", *LOCAL, cwd=proj)
    assert as_json.code == 0 and as_json.json() == {"deleted": None, "not_found": True, "already_gone": False, "volumes_kept": [], "error": None}
    assert [e["name"] for e in account.endpoints()] == ["echo"]
    deleted = account.gpu("serverless", "delete", "echo", "--force", "--ignore-not-found", "--json", *LOCAL, cwd=proj)
    assert deleted.code == 0 and deleted.json()["deleted"] and deleted.json()["not_found"] is False
    assert account.endpoints() == []


def test_ignore_not_found_never_forgives_an_ambiguous_name(account, tmp_path):
    ids = sorted(account.server.create_endpoint("twin", worker=None)["id"] for _ in range(2))
    refused = account.gpu("serverless", "delete", "twin", "--force", "--ignore-not-found", *LOCAL, cwd=tmp_path)
    assert refused.code == 1 and '2 endpoints are named "twin"' in refused.err
    assert all(i in refused.err for i in ids) and len(account.endpoints()) == 2


def test_template_delete_of_a_typo_exits_1_unless_ignored(account, tmp_path):
    account.server.http.post("/v2/templates", json=TEMPLATE)
    typo = account.gpu("serverless", "template", "delete", "spare-tlp", "--force", *LOCAL, cwd=tmp_path)
    assert typo.code == 1, typo.err
    assert 'did you mean "spare-tpl"?' in typo.err and "--ignore-not-found" in typo.err
    ignored = account.gpu("serverless", "template", "delete", "spare-tlp", "--force", "--ignore-not-found", "--json", *LOCAL, cwd=tmp_path)
    assert ignored.code == 0, ignored.err
    assert ignored.json() == {"deleted": None, "not_found": True, "already_gone": False, "error": None}
    assert "nothing to delete" in ignored.err
    assert [t["name"] for t in _templates(account)] == ["spare-tpl"]


def test_template_delete_takes_a_name(account, tmp_path):
    created = account.server.http.post("/v2/templates", json=TEMPLATE).json()
    account.server.http.post("/v2/templates", json=TEMPLATE | {"name": "keep-tpl"})
    by_name = account.gpu("serverless", "template", "delete", "spare-tpl", "--force", "--json", *LOCAL, cwd=tmp_path)
    assert by_name.code == 0, by_name.err
    assert by_name.json() == {"deleted": created["id"], "not_found": False, "already_gone": False, "error": None}
    assert [t["name"] for t in _templates(account)] == ["keep-tpl"]


def test_template_delete_by_name_still_refuses_one_in_use(account, tmp_path):
    used = account.server.http.post("/v2/templates", json=TEMPLATE).json()
    _bind(account, used["id"], "bound")
    refused = account.gpu("serverless", "template", "delete", "spare-tpl", "--force", "--ignore-not-found", *LOCAL, cwd=tmp_path)
    assert refused.code == 1 and "is used by endpoint bound" in refused.err
    assert [t["id"] for t in _templates(account)] == [used["id"]]


def test_a_template_name_shared_by_several_is_refused_with_their_ids():
    """RunPod keeps template names unique, so no account can show this; the resolver is pure."""
    twins = [{"id": "tpl_a", "name": "twin"}, {"id": "tpl_b", "name": "twin"}]
    with pytest.raises(Ambiguous) as refused:
        find_template(twins, "twin")
    assert "tpl_a, tpl_b" in refused.value.summary and "by its id" in refused.value.hint
    assert find_template(twins, "tpl_b")["id"] == "tpl_b"
