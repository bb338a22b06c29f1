"""A field's `origin` in the JSON plan and its label in the text and Markdown plans are read by
one rule (`document.field_origin`): `--idle-timeout 60` over a console edit was `"both"` in the
JSON (a conflict whose apply keeps gpu.jsonc's value) while the text rightly said the flag sets
it and the account changed it too."""

from __future__ import annotations

import itertools

import pytest

from gpuctl.plan.model import Action, FieldChange, Kind, Origin, ResourceChange
from gpuctl.render.document import _resource
from gpuctl.render.words import field_line

FLAG_KEY = [{"key": "serverless.scaling.idle_timeout", "file": "gpu.jsonc", "line": None, "flag": "--idle-timeout"}]
FILE_KEY = [{"key": "serverless.scaling.idle_timeout", "file": "gpu.jsonc", "line": 9}]

# What each JSON origin is shown as: the label is a function of the document's origin alone.
LABELS = {
    "config": "changed in gpu.jsonc",
    "account": "changed in the account",
    "both": "both: gpu.jsonc says 60, the account says 7; apply keeps 60",
    "unknown": "origin unknown",
    "other-config": "applied from another gpu.jsonc",
    "flag": "set by --idle-timeout for this run",
    "flag-and-account": "set by --idle-timeout for this run; the account changed it since the last apply",
}


def _change(origin: Origin, keys: list[dict]) -> dict:
    field = FieldChange("workers.idleTimeout", 7, 60, origin=origin)
    resource = ResourceChange(Kind.ENDPOINT, "echo", "endpoint.echo", Action.UPDATE, id="ep1", changes=(field,))
    (change,) = _resource(resource, lambda kind, name, path: keys)["changes"]
    return change


@pytest.mark.parametrize(("origin", "keys"), list(itertools.product(list(Origin), [FLAG_KEY, FILE_KEY])))
def test_the_json_origin_and_the_label_agree(origin, keys):
    change = _change(origin, keys)
    flagged = keys is FLAG_KEY
    expected = {(Origin.CONFIG, True): "flag", (Origin.ACCOUNT, True): "flag-and-account", (Origin.BOTH, True): "flag-and-account",
                (Origin.OTHER_CONFIG, True): "flag-and-account"}  # the account holds another gpu.jsonc's apply, not this one's last
    assert change["origin"] == expected.get((origin, flagged), str(origin))
    _, line = field_line(change)
    label = "set by --idle-timeout for this run" if flagged and change["origin"] == "unknown" else LABELS[change["origin"]]
    assert line.endswith("# " + label), line


def test_a_document_from_before_flag_origins_is_labelled_as_a_new_one():
    """A saved plan written when a flag's value over a console edit was `"both"` is labelled by
    the same rule: the flag's, and the account moved, never "apply keeps gpu.jsonc's"."""
    old = {"path": "workers.idleTimeout", "before": 7, "after": 60, "sensitive": False, "forces_replace": False, "origin": "both", "config_keys": FLAG_KEY}
    assert field_line(old)[1].endswith("# " + LABELS["flag-and-account"])
