// Drives the test page (index.html + app.js) in headless Debian Chromium with
// a CDP virtual authenticator; started by scripts/e2e-browser-passkey.sh.
//
// Environment:
//   TWOFOLD_E2E_API           API base as the browser sees it (http://localhost:P1)
//   TWOFOLD_E2E_PAGE          the test page (http://localhost:P2/index.html)
//   TWOFOLD_E2E_ACCESS_TOKEN  an aal 2 access token of the user
//   TWOFOLD_E2E_EMAIL, TWOFOLD_E2E_PASSWORD  the same user's sign-in
//   TWOFOLD_E2E_ENROLL_EMAIL, TWOFOLD_E2E_ENROLL_PASSWORD  another user of the
//                             account, who must enroll (f-h)
//   TWOFOLD_E2E_PROFILE       a fresh, empty Chromium user-data dir
//   CHROMIUM                  the browser (default /usr/bin/chromium)
//
// Prints one `ok - ...` / `not ok - ...` line per check (and `# ...` notes);
// exits 1 when a check failed, 2 when it could not run.
import { chromium } from 'playwright-core';

const STEP_MS = 60000;

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    console.log(`not ok - environment variable ${name} is set`);
    process.exit(2);
  }
  return v;
};
const api = env('TWOFOLD_E2E_API');
const pageUrl = env('TWOFOLD_E2E_PAGE');
const accessToken = env('TWOFOLD_E2E_ACCESS_TOKEN');
const email = env('TWOFOLD_E2E_EMAIL');
const password = env('TWOFOLD_E2E_PASSWORD');
const profile = env('TWOFOLD_E2E_PROFILE');
const enrollEmail = env('TWOFOLD_E2E_ENROLL_EMAIL');
const enrollPassword = env('TWOFOLD_E2E_ENROLL_PASSWORD');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

let failed = 0;
const ok = (msg) => console.log(`ok - ${msg}`);
const notOk = (msg) => { failed += 1; console.log(`not ok - ${msg}`); };
const note = (msg) => console.log(`# ${msg}`);
const check = (cond, msg, detail) => {
  if (cond) ok(msg);
  else {
    notOk(detail ? `${msg}; ${detail}` : msg);
  }
  return !!cond;
};
// A response the test did not expect: its status and body.
const showResponse = (label, r) => {
  if (!r) { note(`${label}: no request was made`); return; }
  note(`${label}: HTTP ${r.status}, body:`);
  for (const line of String(r.text || '(empty)').split('\n')) note(`  ${line}`);
};
const expectStatus = (r, want, msg) => {
  const good = !!r && r.status === want;
  check(good, msg, good ? '' : `HTTP ${r ? r.status : 'none'}, expected ${want}`);
  if (!good) showResponse(msg, r);
  return good;
};
const withTimeout = (promise, ms, what) => {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
};
const jwtPayload = (token) => {
  const part = String(token).split('.')[1] || '';
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
};
const sameJson = (a, b) => JSON.stringify(a) === JSON.stringify(b);
// checkSession(label, body, amr): an `authenticated` answer whose JWT has aal 2 and this amr.
const checkSession = (label, body, amr) => {
  if (!check(body && body.status === 'authenticated' && body.access_token && body.refresh_token && body.token_type === 'Bearer',
    `${label}: status authenticated with access_token, refresh_token, token_type Bearer`,
    `got status ${JSON.stringify(body && body.status)}`)) return null;
  let p;
  try { p = jwtPayload(body.access_token); } catch (e) {
    notOk(`${label}: the access token's payload is base64url JSON (${e.message})`);
    return null;
  }
  check(p.aal === 2 && sameJson(p.amr, amr),
    `${label}: JWT has aal 2 and amr ${JSON.stringify(amr)}`,
    `got aal ${JSON.stringify(p.aal)} amr ${JSON.stringify(p.amr)}`);
  return p;
};

let context;
const main = async () => {
  const started = Date.now();
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    timeout: STEP_MS,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--no-proxy-server',
    ],
  });
  context.setDefaultTimeout(STEP_MS);
  const browserVersion = context.browser() ? context.browser().version() : '(unknown)';
  ok(`headless Chromium ${browserVersion} started from ${executablePath} (${Date.now() - started} ms)`);

  const page = context.pages()[0] || await context.newPage();
  // Refused requests are reported by the checks themselves.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) note(`page console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => note(`page error: ${e.message}`));
  // Only localhost may be reached.
  await context.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    if (host === 'localhost' || host === '127.0.0.1') return route.continue();
    note(`blocked a request to ${route.request().url()}`);
    return route.abort();
  });

  const resp = await page.goto(pageUrl, { timeout: STEP_MS, waitUntil: 'load' });
  const env0 = await page.evaluate(() => ({
    secure: window.isSecureContext,
    pkc: typeof window.PublicKeyCredential === 'function',
    ready: typeof window.twofoldE2E === 'object',
    origin: window.location.origin,
  }));
  check(resp && resp.status() === 200 && env0.secure && env0.pkc && env0.ready,
    `test page ${pageUrl} loaded: secure context, PublicKeyCredential present, page functions ready`,
    `HTTP ${resp && resp.status()}, ${JSON.stringify(env0)}`);

  const cdp = await context.newCDPSession(page);
  await withTimeout(cdp.send('WebAuthn.enable'), STEP_MS, 'WebAuthn.enable');
  const addAuthenticator = async () => (await withTimeout(cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  }), STEP_MS, 'WebAuthn.addVirtualAuthenticator')).authenticatorId;
  const removeAuthenticator = (id) => withTimeout(
    cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: id }), STEP_MS, 'WebAuthn.removeVirtualAuthenticator');
  const authenticatorId = await addAuthenticator();
  check(authenticatorId, 'CDP virtual authenticator added (ctap2, internal, resident keys, user verification)');

  const run = (fn, ...args) => withTimeout(
    page.evaluate(([name, a]) => window.twofoldE2E[name](...a), [fn, args]),
    STEP_MS, `page function ${fn}`);

  // a. registration
  const reg = await run('register', api, accessToken, 'Chromium virtual authenticator');
  const regOpt = reg.steps.options;
  const pk = regOpt && regOpt.body && regOpt.body.options && regOpt.body.options.publicKey;
  if (!expectStatus(regOpt, 200, 'a. POST /v1/me/webauthn/registration/options (CORS, Bearer aal 2)') || !pk) {
    throw new Error('registration options missing; cannot go on');
  }
  check(pk.rp && pk.rp.id === 'localhost' && typeof pk.challenge === 'string' && pk.user && pk.user.id,
    'a. creation options: rp.id localhost, base64url challenge and user.id',
    `rp ${JSON.stringify(pk.rp)}`);
  const uv = pk.authenticatorSelection && pk.authenticatorSelection.userVerification;
  check(uv === 'required', 'a. creation options require user verification', `userVerification ${JSON.stringify(uv)}`);
  if (reg.error) throw new Error(`a. navigator.credentials.create() failed: ${reg.error}`);
  ok(`a. navigator.credentials.create() answered (transports ${JSON.stringify(reg.transports)})`);
  check(reg.steps.clientData && reg.steps.clientData.type === 'webauthn.create' && reg.steps.clientData.origin === env0.origin,
    `a. clientDataJSON: type webauthn.create, origin ${env0.origin}`, JSON.stringify(reg.steps.clientData));
  if (!expectStatus(reg.steps.register, 201, 'a. POST /v1/me/webauthn/registration -> 201')) {
    throw new Error('registration refused; cannot go on');
  }
  const created = reg.steps.register.body || {};
  check(created.id && created.name === 'Chromium virtual authenticator',
    'a. the 201 answer names the credential "Chromium virtual authenticator"', JSON.stringify(created));
  const items = (reg.steps.list && reg.steps.list.body && reg.steps.list.body.items) || [];
  check(reg.steps.list && reg.steps.list.status === 200 && items.length === 1 && items[0].id === created.id,
    'a. GET /v1/me/webauthn/credentials lists exactly that credential',
    `HTTP ${reg.steps.list && reg.steps.list.status}, ${JSON.stringify(items)}`);
  const stored = await withTimeout(cdp.send('WebAuthn.getCredentials', { authenticatorId }), STEP_MS, 'WebAuthn.getCredentials');
  const vc = stored.credentials || [];
  check(vc.length === 1 && vc[0].isResidentCredential && vc[0].rpId === 'localhost',
    'a. the virtual authenticator holds one discoverable credential for rp localhost',
    JSON.stringify(vc.map((c) => ({ rpId: c.rpId, resident: c.isResidentCredential, signCount: c.signCount }))));

  // b. passwordless
  const pass = await run('passkeyLogin', api);
  const pOpt = pass.steps.options;
  if (!expectStatus(pOpt, 200, 'b. POST /v1/auth/passkey/options')) throw new Error('no passkey options; cannot go on');
  check(pOpt.body && pOpt.body.status === 'passkey_required' && pOpt.body.flow_token && pOpt.body.options && pOpt.body.options.publicKey,
    'b. passkey options: status passkey_required, flow_token, options.publicKey', JSON.stringify(pOpt.body && pOpt.body.status));
  if (pass.error) throw new Error(`b. navigator.credentials.get() failed: ${pass.error}`);
  ok('b. navigator.credentials.get() answered with the discoverable credential (userHandle set)'
    + (pass.credential.response.userHandle ? '' : ' -- but userHandle is empty'));
  if (expectStatus(pass.steps.login, 200, 'b. POST /v1/auth/passkey -> 200')) {
    checkSession('b. passwordless login', pass.steps.login.body, ['hwk']);
    const me = pass.steps.me;
    check(me && me.status === 200 && me.body && String(me.body.email).toLowerCase() === email.toLowerCase(),
      `b. GET /v1/me with the passkey session is ${email}`, `HTTP ${me && me.status}, email ${JSON.stringify(me && me.body && me.body.email)}`);
  }

  // c. second factor
  const sf = await run('secondFactor', api, email, password);
  const s = sf.steps;
  if (expectStatus(s.login, 200, 'c. POST /v1/auth/login')) {
    check(s.login.body && s.login.body.status === 'password_required', 'c. POST /v1/auth/login -> password_required',
      JSON.stringify(s.login.body && s.login.body.status));
  }
  if (s.password && expectStatus(s.password, 200, 'c. POST /v1/auth/login/password')) {
    const b = s.password.body || {};
    check(b.status === 'mfa_required' && Array.isArray(b.methods) && b.methods.includes('webauthn'),
      `c. POST /v1/auth/login/password -> mfa_required with methods including "webauthn" (${JSON.stringify(b.methods)})`,
      `status ${JSON.stringify(b.status)}`);
  }
  if (s.options && expectStatus(s.options, 200, 'c. POST /v1/auth/login/webauthn/options')) {
    const b = s.options.body || {};
    const allow = (b.options && b.options.publicKey && b.options.publicKey.allowCredentials) || [];
    check(b.status === 'mfa_required' && allow.length === 1,
      'c. second-factor options: status mfa_required, allowCredentials names the one credential',
      `status ${JSON.stringify(b.status)}, ${allow.length} allowCredentials`);
  }
  if (sf.error) notOk(`c. navigator.credentials.get() (second factor): ${sf.error}`);
  if (s.webauthn && expectStatus(s.webauthn, 200, 'c. POST /v1/auth/login/webauthn -> 200')) {
    checkSession('c. password + passkey login', s.webauthn.body, ['pwd', 'hwk']);
  }

  // i. a remembered device skips the authenticator at the next login
  const adminToken = s.webauthn && s.webauthn.body && s.webauthn.body.access_token;
  const rd = await run('rememberDevice', api, email, password, adminToken);
  const dv = rd.steps;
  if (expectStatus(dv.allow, 200, 'i. PATCH /v1/admin/security {remember_device_days: 30}')) {
    check(dv.allow.body && dv.allow.body.remember_device_days === 30, 'i. the account remembers devices for 30 days',
      JSON.stringify(dv.allow.body && dv.allow.body.remember_device_days));
  }
  if (rd.error) notOk(`i. navigator.credentials.get() (second factor, remember_device): ${rd.error}`);
  if (dv.webauthn && expectStatus(dv.webauthn, 200, 'i. POST /v1/auth/login/webauthn with remember_device: true')) {
    const b = dv.webauthn.body || {};
    check(typeof b.device_token === 'string' && b.device_token.startsWith('dev_') && typeof b.device_expires_at === 'string',
      'i. the answer carries device_token and device_expires_at (kept in localStorage)',
      `device_token ${typeof b.device_token}, device_expires_at ${JSON.stringify(b.device_expires_at)}`);
  }
  if (dv.skipped && expectStatus(dv.skipped, 200, 'i. POST /v1/auth/login/password with the device_token')) {
    checkSession('i. password on the remembered browser', dv.skipped.body, ['pwd', 'dev']);
    check(dv.prompts === 0, 'i. no authenticator prompt on the second login', `${dv.prompts} prompt(s)`);
  }

  // d. replay of b's assertion
  const rep = await run('replayPasskey', api, pass.credential);
  if (expectStatus(rep.steps.options, 200, 'd. POST /v1/auth/passkey/options (a new flow for the replay)')) {
    const r = rep.steps.login;
    const code = r && r.body && r.body.code;
    const good = !!r && r.status !== 200 && r.status >= 400 && r.status < 500;
    check(good, `d. POST /v1/auth/passkey replaying b's assertion with a new flow_token is refused (HTTP ${r && r.status} ${code || ''})`.trim(),
      'expected a 4xx refusal');
    if (!good) showResponse('d. replay', r);
  }
  const after = await withTimeout(cdp.send('WebAuthn.getCredentials', { authenticatorId }), STEP_MS, 'WebAuthn.getCredentials');
  note(`virtual authenticator sign count now ${JSON.stringify((after.credentials || []).map((c) => c.signCount))}`);

  // f. Another user enrolls a passkey at login, on a fresh authenticator
  // (so passwordless login below has exactly one passkey to choose).
  await removeAuthenticator(authenticatorId);
  const fresh = await addAuthenticator();
  check(fresh, 'f. a fresh virtual authenticator replaces the first');
  const en = await run('enrollPasskey', api, enrollEmail, enrollPassword, 'Enrolled at login');
  const e = en.steps;
  if (!e.password || !expectStatus(e.password, 200, 'f. POST /v1/auth/login/password (a user who must enroll)')) {
    throw new Error('no enrollment step; cannot go on');
  }
  const methods = e.password.body && e.password.body.enrollment_methods;
  check(e.password.body.status === 'enrollment_required' && sameJson(methods, ['totp', 'webauthn']),
    'f. enrollment_required with enrollment_methods ["totp","webauthn"]',
    `status ${JSON.stringify(e.password.body.status)}, enrollment_methods ${JSON.stringify(methods)}`);
  if (!expectStatus(e.options, 200, 'f. POST /v1/auth/enrollment/webauthn/options (Bearer flow token)')) {
    throw new Error('no enrollment options; cannot go on');
  }
  const sel = (e.options.body.options.publicKey || {}).authenticatorSelection || {};
  check(e.options.body.status === 'enrollment_required' && sel.residentKey === 'required' && sel.userVerification === 'required',
    'f. enrollment options: status enrollment_required, residentKey required, userVerification required', JSON.stringify(sel));
  if (en.error) throw new Error(`f. navigator.credentials.create() failed: ${en.error}`);
  ok(`f. navigator.credentials.create() answered (client extensions ${JSON.stringify(en.extensions)})`);
  if (!expectStatus(e.register, 200, 'f. POST /v1/auth/enrollment/webauthn -> 200')) {
    throw new Error('enrollment refused; cannot go on');
  }
  const recoveryCode = e.register.body && e.register.body.recovery_code;
  check(e.register.body.status === 'recovery_code_confirmation_required'
    && /^[0-9A-Z]{4}(-[0-9A-Z]{4}){5}$/.test(String(recoveryCode)),
  'f. recovery_code_confirmation_required with a 24-character recovery code', JSON.stringify(e.register.body.status));
  if (expectStatus(e.confirm, 200, 'f. POST /v1/auth/enrollment/recovery-code/confirm -> 200')) {
    checkSession('f. enrollment confirmed', e.confirm.body, ['pwd', 'hwk']);
    check(e.confirm.body.passkey_suggested === false, 'f. passkey_suggested is false: the user has a passkey now',
      JSON.stringify(e.confirm.body.passkey_suggested));
    const tf = e.twofa && e.twofa.body;
    check(tf && tf.status === 'enabled' && sameJson(tf.methods, ['recovery_code', 'webauthn']),
      'f. GET /v1/me/2fa: enabled, methods ["recovery_code","webauthn"]', JSON.stringify(tf && { status: tf.status, methods: tf.methods }));
  }
  const held = await withTimeout(cdp.send('WebAuthn.getCredentials', { authenticatorId: fresh }), STEP_MS, 'WebAuthn.getCredentials');
  const hc = held.credentials || [];
  check(hc.length === 1 && hc[0].isResidentCredential, 'f. the authenticator holds the one discoverable credential',
    JSON.stringify(hc.map((c) => ({ rpId: c.rpId, resident: c.isResidentCredential }))));

  // g. passwordless with the passkey enrolled at login
  const later = await run('passkeyLogin', api);
  if (later.error) notOk(`g. navigator.credentials.get() failed: ${later.error}`);
  if (expectStatus(later.steps.login, 200, 'g. POST /v1/auth/passkey with the passkey enrolled at login -> 200')) {
    checkSession('g. passwordless login', later.steps.login.body, ['hwk']);
    const me = later.steps.me;
    check(me && me.status === 200 && me.body && String(me.body.email).toLowerCase() === enrollEmail.toLowerCase(),
      `g. GET /v1/me with that session is ${enrollEmail}`, `email ${JSON.stringify(me && me.body && me.body.email)}`);
  }

  // h. the device is lost: the recovery code
  await removeAuthenticator(fresh);
  ok('h. the virtual authenticator is removed (the device is lost)');
  const rec = await run('recoveryLogin', api, enrollEmail, enrollPassword, recoveryCode);
  const r = rec.steps;
  if (r.password && expectStatus(r.password, 200, 'h. POST /v1/auth/login/password')) {
    check(r.password.body.status === 'mfa_required' && sameJson(r.password.body.methods, ['recovery_code', 'webauthn']),
      'h. mfa_required with methods ["recovery_code","webauthn"] (no app)', JSON.stringify(r.password.body.methods));
  }
  if (expectStatus(r.recovery, 200, 'h. POST /v1/auth/login/recovery-code -> 200')) {
    check(r.recovery.body.status === 'recovery_code_confirmation_required' && r.recovery.body.recovery_code !== recoveryCode,
      'h. the code is spent: a new recovery code to confirm', JSON.stringify(r.recovery.body.status));
  }
  if (expectStatus(r.confirm, 200, 'h. POST /v1/auth/enrollment/recovery-code/confirm -> 200')) {
    checkSession('h. recovery-code login', r.confirm.body, ['pwd', 'rcv']);
  }
};

// e. Swagger UI at /docs under its Content-Security-Policy: the page renders
// the contract and runs a request with no violation (a blocked script,
// style or image would be one).
const checkDocs = async () => {
  const docs = await context.newPage();
  await docs.addInitScript(() => {
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI} (${e.sample || 'no sample'})`);
    });
  });
  const resp = await docs.goto(`${api}/docs/`, { timeout: STEP_MS, waitUntil: 'load' });
  const csp = (resp && resp.headers()['content-security-policy']) || '';
  check(/default-src 'self'/.test(csp) && /frame-ancestors 'none'/.test(csp),
    "e. /docs/ answers a Content-Security-Policy with default-src 'self' and frame-ancestors 'none'", `got ${JSON.stringify(csp)}`);
  await docs.waitForSelector('.opblock', { timeout: STEP_MS });
  const operations = await docs.locator('.opblock').count();
  const summary = docs.locator('.opblock-summary:has([data-path="/healthz"])').first();
  await summary.click();
  const block = docs.locator('.opblock:has([data-path="/healthz"])').first();
  await block.locator('.try-out__btn').click();
  await block.locator('.execute').click();
  const status = await block.locator('.live-responses-table tbody .response-col_status').first().innerText({ timeout: STEP_MS });
  const violations = await docs.evaluate(() => window.cspViolations);
  check(operations > 20 && status.trim() === '200' && violations.length === 0,
    `e. Swagger UI renders ${operations} operations and runs GET /healthz (${status.trim()}) with no CSP violation`,
    `violations: ${JSON.stringify(violations)}`);
  await docs.close();
};

let code = 0;
try {
  await withTimeout(main(), 5 * STEP_MS, 'the browser journey');
  await withTimeout(checkDocs(), STEP_MS, 'the Swagger UI check');
} catch (e) {
  notOk(`browser journey stopped: ${e && e.message ? e.message.split('\n')[0] : e}`);
  code = 2;
} finally {
  if (context) await withTimeout(context.close(), 15000, 'closing the browser').catch((e) => note(e.message));
}
process.exit(code || (failed > 0 ? 1 : 0));
