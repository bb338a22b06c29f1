import json
from tests.e2e.test_drift_cmd import deployed, drift, console_patch, SECRET, DRIFT_SCHEMA
import jsonschema

def test_scratch(account, tmp_path):
    proj = deployed(account, tmp_path)
    (ours,) = account.endpoints()
    weird = "echo\x1b]0;pwned\x07\r\nFAKE: in sync \u202e" + "é" * 3
    r = account.server.http.post("/v2/serverless", json={"name": weird, "image": ours["image"], "gpu": {"pools": ["ADA_24"]}, "env": {}, "type": "QUEUE", "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}})
    print("weird create", r.status_code, r.text[:300])
    big = "echo" + "x" * 70000
    r = account.server.http.post("/v2/serverless", json={"name": big, "image": ours["image"], "gpu": {"pools": ["ADA_24"]}, "env": {}, "type": "QUEUE", "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}})
    print("big create", r.status_code, r.text[:200])
    for fmt in ("text", "markdown", "json"):
        out = drift(account, proj, "--format", fmt)
        print("=====", fmt, out.code, len(out.out), repr(out.err[:2000]))
        print(repr(out.out[:1500])); print(repr(out.out[-1500:]))
        if fmt == "json" and out.code == 2:
            jsonschema.validate(out.json(), DRIFT_SCHEMA)
    assert 0
