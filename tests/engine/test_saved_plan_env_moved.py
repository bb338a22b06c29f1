"""Which env values of the account moved since a saved plan was made, when nothing else did
(`flow._env_moved`, review 5, R5-10): the e2e cases are in tests/e2e/test_saved_plan_account_env.py."""

from __future__ import annotations

from gpuctl.engine.flow import _env_moved


def _resource(address: str, env: dict, *rows: tuple, workers: int = 2) -> dict:
    return {"address": address, "kind": "endpoint", "id": address + "-id", "action": "update" if rows else "no-op",
            "desired": {"workers": {"max": workers}, "env": env},
            "changes": [{"path": p, "before": b, "after": a, "sensitive": False, "forces_replace": False} for p, b, a in rows]}


SECRET_REF = {"sensitive": True, "secret": "hf_tok"}


def test_a_secret_reference_and_plain_values_moved_in_two_endpoints_are_the_accounts():
    env = {"PLAIN": "x", "HF": SECRET_REF}
    saved = {"resource_changes": [_resource("endpoint.a", env), _resource("endpoint.b", env)]}
    fresh = {"resource_changes": [_resource("endpoint.a", env, ("env.HF", {"sensitive": True}, SECRET_REF)),
                                  _resource("endpoint.b", env, ("env.PLAIN", "y", "x"))]}
    who, where, detail = _env_moved(saved, fresh)
    assert (who, where) == ("the account", "endpoint.a env.HF; endpoint.b env.PLAIN")
    assert "values are not shown" in detail and "hf_tok" not in where + detail


def test_hidden_values_name_every_variable_they_read():
    env = {"A": {"sensitive": True, "from": ["X", "Y"]}, "B": {"sensitive": True, "from": ["Z"]}}
    fresh = {"resource_changes": [_resource("endpoint.a", env, ("env.A", {"sensitive": True}, env["A"]), ("env.B", {"sensitive": True}, env["B"]))]}
    who, where, detail = _env_moved({"resource_changes": [_resource("endpoint.a", env)]}, fresh)
    assert who == "the account or the environment variables X, Y and Z" and where == "endpoint.a env.A, env.B"
    assert detail.startswith("endpoint.a env.A and endpoint.a env.B are hidden values")


def test_a_declared_value_or_another_field_that_moved_is_not_the_accounts():
    env = {"PLAIN": "x"}
    saved = {"resource_changes": [_resource("endpoint.a", env)]}
    assert _env_moved(saved, {"resource_changes": [_resource("endpoint.a", {"PLAIN": "z"}, ("env.PLAIN", "x", "z"))]}) is None
    assert _env_moved(saved, {"resource_changes": [_resource("endpoint.a", env, ("workers.max", 2, 3), workers=3)]}) is None
    assert _env_moved(saved, {"resource_changes": [_resource("endpoint.a", env), _resource("endpoint.b", env, ("env.PLAIN", "y", "x"))]}) is None
