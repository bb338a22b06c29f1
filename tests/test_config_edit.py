"""gpuctl/config/edit.py on the layouts people write: inline and one-per-line, trailing
commas or none, comments everywhere. Each edit must mean what it says (the text parses to the
intended data) and keep every comment and every byte it does not need to touch."""

from __future__ import annotations

import json

import pyjson5
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpuctl.config import edit

FILE = """\
// top
{
  "project_id": "p", // the marker
  "serverless": {
    "name": "a",
    "gpu_types": ["NVIDIA L4", /* cheap */ "NVIDIA A40"],
    "scaling": { "min_workers": 0, "max_workers": 2 }, // small
    "runpod": {
      "env": {
        "KEEP": "1", // kept
        "DROP": "2"
      },
    },
  },
}
"""


def _check(before: str, after: str, expected: dict) -> None:
    assert pyjson5.decode(after) == expected
    assert edit.comments(after) == edit.comments(before)


def test_replace_insert_and_remove_keep_the_rest_byte_for_byte():
    text = edit.set_value(FILE, ("serverless", "scaling", "max_workers"), 5)
    assert text == FILE.replace('"max_workers": 2 }', '"max_workers": 5 }')
    text = edit.set_value(text, ("serverless", "scaling", "idle_timeout"), 9)
    assert '{ "min_workers": 0, "max_workers": 5, "idle_timeout": 9 }, // small' in text
    text = edit.remove(text, ("serverless", "runpod", "env", "DROP"))
    text = edit.set_value(text, ("serverless", "runpod", "env", "NEW"), {"secret": "new"})
    assert '"KEEP": "1", // kept\n        "NEW": {"secret": "new"}\n      },' in text
    text = edit.set_value(text, ("serverless", "gpu_type"), "NVIDIA GeForce RTX 4090", after=("name",))
    assert '"name": "a",\n    "gpu_type": "NVIDIA GeForce RTX 4090",\n    "gpu_types"' in text
    text = edit.set_value(text, ("serverless", "volume", "name"), "models")
    _check(FILE, text, {"project_id": "p", "serverless": {
        "name": "a", "gpu_type": "NVIDIA GeForce RTX 4090", "gpu_types": ["NVIDIA L4", "NVIDIA A40"],
        "scaling": {"min_workers": 0, "max_workers": 5, "idle_timeout": 9},
        "runpod": {"env": {"KEEP": "1", "NEW": {"secret": "new"}}}, "volume": {"name": "models"}}})


@pytest.mark.parametrize("wanted", [["NVIDIA A40"], ["NVIDIA L4"], [], ["NVIDIA A40", "NVIDIA L4"], ["NVIDIA L4", "NVIDIA A40", "NVIDIA L40"]])
def test_a_list_changes_item_by_item_and_keeps_its_comment(wanted):
    text = edit.set_value(FILE, ("serverless", "gpu_types"), wanted)
    assert pyjson5.decode(text)["serverless"]["gpu_types"] == wanted
    assert edit.comments(text) == edit.comments(FILE)


def test_a_commented_value_replaced_or_removed_leaves_its_comments():
    text = '{\n  "volume": { // ours\n    "name": "m", /* why */\n  },\n  "x": 1,\n}\n'
    replaced = edit.set_value(text, ("volume",), False)
    _check(text, replaced, {"volume": False, "x": 1})
    removed = edit.remove(text, ("volume",))
    _check(text, removed, {"x": 1})
    last = edit.remove(text, ("x",))
    _check(text, last, {"volume": {"name": "m"}})
    assert last.endswith('  },\n}\n')  # the trailing comma the file had stays


def test_blocks_are_added_to_an_object_or_a_list_and_the_first_block_is_kept_as_it_is():
    one = '{"serverless": {\n  "name": "a" // first\n}}\n'
    two = edit.add_block(one, {"name": "b", "gpu_type": "NVIDIA L4"})
    assert two.startswith('{"serverless": [{\n  "name": "a" // first\n}, {')
    three = edit.add_block(two, {"name": "c"})
    _check(one, three, {"serverless": [{"name": "a"}, {"name": "b", "gpu_type": "NVIDIA L4"}, {"name": "c"}]})
    fresh = edit.new_file("proj", {"name": "a", "scaling": {"min_workers": 1, "max_workers": 2}})
    assert pyjson5.decode(fresh) == {"project_id": "proj", "serverless": {"name": "a", "scaling": {"min_workers": 1, "max_workers": 2}}}


# -- the first block (review 5, R5-7) ------------------------------------------------------------

# A GPU CLI user's pod keys (validate.GPU_CLI_KEYS), which gpuctl ignores and import must keep.
POD_KEYS = {"project_id": "pods", "gpu_types": ["NVIDIA GeForce RTX 4090", "NVIDIA L4"], "environment": {"python": "3.11", "pip": ["torch"]},
            "hooks": {"setup": "pip install -r requirements.txt"}, "outputs": ["out/"], "name": "trainer"}
# Where a file that has no block yet may say so: no key, an empty list, a list with only a comment.
NO_BLOCK = {"absent": None, "empty": "[]", "commented": "[ /* none yet */ ]", "comment-line": "[\n{inner}// endpoints go here\n{indent}]"}


@st.composite
def pod_configs(draw) -> tuple[str, dict, str]:
    """(the text of a gpu.jsonc without a block, its data, how it says it has none): any subset
    of the pod keys, one a line or inline, any indentation, LF or CRLF, comments before and
    after members, with or without a trailing comma."""
    keys = draw(st.lists(st.sampled_from(sorted(POD_KEYS)), unique=True, max_size=len(POD_KEYS)))
    state = draw(st.sampled_from(sorted(NO_BLOCK)))
    step = draw(st.sampled_from(["  ", "    ", "\t"]))
    inline = draw(st.booleans()) and state != "comment-line"
    members = [f"{json.dumps(k)}: {json.dumps(POD_KEYS[k])}" for k in keys]
    if NO_BLOCK[state] is not None:
        members.insert(draw(st.integers(0, len(members))), '"serverless": ' + NO_BLOCK[state].format(inner=step * 2, indent=step))
    commented = [draw(st.sampled_from(["", "/* before */ "])) + m for m in members]
    after = [draw(st.sampled_from(["", " // after"])) for _ in members]
    trailing = bool(members) and draw(st.booleans())
    if inline:
        text = "{" + ", ".join(commented) + ("," if trailing else "") + "}"
    else:
        lines = [step + m + ("," if i < len(members) - 1 or trailing else "") + a for i, (m, a) in enumerate(zip(commented, after))]
        text = "// pods, for GPU CLI\n{\n" + "".join(line + "\n" for line in lines) + "}"
    text += "\n"
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    data = {k: POD_KEYS[k] for k in keys} | ({"serverless": []} if NO_BLOCK[state] is not None else {})
    return text, data, state


BLOCK = {"name": "ext-1", "template": "custom-image", "gpu_type": "NVIDIA GeForce RTX 4090",
         "scaling": {"min_workers": 0, "max_workers": 2, "idle_timeout": 7},
         "runpod": {"image_name": "ghcr.io/x/y:1", "env": {"MODE": {"secret": "MODE"}}}, "adopt": "abc123"}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pod_configs())
def test_the_first_block_goes_into_a_config_without_one_and_keeps_the_rest(case):
    """Import's first block (R5-7): a `serverless` member added to the top-level object, or the
    empty list filled. The text then holds exactly the old data plus the block, every comment,
    only the file's line ending, and loads as a valid gpu.jsonc; the file without it loads
    (blocks_optional) with no blocks."""
    from pathlib import Path

    from gpuctl.config import load_config

    text, data, state = case
    after = edit.add_block(text, BLOCK)
    expected = {**data, "serverless": BLOCK if state == "absent" else [BLOCK]}
    _check(text, after, expected)
    if "\r\n" in text:
        assert after.count("\n") == after.count("\r\n"), after
    else:
        assert "\r" not in after
    assert after.endswith("}" + ("\r\n" if "\r\n" in text else "\n"))
    path = Path("/nonexistent-gpuctl-project/gpu.jsonc")
    assert load_config(path, text=text, blocks_optional=True).blocks == ()
    assert [b.model.name for b in load_config(path, text=after).blocks] == ["ext-1"]


def test_edits_of_a_crlf_file_keep_its_line_endings():
    """pull's edits too: a key inserted as a new object, a list rewritten, a member removed."""
    crlf = FILE.replace("\n", "\r\n")
    text = edit.set_value(crlf, ("serverless", "volume"), {"name": "models", "size_gb": 20})
    text = edit.set_value(text, ("serverless", "gpu_types"), ["NVIDIA A40", "NVIDIA L4"])
    text = edit.remove(text, ("serverless", "runpod", "env", "DROP"))
    assert text.count("\n") == text.count("\r\n") and edit.comments(text) == edit.comments(crlf)
    assert text.replace("\r\n", "\n") == edit.remove(edit.set_value(edit.set_value(FILE, ("serverless", "volume"), {"name": "models", "size_gb": 20}),
                                                                    ("serverless", "gpu_types"), ["NVIDIA A40", "NVIDIA L4"]),
                                                     ("serverless", "runpod", "env", "DROP"))


def test_a_near_miss_of_serverless_is_still_an_error_where_blocks_are_optional():
    """blocks_optional (import) forgives a file that has no block, not one whose block is
    under a misspelled key: adding `serverless` beside it would leave that block unread."""
    from pathlib import Path

    from gpuctl.config import load_config
    from gpuctl.errors import ConfigError

    path = Path("/nonexistent-gpuctl-project/gpu.jsonc")
    with pytest.raises(ConfigError) as error:
        load_config(path, text='{"project_id": "p", "serverles": {"template": "whisper"}}', blocks_optional=True)
    (problem,) = error.value.diagnostics
    assert (problem.path, problem.message, problem.hint) == ("serverles", "no serverless block", 'did you mean "serverless"?')
    for text in ('{"project_id": "p"}', '{"project_id": "p", "serverless": []}'):
        with pytest.raises(ConfigError) as error:
            load_config(path, text=text)  # elsewhere it is refused, with the way to the first block
        assert "gpu serverless import NAME --write" in error.value.diagnostics[0].hint
