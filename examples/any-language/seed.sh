#!/bin/sh
# Drive the truewatch-mock control plane with curl: seed an account, a
# workspace and a binding, script a fault, read a verification code from
# the outbox, move the clock and read the request journal; with NS set, all
# of it in the namespace NS, alone on a mock other suites share.
# Usage: [NS=ci-42] MOCK=http://127.0.0.1:8080 sh seed.sh   (needs curl and sed)
set -eu
MOCK=${MOCK:-http://127.0.0.1:8080}

# Namespaces: with NS set, make the namespace unless it exists (POST
# /_mock/namespaces, at the mock's root), then send every call below under
# /ns/$NS, which the API halves and the control plane take alike (the
# header X-Mock-Namespace: $NS does the same).
if [ -n "${NS:-}" ]; then
  curl -sS -f -o /dev/null -H 'X-Mock-Control: 1' "$MOCK/_mock/namespaces/$NS" 2>/dev/null ||
    curl -sS --fail-with-body -o /dev/null -H 'X-Mock-Control: 1' -H 'Content-Type: application/json' \
      -d "{\"name\":\"$NS\"}" "$MOCK/_mock/namespaces"
  MOCK=$MOCK/ns/$NS
  echo "namespace: $NS"
fi

# Every change to the control plane carries X-Mock-Control: 1.
ctl() { # ctl METHOD PATH [JSON]
  if [ $# -gt 2 ]; then
    curl -sS --fail-with-body -X "$1" -H 'X-Mock-Control: 1' -H 'Content-Type: application/json' -d "$3" "$MOCK$2"
  else
    curl -sS --fail-with-body -X "$1" -H 'X-Mock-Control: 1' "$MOCK$2"
  fi
}
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; } # the last "name":"value" of a one-line answer

ctl POST /_mock/reset >/dev/null

# Seed: a Billing Center account, a console account with a workspace, and
# the binding of the billing account to the demo purchase.
BA=$(ctl POST /_mock/billing-accounts '{"username":"acme","email":"ops@acme.example"}' | field uuid)
ACCT=$(ctl POST /_mock/accounts '{"site":"us1","username":"acme","email":"ops@acme.example"}' | field uuid)
WS=$(ctl POST /_mock/workspaces "{\"ownerAccountUUID\":\"$ACCT\",\"name\":\"prod\",\"billingAccountUUID\":\"$BA\"}" | field uuid)
TOKEN=$(ctl POST /_mock/bindings "{\"billingAccountId\":\"$BA\",\"huaweiAccountId\":\"0a1b2c3d4e5f40718293a4b5c6d7e8f9\",\"instanceId\":\"tw-inst-7d7b0a7e1c2d4e5f\"}" | field token)
echo "billing account: $BA"
echo "console account: $ACCT"
echo "workspace: $WS"
echo "binding token: $TOKEN"

# A fault: the next verification-code request answers 503.
ctl POST /_mock/faults '{"operation":"billing.SendVerificationCode","status":503,"times":1}' >/dev/null
send() {
  curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -d '{"email":"ops@acme.example","purpose":"bind_billing_account"}' "$MOCK/billing-center/api/v1/verification_code/send"
}
FIRST=$(send)
SECOND=$(send)
echo "fault: $FIRST, then $SECOND"

# The outbox: the code the Billing Center "mailed".
CODE=$(curl -sS "$MOCK/_mock/outbox?email=ops@acme.example" | field code)
echo "code: $CODE"

# The clock: a day later.
NOW=$(ctl POST /_mock/clock '{"advance":"24h"}' | field now)
echo "clock: $NOW"

# The request journal, filtered by operation.
STATUSES=$(curl -sS "$MOCK/_mock/requests?operation=billing.SendVerificationCode" | grep -o '"status":[0-9]*' | sed 's/.*://' | tr '\n' ' ')
echo "journal: billing.SendVerificationCode ${STATUSES% }"
