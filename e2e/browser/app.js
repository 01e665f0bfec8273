// The test page's functions, called by run.mjs through page.evaluate.
// Each returns plain JSON: what was sent, what came back, never a judgement
// (run.mjs decides ok / not ok).
'use strict';

(() => {
  const FETCH_TIMEOUT_MS = 30000;
  const CEREMONY_TIMEOUT_MS = 60000;

  // --- base64url <-> bytes -------------------------------------------------
  function b64urlToBytes(s) {
    const b64 = s.replace(/-/g, '+').replace(/_/g, '/');
    const padded = b64 + '='.repeat((4 - (b64.length % 4)) % 4);
    const bin = atob(padded);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function bytesToB64url(buf) {
    const bytes = buf instanceof ArrayBuffer ? new Uint8Array(buf) : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    let bin = '';
    for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function log(line) {
    document.getElementById('log').textContent += line + '\n';
  }

  // --- HTTP ----------------------------------------------------------------
  // call(api, method, path, body?, bearer?) -> {status, body, text}
  async function call(api, method, path, body, bearer) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (bearer) headers.Authorization = 'Bearer ' + bearer;
    const res = await fetch(api + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      mode: 'cors',
      credentials: 'omit',
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch (_) { /* not JSON */ }
    log(`${method} ${path} -> ${res.status}`);
    return { status: res.status, body: json, text: text.slice(0, 2000) };
  }

  // --- options (JSON) -> what navigator.credentials takes -------------------
  function creationOptions(pk) {
    const o = structuredClone(pk);
    o.challenge = b64urlToBytes(pk.challenge);
    o.user = { ...pk.user, id: b64urlToBytes(pk.user.id) };
    if (Array.isArray(pk.excludeCredentials)) {
      o.excludeCredentials = pk.excludeCredentials.map((c) => ({ ...c, id: b64urlToBytes(c.id) }));
    }
    return o;
  }
  function requestOptions(pk) {
    const o = structuredClone(pk);
    o.challenge = b64urlToBytes(pk.challenge);
    if (Array.isArray(pk.allowCredentials)) {
      o.allowCredentials = pk.allowCredentials.map((c) => ({ ...c, id: b64urlToBytes(c.id) }));
    }
    return o;
  }

  // --- the browser's answer -> JSON ---------------------------------------
  function encodeAttestation(cred) {
    const r = cred.response;
    const response = {
      clientDataJSON: bytesToB64url(r.clientDataJSON),
      attestationObject: bytesToB64url(r.attestationObject),
    };
    if (typeof r.getTransports === 'function') {
      const t = r.getTransports();
      if (t && t.length) response.transports = t;
    }
    return {
      id: cred.id,
      rawId: bytesToB64url(cred.rawId),
      type: cred.type,
      response,
      clientExtensionResults: cred.getClientExtensionResults(),
    };
  }
  function encodeAssertion(cred) {
    const r = cred.response;
    return {
      id: cred.id,
      rawId: bytesToB64url(cred.rawId),
      type: cred.type,
      response: {
        clientDataJSON: bytesToB64url(r.clientDataJSON),
        authenticatorData: bytesToB64url(r.authenticatorData),
        signature: bytesToB64url(r.signature),
        userHandle: r.userHandle ? bytesToB64url(r.userHandle) : null,
      },
      clientExtensionResults: cred.getClientExtensionResults(),
    };
  }

  // How many WebAuthn prompts the page has shown.
  let ceremonies = 0;

  async function ceremony(kind, publicKey) {
    ceremonies += 1;
    try {
      const cred = kind === 'create'
        ? await navigator.credentials.create({ publicKey, signal: AbortSignal.timeout(CEREMONY_TIMEOUT_MS) })
        : await navigator.credentials.get({ publicKey, signal: AbortSignal.timeout(CEREMONY_TIMEOUT_MS) });
      log(`navigator.credentials.${kind}() -> ${cred && cred.type}`);
      return { cred };
    } catch (e) {
      log(`navigator.credentials.${kind}() threw ${e && e.name}`);
      return { error: `${e && e.name}: ${e && e.message}` };
    }
  }

  function clientData(b64) {
    return JSON.parse(new TextDecoder().decode(b64urlToBytes(b64)));
  }

  // a. Register a credential for the signed-in user.
  async function register(api, accessToken, name) {
    const steps = {};
    steps.options = await call(api, 'POST', '/v1/me/webauthn/registration/options', undefined, accessToken);
    const pk = steps.options.body && steps.options.body.options && steps.options.body.options.publicKey;
    if (steps.options.status !== 200 || !pk) return { steps };
    const got = await ceremony('create', creationOptions(pk));
    if (got.error) return { steps, error: got.error };
    const credential = encodeAttestation(got.cred);
    steps.clientData = clientData(credential.response.clientDataJSON);
    steps.register = await call(api, 'POST', '/v1/me/webauthn/registration', { credential, name }, accessToken);
    steps.list = await call(api, 'GET', '/v1/me/webauthn/credentials', undefined, accessToken);
    return { steps, credentialId: credential.id, transports: credential.response.transports || null };
  }

  // b. Passwordless login with the discoverable credential.
  async function passkeyLogin(api) {
    const steps = {};
    steps.options = await call(api, 'POST', '/v1/auth/passkey/options');
    const body = steps.options.body || {};
    const pk = body.options && body.options.publicKey;
    if (steps.options.status !== 200 || !pk || !body.flow_token) return { steps };
    const got = await ceremony('get', requestOptions(pk));
    if (got.error) return { steps, error: got.error };
    const credential = encodeAssertion(got.cred);
    steps.login = await call(api, 'POST', '/v1/auth/passkey', { flow_token: body.flow_token, credential });
    if (steps.login.status === 200 && steps.login.body && steps.login.body.access_token) {
      steps.me = await call(api, 'GET', '/v1/me', undefined, steps.login.body.access_token);
    }
    return { steps, credential };
  }

  // c. Email + password, then the authenticator as the second factor.
  async function secondFactor(api, email, password) {
    const steps = {};
    steps.login = await call(api, 'POST', '/v1/auth/login', { email });
    if (steps.login.status !== 200 || !steps.login.body || !steps.login.body.flow_token) return { steps };
    steps.password = await call(api, 'POST', '/v1/auth/login/password', { flow_token: steps.login.body.flow_token, password });
    if (steps.password.status !== 200 || !steps.password.body || !steps.password.body.flow_token) return { steps };
    steps.options = await call(api, 'POST', '/v1/auth/login/webauthn/options', { flow_token: steps.password.body.flow_token });
    const body = steps.options.body || {};
    const pk = body.options && body.options.publicKey;
    if (steps.options.status !== 200 || !pk) return { steps };
    const flowToken = body.flow_token || steps.password.body.flow_token;
    const got = await ceremony('get', requestOptions(pk));
    if (got.error) return { steps, error: got.error };
    const credential = encodeAssertion(got.cred);
    steps.webauthn = await call(api, 'POST', '/v1/auth/login/webauthn', { flow_token: flowToken, credential });
    return { steps };
  }

  // i. "Trust this browser": the admin allows 30 days; a second-factor login
  // with remember_device keeps the device token in localStorage, as a
  // frontend would; the next login sends it with the password and shows no
  // authenticator prompt.
  async function rememberDevice(api, email, password, accessToken) {
    const steps = {};
    steps.allow = await call(api, 'PATCH', '/v1/admin/security', { remember_device_days: 30 }, accessToken);
    const flow = await passwordStep(api, email, password, steps);
    if (!flow) return { steps };
    steps.options = await call(api, 'POST', '/v1/auth/login/webauthn/options', { flow_token: flow });
    const body = steps.options.body || {};
    const pk = body.options && body.options.publicKey;
    if (steps.options.status !== 200 || !pk) return { steps };
    const got = await ceremony('get', requestOptions(pk));
    if (got.error) return { steps, error: got.error };
    const credential = encodeAssertion(got.cred);
    steps.webauthn = await call(api, 'POST', '/v1/auth/login/webauthn',
      { flow_token: body.flow_token || flow, credential, remember_device: true });
    const granted = steps.webauthn.body || {};
    if (steps.webauthn.status !== 200 || !granted.device_token) return { steps };
    localStorage.setItem('twofold.device_token', granted.device_token);
    const prompts = ceremonies;
    steps.again = await call(api, 'POST', '/v1/auth/login', { email });
    const again = steps.again.body || {};
    steps.skipped = await call(api, 'POST', '/v1/auth/login/password', {
      flow_token: again.flow_token, password, device_token: localStorage.getItem('twofold.device_token'),
    });
    steps.prompts = ceremonies - prompts;
    return { steps };
  }

  // d. Re-submit an assertion already used, under a new flow token.
  async function replayPasskey(api, credential) {
    const steps = {};
    steps.options = await call(api, 'POST', '/v1/auth/passkey/options');
    const body = steps.options.body || {};
    if (steps.options.status !== 200 || !body.flow_token) return { steps };
    steps.login = await call(api, 'POST', '/v1/auth/passkey', { flow_token: body.flow_token, credential });
    return { steps };
  }

  // Email + password up to the flow token of the password step's answer.
  async function passwordStep(api, email, password, steps) {
    steps.login = await call(api, 'POST', '/v1/auth/login', { email });
    if (steps.login.status !== 200 || !steps.login.body || !steps.login.body.flow_token) return null;
    steps.password = await call(api, 'POST', '/v1/auth/login/password', { flow_token: steps.login.body.flow_token, password });
    if (steps.password.status !== 200 || !steps.password.body || !steps.password.body.flow_token) return null;
    return steps.password.body.flow_token;
  }

  // f. A user who must enroll picks a passkey at login: options and answer
  // with the flow token as Bearer, then the recovery code's confirmation.
  async function enrollPasskey(api, email, password, name) {
    const steps = {};
    const flow = await passwordStep(api, email, password, steps);
    if (!flow) return { steps };
    steps.options = await call(api, 'POST', '/v1/auth/enrollment/webauthn/options', undefined, flow);
    const body = steps.options.body || {};
    const pk = body.options && body.options.publicKey;
    if (steps.options.status !== 200 || !pk) return { steps };
    const got = await ceremony('create', creationOptions(pk));
    if (got.error) return { steps, error: got.error };
    const credential = encodeAttestation(got.cred);
    steps.clientData = clientData(credential.response.clientDataJSON);
    steps.register = await call(api, 'POST', '/v1/auth/enrollment/webauthn', { credential, name }, body.flow_token || flow);
    const shown = steps.register.body || {};
    if (steps.register.status !== 200 || !shown.flow_token) return { steps };
    steps.confirm = await call(api, 'POST', '/v1/auth/enrollment/recovery-code/confirm', { confirmed: true }, shown.flow_token);
    if (steps.confirm.status === 200 && steps.confirm.body && steps.confirm.body.access_token) {
      steps.twofa = await call(api, 'GET', '/v1/me/2fa', undefined, steps.confirm.body.access_token);
    }
    return { steps, credentialId: credential.id, extensions: credential.clientExtensionResults };
  }

  // h. The passkey's device is gone: the password and the recovery code,
  // then the new recovery code's confirmation.
  async function recoveryLogin(api, email, password, recoveryCode) {
    const steps = {};
    const flow = await passwordStep(api, email, password, steps);
    if (!flow) return { steps };
    steps.recovery = await call(api, 'POST', '/v1/auth/login/recovery-code', { flow_token: flow, recovery_code: recoveryCode });
    const shown = steps.recovery.body || {};
    if (steps.recovery.status !== 200 || !shown.flow_token) return { steps };
    steps.confirm = await call(api, 'POST', '/v1/auth/enrollment/recovery-code/confirm', { confirmed: true }, shown.flow_token);
    return { steps };
  }

  window.twofoldE2E = {
    register, passkeyLogin, secondFactor, rememberDevice, replayPasskey, enrollPasskey, recoveryLogin,
  };
  log('ready');
})();
