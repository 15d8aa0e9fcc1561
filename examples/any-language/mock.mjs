// Drive the truewatch-mock control plane from JavaScript (Node 20: the
// built-in fetch, an ES module). Seed an account, a workspace and a
// binding, script a fault, read a verification code from the outbox, move
// the clock and read the request journal; with NS set, all of it in the
// namespace NS, alone on a mock other suites share.
// Usage: [NS=ci-42] MOCK=http://127.0.0.1:8080 node mock.mjs
let MOCK = process.env.MOCK ?? "http://127.0.0.1:8080";

// Every change to the control plane carries X-Mock-Control: 1.
const HEADERS = { "X-Mock-Control": "1" };

// call sends one request and returns [status, decoded JSON answer].
async function call(method, path, body) {
  const headers = { ...HEADERS };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(MOCK + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return [resp.status, await resp.json()];
}

// ctl is a control-plane call that must succeed.
async function ctl(method, path, body) {
  const [status, answer] = await call(method, path, body);
  if (status >= 400) throw new Error(`${method} ${path}: ${status} ${answer.error}`);
  return answer;
}

// Namespaces: with NS set, make the namespace unless it exists (POST
// /_mock/namespaces, at the mock's root), then send every call below under
// /ns/NS, which the API halves and the control plane take alike (the
// header X-Mock-Namespace: NS does the same).
const NS = process.env.NS;
if (NS) {
  if ((await call("GET", `/_mock/namespaces/${NS}`))[0] === 404) await ctl("POST", "/_mock/namespaces", { name: NS });
  MOCK += `/ns/${NS}`;
  console.log(`namespace: ${NS}`);
}

await ctl("POST", "/_mock/reset");

// Seed: a Billing Center account, a console account with a workspace, and
// the binding of the billing account to the demo purchase.
const ba = await ctl("POST", "/_mock/billing-accounts", { username: "acme", email: "ops@acme.example" });
const acct = await ctl("POST", "/_mock/accounts", { site: "us1", username: "acme", email: "ops@acme.example" });
const ws = await ctl("POST", "/_mock/workspaces", { ownerAccountUUID: acct.uuid, name: "prod", billingAccountUUID: ba.uuid });
const binding = await ctl("POST", "/_mock/bindings", {
  billingAccountId: ba.uuid, huaweiAccountId: "0a1b2c3d4e5f40718293a4b5c6d7e8f9", instanceId: "tw-inst-7d7b0a7e1c2d4e5f",
});
console.log(`billing account: ${ba.uuid}`);
console.log(`console account: ${acct.uuid}`);
console.log(`workspace: ${ws.uuid}`);
console.log(`binding token: ${binding.token}`);

// A fault: the next verification-code request answers 503.
await ctl("POST", "/_mock/faults", { operation: "billing.SendVerificationCode", status: 503, times: 1 });
const send = { email: "ops@acme.example", purpose: "bind_billing_account" };
const [first] = await call("POST", "/billing-center/api/v1/verification_code/send", send);
const [second] = await call("POST", "/billing-center/api/v1/verification_code/send", send);
console.log(`fault: ${first}, then ${second}`);

// The outbox: the code the Billing Center "mailed", newest last.
const mails = await ctl("GET", "/_mock/outbox?email=ops@acme.example");
console.log(`code: ${mails.at(-1).code}`);

// The clock: a day later.
console.log(`clock: ${(await ctl("POST", "/_mock/clock", { advance: "24h" })).now}`);

// The request journal, filtered by operation.
const journal = await ctl("GET", "/_mock/requests?operation=billing.SendVerificationCode");
console.log(`journal: billing.SendVerificationCode ${journal.map((r) => r.status).join(" ")}`);
