"""The policy section of a plan (docs/policy.md), for the text and Markdown views: kept apart
from their layout so it reads the same wherever the plan is shown. Nothing is drawn when no
policy was in force; a passed policy is one line, each violation one line."""

from __future__ import annotations

from gpuctl.words import counted, first_of

VIOLATIONS = 50  # listed in Markdown, which has a size limit; text and JSON list every one


def violation_line(v: dict) -> str:
    """One violation of a plan document for people: `gpu.jsonc:9:7: endpoint.api: serverless.gpu_type: ... [rule, file]`."""
    where = ": ".join(p for p in (v.get("where"), v["endpoint"], v["path"]) if p)  # a plan saved before `where` has none
    source = f", {v['source']}" if v["source"] else ""
    return f"{where + ': ' if where else ''}{v['message']} [{v['rule']}{source}]"


def _heading(policy: dict) -> str:
    n = len(policy["violations"])
    files = ", ".join(policy["sources"])
    if not n:
        return f"Policy ({files}): passed"
    return f"Policy ({files}): {counted(n, 'violation')}; deploy refuses this plan (exit 4)"


def policy_text(doc: dict) -> list:
    """rich Text lines for `render_text`: none without a policy."""
    from rich.text import Text

    policy = doc.get("policy")
    if policy is None:
        return []
    style = "bold red" if policy["violations"] else "bold green"
    return [Text(""), Text(_heading(policy), style=style), *(Text(f"  x {violation_line(v)}", style="red") for v in policy["violations"])]


def policy_markdown(doc: dict) -> str:
    """A block for `render_markdown`, near the top where a reviewer looks first: "" without a policy."""
    from gpuctl.render.md import code, text

    policy = doc.get("policy")
    if policy is None:
        return ""
    mark = "⛔" if policy["violations"] else "✅"
    lines = first_of(policy["violations"], VIOLATIONS, sep="", more="- … and {} more in the JSON plan (`--format json`) and the text plan\n",
                     each=lambda v: f"- {code(v['rule'])}: {text(violation_line(v))}\n")
    return f"\n**{mark} {text(_heading(policy))}**\n\n{lines}"
