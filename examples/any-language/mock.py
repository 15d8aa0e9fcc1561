"""Drive the truewatch-mock control plane from Python (standard library only).

Seed an account, a workspace and a binding, script a fault, read a
verification code from the outbox, move the clock and read the request
journal; with NS set, all of it in the namespace NS, alone on a mock other
suites share. Usage: [NS=ci-42] MOCK=http://127.0.0.1:8080 python3 mock.py
"""
import json
import os
import urllib.error
import urllib.request

MOCK = os.environ.get("MOCK", "http://127.0.0.1:8080")

# Every change to the control plane carries X-Mock-Control: 1.
HEADERS = {"X-Mock-Control": "1"}


def call(method, path, body=None):
    """One request; returns (status, decoded JSON answer)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(MOCK + path, data=data, method=method, headers=dict(HEADERS))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def ctl(method, path, body=None):
    """A control-plane call that must succeed."""
    status, answer = call(method, path, body)
    if status >= 400:
        raise RuntimeError(f"{method} {path}: {status} {answer.get('error')}")
    return answer


# Namespaces: with NS set, make the namespace unless it exists (POST
# /_mock/namespaces, at the mock's root), then send every call below under
# /ns/NS, which the API halves and the control plane take alike (the
# header X-Mock-Namespace: NS does the same).
NS = os.environ.get("NS")
if NS:
    if call("GET", f"/_mock/namespaces/{NS}")[0] == 404:
        ctl("POST", "/_mock/namespaces", {"name": NS})
    MOCK += f"/ns/{NS}"
    print("namespace:", NS)

ctl("POST", "/_mock/reset")

# Seed: a Billing Center account, a console account with a workspace, and
# the binding of the billing account to the demo purchase.
ba = ctl("POST", "/_mock/billing-accounts", {"username": "acme", "email": "ops@acme.example"})
acct = ctl("POST", "/_mock/accounts", {"site": "us1", "username": "acme", "email": "ops@acme.example"})
ws = ctl("POST", "/_mock/workspaces", {"ownerAccountUUID": acct["uuid"], "name": "prod", "billingAccountUUID": ba["uuid"]})
binding = ctl("POST", "/_mock/bindings", {"billingAccountId": ba["uuid"],
                                          "huaweiAccountId": "0a1b2c3d4e5f40718293a4b5c6d7e8f9",
                                          "instanceId": "tw-inst-7d7b0a7e1c2d4e5f"})
print("billing account:", ba["uuid"])
print("console account:", acct["uuid"])
print("workspace:", ws["uuid"])
print("binding token:", binding["token"])

# A fault: the next verification-code request answers 503.
ctl("POST", "/_mock/faults", {"operation": "billing.SendVerificationCode", "status": 503, "times": 1})
send = {"email": "ops@acme.example", "purpose": "bind_billing_account"}
first, _ = call("POST", "/billing-center/api/v1/verification_code/send", send)
second, _ = call("POST", "/billing-center/api/v1/verification_code/send", send)
print(f"fault: {first}, then {second}")

# The outbox: the code the Billing Center "mailed", newest last.
mails = ctl("GET", "/_mock/outbox?email=ops@acme.example")
print("code:", mails[-1]["code"])

# The clock: a day later.
print("clock:", ctl("POST", "/_mock/clock", {"advance": "24h"})["now"])

# The request journal, filtered by operation.
journal = ctl("GET", "/_mock/requests?operation=billing.SendVerificationCode")
print("journal: billing.SendVerificationCode", " ".join(str(r["status"]) for r in journal))
