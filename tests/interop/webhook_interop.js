// webhook_interop.js: cross-checks our webhook signatures (server/src/webhook/signature.c, through
// the webhook_interop helper) against an independent implementation: the official
// `standardwebhooks` npm package (pinned in tests/tools/package.json) and Node's own crypto.
//   node webhook_interop.js <path to webhook_interop> <node_modules dir>
// 1. C signs random payloads (one or two secrets, C- and Node-generated) -> Webhook.verify accepts
//    with each signing secret and refuses another secret; the X-HDF-Signature equals an HMAC
//    computed here with crypto.createHmac.
// 2. Node's Webhook.sign and crypto.createHmac sign -> our verifiers accept; tampered copies
//    (body, id, timestamp, signature) are refused.
// Exit 77 (ctest: skipped) when the package is not installed, unless HDF_REQUIRE_NODE_TOOLS=1.
'use strict';
const { execFileSync } = require('child_process');
const crypto = require('crypto');
const path = require('path');

const [helper, modules] = process.argv.slice(2);
let Webhook;
try {
  ({ Webhook } = require(path.resolve(modules, 'standardwebhooks')));
} catch (e) {
  const msg = `standardwebhooks is not installed in ${modules} (tests/run.sh installs tests/tools there)`;
  if (process.env.HDF_REQUIRE_NODE_TOOLS === '1') {
    console.error(msg);
    process.exit(1);
  }
  console.log(`skipped: ${msg}`);
  process.exit(77);
}

const N = 200;
const now = Math.floor(Date.now() / 1000);
let failures = 0;
function check(cond, what) {
  if (!cond) {
    failures++;
    if (failures <= 20) console.error(`FAIL: ${what}`);
  }
}
function run(input) {
  return JSON.parse(execFileSync(helper, [], { input: JSON.stringify(input), maxBuffer: 64 << 20 }).toString());
}
function randInt(n) {
  return crypto.randomInt(n);
}
function randomBody() {
  const pieces = ['a', 'é', '"', '\\', '\n', '日本', '😀', ' ', '{}', '0', '\u2028'];
  let s = '';
  for (let i = randInt(40); i > 0; i--) s += pieces[randInt(pieces.length)];
  return JSON.stringify({ id: `evt_${randInt(1e9)}`, n: randInt(1e9), text: s, nested: { list: [1, 2.5, null, true] } });
}
function nodeSecret() {
  return 'whsec_' + crypto.randomBytes(32).toString('base64');
}
function hdfHeader(secrets, t, body) {
  const parts = secrets.map(
    (s) => 'v1=' + crypto.createHmac('sha256', Buffer.from(s.slice(6), 'base64')).update(`${t}.${body}`).digest('hex'),
  );
  return [`t=${t}`, ...parts].join(',');
}
function verifies(secret, body, id, t, sig) {
  try {
    new Webhook(secret).verify(body, { 'webhook-id': id, 'webhook-timestamp': String(t), 'webhook-signature': sig });
    return true;
  } catch (e) {
    return false;
  }
}

// 1. C signs, Node verifies
const cSecrets = run({ generate: N }).secrets;
check(cSecrets.length === N && cSecrets.every((s) => /^whsec_[A-Za-z0-9+/]{43}=$/.test(s)), 'generated secrets look right');
const cases = [];
for (let i = 0; i < N; i++) {
  const secrets = [i % 2 ? cSecrets[i] : nodeSecret()];
  if (i % 3 === 0) secrets.push(cSecrets[(i + 1) % N]);
  cases.push({ secrets, id: `msg_${crypto.randomBytes(8).toString('hex')}`, t: now - randInt(60), body: randomBody() });
}
const signed = run({ sign: cases }).sign;
cases.forEach((c, i) => {
  const s = signed[i];
  check(s !== null, `case ${i} signed`);
  if (s === null) return;
  c.secrets.forEach((secret) => check(verifies(secret, c.body, c.id, c.t, s.std), `Node accepts C's webhook-signature (case ${i})`));
  check(!verifies(nodeSecret(), c.body, c.id, c.t, s.std), `Node refuses another secret (case ${i})`);
  check(!verifies(c.secrets[0], c.body + ' ', c.id, c.t, s.std), `Node refuses a changed body (case ${i})`);
  check(s.hdf === hdfHeader(c.secrets, c.t, c.body), `X-HDF-Signature equals crypto.createHmac (case ${i})`);
});

// 2. Node signs, C verifies
const verify = [];
const verifyHdf = [];
const expect = [];
for (let i = 0; i < N; i++) {
  const secret = i % 2 ? cSecrets[i] : nodeSecret();
  const id = `msg_${crypto.randomBytes(8).toString('hex')}`;
  const t = now - randInt(60);
  const body = randomBody();
  const sig = new Webhook(secret).sign(id, new Date(t * 1000), body);
  const base = { secrets: [secret], id, t: String(t), sig, body, now };
  verify.push(base);
  expect.push('ok');
  const tampered = [
    { ...base, body: body.replace('evt_', 'evx_') },
    { ...base, id: id + 'x' },
    { ...base, t: String(t + 1) },
    { ...base, sig: 'v1,' + crypto.randomBytes(32).toString('base64') },
    { ...base, secrets: [nodeSecret()] },
  ];
  const pick = tampered[i % tampered.length];
  verify.push(pick);
  expect.push('no matching signature');
  verifyHdf.push({ secrets: [secret], header: hdfHeader([secret], t, body), body, now });
  verifyHdf.push({ secrets: [secret], header: hdfHeader([secret], t, body), body: body + '\n', now });
}
verify.push({ ...verify[0], now: now + 3600 });
expect.push('timestamp too old');
const got = run({ verify, verify_hdf: verifyHdf });
got.verify.forEach((r, i) => check(r === expect[i], `C verify case ${i}: got "${r}", expected "${expect[i]}"`));
got.verify_hdf.forEach((r, i) =>
  check(r === (i % 2 ? 'no matching signature' : 'ok'), `C verify_hdf case ${i}: got "${r}"`),
);

if (failures > 0) {
  console.error(`${failures} failures`);
  process.exit(1);
}
console.log(`ok: ${N} C-signed payloads verified by standardwebhooks, ${verify.length + verifyHdf.length} Node-signed checks by C`);
