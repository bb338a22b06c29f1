"""Check any REST v2 response against RunPod's own OpenAPI document, by method, path and
status: the operation is found by matching the path against the document's templates, and
the body is validated against that operation's response schema (with `default` as the
fallback, as OpenAPI says)."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import jsonschema

from tests.conftest import FIXTURES

SPEC = json.loads((FIXTURES.parent / "state" / "runpod" / "openapi-v2.json").read_text())
METHODS = ("get", "post", "patch", "put", "delete")


@cache
def _templates() -> list[tuple[re.Pattern, str]]:
    """Path templates, literal ones first so /v2/catalog/gpus beats /v2/pods/{id}-style matches."""
    found = [(re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", t) + "$"), t) for t in SPEC["paths"]]
    return sorted(found, key=lambda pair: pair[1].count("{"))


def operation(method: str, path: str) -> tuple[str, dict[str, Any]]:
    for pattern, template in _templates():
        if pattern.match(path) and method.lower() in SPEC["paths"][template]:
            return template, SPEC["paths"][template][method.lower()]
    raise AssertionError(f"{method} {path} is not an operation of RunPod's REST v2 OpenAPI document")


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        section, name = node["$ref"].split("/")[-2:]
        node = SPEC["components"][section][name]
    return node


@cache
def _validator(template: str, method: str, status: str, media: str) -> jsonschema.Draft202012Validator:
    responses = SPEC["paths"][template][method]["responses"]
    response = _resolve(responses.get(status) or responses["default"])
    schema = response["content"][media]["schema"]
    return jsonschema.Draft202012Validator({**schema, "components": SPEC["components"]})


def response_media(template: str, method: str, status: int) -> list[str]:
    responses = SPEC["paths"][template][method]["responses"]
    response = _resolve(responses.get(str(status)) or responses["default"])
    return list(response.get("content", {}))


def validate_problem(content_type: str, body: bytes) -> None:
    """A route the document does not have (404) or a method it does not allow there (405)
    still answers in the document's error shape."""
    assert content_type.startswith("application/problem+json"), content_type
    schema = {"$ref": "#/components/schemas/ErrorResponse", "components": SPEC["components"]}
    jsonschema.validate(json.loads(body), schema)


def is_documented(method: str, path: str) -> bool:
    try:
        operation(method, path)
    except AssertionError:
        return False
    return True


def validate_response(method: str, path: str, status: int, content_type: str, body: bytes) -> None:
    """Raise AssertionError unless the response is what RunPod's document allows."""
    if status in (404, 405) and not is_documented(method, path):
        validate_problem(content_type, body)
        return
    template, op = operation(method, path)
    documented = [str(s) for s in op["responses"]]
    assert str(status) in documented or "default" in documented, f"{method} {path}: status {status} is not documented"
    if status == 204:
        assert not body, f"{method} {path}: 204 with a body"
        return
    media = content_type.split(";")[0].strip()
    allowed = response_media(template, method.lower(), status)
    assert media in allowed, f"{method} {path} {status}: content type {media!r}, the document allows {allowed}"
    if media == "text/event-stream":
        return
    errors = sorted(_validator(template, method.lower(), str(status) if str(status) in op["responses"] else "default", media).iter_errors(json.loads(body)), key=str)
    assert not errors, f"{method} {path} {status} does not match RunPod's OpenAPI: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5])


def request_examples(template: str, method: str) -> dict[str, Any]:
    content = SPEC["paths"][template][method]["requestBody"]["content"]["application/json"]
    return {name: example["value"] for name, example in content.get("examples", {}).items()}
