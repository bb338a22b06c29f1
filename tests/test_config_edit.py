"""gpuctl/config/edit.py on the layouts people write: inline and one-per-line, trailing
commas or none, comments everywhere. Each edit must mean what it says (the text parses to the
intended data) and keep every comment and every byte it does not need to touch."""

from __future__ import annotations

import pyjson5
import pytest

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
