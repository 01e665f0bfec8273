// The whole twofold journey through a client generated from the committed
// contract: openapi-typescript turns openapi.yaml into schema.d.ts, and
// every request below is a call of openapi-fetch's createClient<paths>().
// It compiles under `tsc --strict` (with noUncheckedIndexedAccess and
// exactOptionalPropertyTypes) with no cast, no `any`, no ts-ignore and no
// hand-written type guard: the login steps are narrowed on their `status`.
//
// Environment (set by scripts/e2e-client-typescript.sh):
//   TWOFOLD_E2E_BASE_URL    the API, e.g. http://127.0.0.1:18180
//   TWOFOLD_E2E_EMAIL       the account admin's email
//   TWOFOLD_E2E_PASSWORD    the admin's password (from `accounts create --json`)
//   TWOFOLD_E2E_ACCOUNT_ID  the account (paying two days ago: 2FA is due)
// Prints one `ok - ...` / `not ok - ...` line per check; exits 1 on a failure.
import createClient from "openapi-fetch";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import type { components, paths } from "./schema";
import { base32Decode, rfc6238Mismatches, totp } from "./totp";

type Schemas = components["schemas"];
type LoginStep = Schemas["LoginStep"];
type Problem = Schemas["Problem"];
type TokenResponse = Schemas["TokenResponse"];
type AuditKind = Schemas["AuditKind"];

// --- output -------------------------------------------------------------

let passed = 0;
let failed = 0;

function ok(what: string): void {
  passed += 1;
  console.log(`ok - ${what}`);
}

function notOk(what: string, ...notes: string[]): void {
  failed += 1;
  console.log(`not ok - ${what}`);
  for (const line of notes) {
    console.log(`#   ${line}`);
  }
}

/** A check: counted, and the journey goes on either way. */
function check(cond: boolean, what: string, ...notes: string[]): boolean {
  if (cond) {
    ok(what);
  } else {
    notOk(what, ...notes);
  }
  return cond;
}

/** A failure the journey cannot go on after. */
class Stop extends Error {}

function stop(what: string, ...notes: string[]): Stop {
  notOk(what, ...notes);
  return new Stop(what);
}

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw stop(`environment variable ${name} is set`);
  }
  return value;
}

// --- answers --------------------------------------------------------------

/** The shape of every openapi-fetch answer whose errors are problems. */
type Answer<D> =
  | { data: D; error?: never; response: Response }
  | { data?: never; error: Problem; response: Response };

function problemText(error: Problem | undefined): string {
  return error === undefined ? "(no problem body)" : `${error.code}: ${error.detail}`;
}

/** The answer's data when it has HTTP status `status`; else the journey stops. */
function expectData<D>(what: string, answer: Answer<D>, status = 200): D {
  const got = answer.response.status;
  if (answer.error !== undefined || got !== status) {
    throw stop(`${what}: HTTP ${got}, expected ${status}`, problemText(answer.error));
  }
  return answer.data;
}

/** A problem+json refusal with this status and one of these codes (a check). */
function expectProblem<D>(
  what: string,
  answer: Answer<D>,
  status: number,
  codes: ReadonlyArray<Problem["code"]>,
): void {
  const ctype = answer.response.headers.get("content-type");
  const got = answer.response.status;
  if (answer.error === undefined) {
    notOk(`${what}: HTTP ${got} with no problem, expected ${status} ${codes.join(" or ")}`);
    return;
  }
  const error = answer.error;
  check(
    got === status &&
      error.status === status &&
      codes.includes(error.code) &&
      ctype === "application/problem+json",
    `${what} -> ${status} ${error.code} (application/problem+json)`,
    `got HTTP ${got} ${ctype ?? "(no content type)"} ${problemText(error)}; expected ${status} ${codes.join(" or ")}`,
  );
}

/** One line naming a login step; the switch must cover every state. */
function describeStep(step: LoginStep): string {
  switch (step.status) {
    case "mfa_required":
      return `mfa_required (methods ${step.methods.join(", ")})`;
    case "enrollment_required":
      return `enrollment_required (flow token for ${step.expires_in} s)`;
    case "recovery_code_confirmation_required":
      return `recovery_code_confirmation_required (flow token for ${step.expires_in} s)`;
    case "authenticated":
      return `authenticated (${step.token_type} token for ${step.expires_in} s)`;
    default: {
      // A new state in the contract makes this assignment fail to compile.
      const unknownState: never = step;
      return `unknown state ${JSON.stringify(unknownState)}`;
    }
  }
}

function bearer(token: string): { Authorization: string } {
  return { Authorization: `Bearer ${token}` };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);
const stepOf = (t: number): number => Math.floor(t / 30);
const RECOVERY_CODE = /^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){5}$/;

// --- the journey ------------------------------------------------------------

async function journey(): Promise<void> {
  const wrong = rfc6238Mismatches();
  check(
    wrong.length === 0,
    "TOTP (node:crypto HMAC-SHA1) matches the RFC 6238 SHA1 vectors (t=59 -> 94287082, t=1111111109 -> 07081804, t=1234567890 -> 89005924, ...)",
    ...wrong,
  );
  if (wrong.length > 0) {
    throw new Stop("TOTP implementation");
  }

  const baseUrl = env("TWOFOLD_E2E_BASE_URL");
  const email = env("TWOFOLD_E2E_EMAIL");
  const password = env("TWOFOLD_E2E_PASSWORD");
  const accountId = env("TWOFOLD_E2E_ACCOUNT_ID");
  // One deadline for every request of the journey.
  const api = createClient<paths>({ baseUrl, signal: AbortSignal.timeout(150_000) });

  /** Email, then password: the answer of the password step. */
  async function passwordStep(label: string): Promise<LoginStep> {
    const start = expectData(
      `${label}: POST /v1/auth/login`,
      await api.POST("/v1/auth/login", { body: { email } }),
    );
    check(start.status === "password_required", `${label}: POST /v1/auth/login -> ${start.status}`);
    const step = expectData(
      `${label}: POST /v1/auth/login/password`,
      await api.POST("/v1/auth/login/password", {
        body: { flow_token: start.flow_token, password },
      }),
    );
    return step;
  }

  /** GET /v1/me with this access token (a check of who and how). */
  async function me(label: string, access: string, amr: ReadonlyArray<string>): Promise<Schemas["MeResponse"]> {
    const who = expectData(`${label}: GET /v1/me`, await api.GET("/v1/me", { headers: bearer(access) }));
    check(
      who.email === email &&
        who.account.id === accountId &&
        who.role === "admin" &&
        who.twofa_status === "enabled" &&
        who.twofa_required &&
        who.session.aal === 2 &&
        who.session.amr.join(",") === amr.join(","),
      `${label}: GET /v1/me -> ${who.email}, role ${who.role}, account ${who.account.id}, twofa ${who.twofa_status}, aal ${who.session.aal}, amr [${who.session.amr.join(",")}]`,
      `expected ${email}, admin of ${accountId}, twofa enabled and required, aal 2, amr [${amr.join(",")}]`,
    );
    return who;
  }

  function checkTokens(label: string, tokens: TokenResponse): void {
    check(
      tokens.status === "authenticated" &&
        tokens.token_type === "Bearer" &&
        tokens.access_token.split(".").length === 3 &&
        tokens.refresh_token.length > 0 &&
        tokens.expires_in > 0,
      `${label}: authenticated with a Bearer JWT and a refresh token (expires in ${tokens.expires_in} s)`,
    );
  }

  // 1. Email, password: 2FA is due and not set up.
  const first = await passwordStep("enrollment login");
  if (first.status !== "enrollment_required") {
    throw stop(`enrollment login: POST /v1/auth/login/password -> ${describeStep(first)}, expected enrollment_required`);
  }
  ok(`enrollment login: POST /v1/auth/login/password -> ${describeStep(first)}`);
  let flow = first.flow_token;

  // 2. The authenticator's secret and its QR code.
  const enrollment = expectData(
    "POST /v1/auth/enrollment/totp",
    await api.POST("/v1/auth/enrollment/totp", { headers: bearer(flow) }),
  );
  if (enrollment.flow_token !== undefined && enrollment.flow_token !== null) {
    flow = enrollment.flow_token;
  }
  check(
    enrollment.status === "enrollment_required" &&
      enrollment.otpauth_uri.startsWith("otpauth://totp/") &&
      /^[A-Z2-7]{32}$/.test(enrollment.secret) &&
      enrollment.algorithm === "SHA1" &&
      enrollment.digits === 6 &&
      enrollment.period === 30 &&
      enrollment.qr_png_url === `${baseUrl}/v1/auth/enrollment/totp/qr.png`,
    `POST /v1/auth/enrollment/totp -> secret, otpauth_uri, ${enrollment.algorithm}/${enrollment.digits} digits/${enrollment.period} s, qr_png_url`,
    `got ${enrollment.otpauth_uri}, qr_png_url ${enrollment.qr_png_url}`,
  );

  const qr = await api.GET("/v1/auth/enrollment/totp/qr.png", {
    headers: bearer(flow),
    parseAs: "arrayBuffer",
  });
  const png = Buffer.from(expectData("GET /v1/auth/enrollment/totp/qr.png", qr));
  check(
    qr.response.headers.get("content-type") === "image/png" &&
      png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
    `GET /v1/auth/enrollment/totp/qr.png (parseAs arrayBuffer) -> image/png, ${png.length} bytes`,
    `content-type ${qr.response.headers.get("content-type") ?? "(none)"}`,
  );
  const image = PNG.sync.read(png);
  const rgba = new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  const decoded = jsQR(rgba, image.width, image.height);
  check(
    decoded !== null && decoded.data === enrollment.otpauth_uri,
    `the QR code (${image.width}x${image.height}, decoded by jsQR) is exactly the otpauth_uri`,
    `decoded: ${decoded === null ? "(nothing)" : decoded.data}`,
    `json:    ${enrollment.otpauth_uri}`,
  );
  // From here on the secret is the one the camera read, as an app sees it.
  const scanned = new URL(decoded === null ? enrollment.otpauth_uri : decoded.data);
  const secret = scanned.searchParams.get("secret") ?? "";
  check(
    secret === enrollment.secret &&
      scanned.searchParams.get("issuer") === enrollment.issuer &&
      scanned.searchParams.get("digits") === String(enrollment.digits) &&
      scanned.searchParams.get("period") === String(enrollment.period),
    `the scanned URI carries the same secret, issuer ${enrollment.issuer}, digits and period`,
  );
  const key = base32Decode(secret);

  // 3. The first code, then the recovery code, then the session.
  const left = 30 - (nowSeconds() % 30);
  if (left <= 3) {
    console.log(`# waiting ${left} s for a fresh 30-second TOTP step`);
    await sleep(left * 1000);
  }
  const enrolledAt = nowSeconds();
  const enrollmentCode = totp(key, enrolledAt);
  const verified = expectData(
    "POST /v1/auth/enrollment/totp/verify",
    await api.POST("/v1/auth/enrollment/totp/verify", {
      headers: bearer(flow),
      body: { code: enrollmentCode },
    }),
  );
  check(
    verified.status === "recovery_code_confirmation_required" && RECOVERY_CODE.test(verified.recovery_code),
    `POST /v1/auth/enrollment/totp/verify (computed code) -> ${verified.status} with a recovery code XXXX-XXXX-XXXX-XXXX-XXXX-XXXX`,
    `got ${verified.recovery_code}`,
  );
  const recoveryCode = verified.recovery_code;
  const enrolled = expectData(
    "POST /v1/auth/enrollment/recovery-code/confirm",
    await api.POST("/v1/auth/enrollment/recovery-code/confirm", {
      headers: bearer(verified.flow_token),
      body: { confirmed: true },
    }),
  );
  checkTokens("POST /v1/auth/enrollment/recovery-code/confirm", enrolled);

  // 4. Who am I.
  await me("enrollment session", enrolled.access_token, ["pwd", "otp"]);

  // 5. A later login with a code of a later step (the enrollment code is spent).
  const second = await passwordStep("code login");
  if (second.status !== "mfa_required") {
    throw stop(`code login: POST /v1/auth/login/password -> ${describeStep(second)}, expected mfa_required`);
  }
  check(
    second.methods.includes("totp") && second.methods.includes("recovery_code"),
    `code login: POST /v1/auth/login/password -> ${describeStep(second)}`,
  );
  if (stepOf(nowSeconds()) - stepOf(enrolledAt) <= 1) {
    expectProblem(
      "code login: POST /v1/auth/login/totp replaying the enrollment code",
      await api.POST("/v1/auth/login/totp", {
        body: { flow_token: second.flow_token, code: enrollmentCode },
      }),
      401,
      ["code_already_used"],
    );
  } else {
    console.log("# skipped the replay check: the enrollment code's step is long past");
  }
  const waitS = (stepOf(enrolledAt) + 1) * 30 - nowSeconds();
  if (waitS > 0) {
    if (waitS > 31) {
      throw stop(`refusing to wait ${waitS} s for the next TOTP step`);
    }
    console.log(`# waiting ${waitS} s for the next 30-second TOTP step`);
    await sleep(waitS * 1000);
  }
  const codeStep = expectData(
    "code login: POST /v1/auth/login/totp",
    await api.POST("/v1/auth/login/totp", {
      body: { flow_token: second.flow_token, code: totp(key, nowSeconds()) },
    }),
  );
  if (codeStep.status !== "authenticated") {
    throw stop(`code login: POST /v1/auth/login/totp -> ${describeStep(codeStep)}, expected authenticated`);
  }
  checkTokens("code login: POST /v1/auth/login/totp (a code of the next step)", codeStep);
  await me("code session", codeStep.access_token, ["pwd", "otp"]);

  // 6. The recovery code instead of the app: a new code, confirmed.
  const third = await passwordStep("recovery login");
  if (third.status !== "mfa_required") {
    throw stop(`recovery login: POST /v1/auth/login/password -> ${describeStep(third)}, expected mfa_required`);
  }
  ok(`recovery login: POST /v1/auth/login/password -> ${describeStep(third)}`);
  const rotated = expectData(
    "recovery login: POST /v1/auth/login/recovery-code",
    await api.POST("/v1/auth/login/recovery-code", {
      body: { flow_token: third.flow_token, recovery_code: recoveryCode },
    }),
  );
  check(
    rotated.status === "recovery_code_confirmation_required" &&
      RECOVERY_CODE.test(rotated.recovery_code) &&
      rotated.recovery_code !== recoveryCode,
    `recovery login: POST /v1/auth/login/recovery-code -> ${rotated.status} with a NEW recovery code`,
  );
  const recovered = expectData(
    "recovery login: POST /v1/auth/enrollment/recovery-code/confirm",
    await api.POST("/v1/auth/enrollment/recovery-code/confirm", {
      headers: bearer(rotated.flow_token),
      body: { confirmed: true },
    }),
  );
  checkTokens("recovery login: POST /v1/auth/enrollment/recovery-code/confirm", recovered);
  const admin = await me("recovery session", recovered.access_token, ["pwd", "rcv"]);
  const asAdmin = bearer(recovered.access_token);

  // 7. The admin's pages.
  const byName = expectData(
    "GET /v1/admin/users?name=",
    await api.GET("/v1/admin/users", { headers: asAdmin, params: { query: { name: email.toUpperCase() } } }),
  );
  check(
    byName.items.length === 1 && byName.items[0]?.id === admin.id,
    `GET /v1/admin/users?name=<admin email, upper case> -> exactly the admin`,
    `got ${byName.items.map((u) => u.email).join(", ")}`,
  );
  const admins = expectData(
    "GET /v1/admin/users?role=admin",
    await api.GET("/v1/admin/users", { headers: asAdmin, params: { query: { role: "admin" } } }),
  );
  check(
    admins.items.some((u) => u.id === admin.id) && admins.items.every((u) => u.role === "admin"),
    `GET /v1/admin/users?role=admin -> ${admins.items.length} admin(s), the caller among them`,
  );
  const enabled = expectData(
    "GET /v1/admin/users?twofa_status=enabled",
    await api.GET("/v1/admin/users", { headers: asAdmin, params: { query: { twofa_status: "enabled" } } }),
  );
  const adminRow = enabled.items.find((u) => u.id === admin.id);
  check(
    adminRow !== undefined &&
      enabled.items.every((u) => u.twofa_status === "enabled") &&
      adminRow.methods.includes("totp") &&
      adminRow.required_by.includes("account"),
    `GET /v1/admin/users?twofa_status=enabled -> the admin, methods [${adminRow?.methods.join(",") ?? ""}], required by [${adminRow?.required_by.join(",") ?? ""}]`,
  );

  const newEmail = `ts-${Date.now()}-${process.pid}@example.com`;
  const created = expectData(
    "POST /v1/admin/users",
    await api.POST("/v1/admin/users", {
      headers: asAdmin,
      body: { email: newEmail, name: "Grace TypeScript", role: "technician" },
    }),
    201,
  );
  check(
    created.email === newEmail &&
      created.role === "technician" &&
      created.initial_password.length >= 10 &&
      created.twofa_status !== "enabled",
    `POST /v1/admin/users -> 201 ${created.email} (${created.role}, twofa ${created.twofa_status}) with an initial_password`,
  );
  const userPath = { path: { id: created.id } };
  const required = expectData(
    "POST /v1/admin/users/{id}/2fa/enable",
    await api.POST("/v1/admin/users/{id}/2fa/enable", { headers: asAdmin, params: userPath }),
  );
  const requiredRow = required.results[0];
  check(
    required.results.length === 1 &&
      requiredRow !== undefined &&
      requiredRow.user_id === created.id &&
      requiredRow.changed &&
      requiredRow.twofa_status === "pending",
    `POST /v1/admin/users/{id}/2fa/enable -> changed ${String(requiredRow?.changed)}, twofa ${requiredRow?.twofa_status ?? "?"}`,
  );
  const reset = expectData(
    "POST /v1/admin/users/{id}/2fa/reset",
    await api.POST("/v1/admin/users/{id}/2fa/reset", { headers: asAdmin, params: userPath }),
  );
  const resetRow = reset.results[0];
  check(
    reset.results.length === 1 &&
      resetRow !== undefined &&
      resetRow.user_id === created.id &&
      resetRow.twofa_status === "pending" &&
      resetRow.sessions_revoked === 0,
    `POST /v1/admin/users/{id}/2fa/reset -> twofa ${resetRow?.twofa_status ?? "?"}, sessions revoked ${String(resetRow?.sessions_revoked)}`,
  );
  const pending = expectData(
    "GET /v1/admin/users?role=technician&twofa_status=pending",
    await api.GET("/v1/admin/users", {
      headers: asAdmin,
      params: { query: { role: "technician", twofa_status: "pending", limit: 200 } },
    }),
  );
  const createdRow = pending.items.find((u) => u.id === created.id);
  check(
    createdRow !== undefined && createdRow.twofa_required && createdRow.required_by.includes("admin"),
    `GET /v1/admin/users?role=technician&twofa_status=pending -> the new user, required by [${createdRow?.required_by.join(",") ?? ""}]`,
  );

  const audit = expectData(
    "GET /v1/admin/audit-events",
    await api.GET("/v1/admin/audit-events", { headers: asAdmin, params: { query: { limit: 200 } } }),
  );
  const kinds = new Set<AuditKind>(audit.items.map((e) => e.kind));
  const expected: AuditKind[] = [
    "login.succeeded",
    "twofa.totp_enrolled",
    "twofa.recovery_code_used",
    "user.created",
    "twofa.required",
    "twofa.reset",
  ];
  const missing = expected.filter((k) => !kinds.has(k));
  check(
    missing.length === 0,
    `GET /v1/admin/audit-events -> ${audit.items.length} events, with ${expected.join(", ")}`,
    `missing ${missing.join(", ")}; kinds seen: ${[...kinds].join(", ")}`,
  );
  const aboutUser = expectData(
    "GET /v1/admin/audit-events?user_id=",
    await api.GET("/v1/admin/audit-events", { headers: asAdmin, params: { query: { user_id: created.id } } }),
  );
  const userKinds = aboutUser.items.map((e) => e.kind);
  const userExpected: AuditKind[] = ["user.created", "twofa.required", "twofa.reset"];
  check(
    userExpected.every((k) => userKinds.includes(k)) &&
      aboutUser.items.every(
        (e) => e.subject_user_id === created.id || e.actor.user_id === created.id,
      ) &&
      aboutUser.items.some((e) => e.actor.kind === "user" && e.actor.user_id === admin.id),
    `GET /v1/admin/audit-events?user_id=<new user> -> [${userKinds.join(", ")}], acted by the admin`,
  );
  const resets = expectData(
    "GET /v1/admin/audit-events?kind=twofa.reset",
    await api.GET("/v1/admin/audit-events", { headers: asAdmin, params: { query: { kind: "twofa.reset" } } }),
  );
  check(
    resets.items.length >= 1 && resets.items.every((e) => e.kind === "twofa.reset"),
    `GET /v1/admin/audit-events?kind=twofa.reset -> ${resets.items.length} event(s), all twofa.reset`,
  );

  // 8. Refresh, log out, and the old access token is refused.
  const refreshed = expectData(
    "POST /v1/auth/token/refresh",
    await api.POST("/v1/auth/token/refresh", { body: { refresh_token: recovered.refresh_token } }),
  );
  checkTokens("POST /v1/auth/token/refresh", refreshed);
  // The refresh token is single use and replaced; the access token may be
  // byte-identical when signed within the same second (it has no jti).
  const afterRefresh = expectData(
    "GET /v1/me with the refreshed access token",
    await api.GET("/v1/me", { headers: bearer(refreshed.access_token) }),
  );
  check(
    refreshed.refresh_token !== recovered.refresh_token && afterRefresh.session.id === admin.session.id,
    "POST /v1/auth/token/refresh -> a new refresh token; its access token works for the same session",
  );
  const loggedOut = await api.POST("/v1/auth/logout", { headers: bearer(refreshed.access_token) });
  check(
    loggedOut.response.status === 204 && loggedOut.error === undefined,
    `POST /v1/auth/logout -> ${loggedOut.response.status}`,
    problemText(loggedOut.error),
  );
  expectProblem(
    "GET /v1/me with the logged-out access token",
    await api.GET("/v1/me", { headers: bearer(refreshed.access_token) }),
    401,
    ["invalid_token", "unauthorized"],
  );
  expectProblem(
    "GET /v1/me with the session's access token from before the refresh",
    await api.GET("/v1/me", { headers: bearer(recovered.access_token) }),
    401,
    ["invalid_token", "unauthorized"],
  );
  expectProblem(
    "POST /v1/auth/token/refresh with the logged-out session's refresh token",
    await api.POST("/v1/auth/token/refresh", { body: { refresh_token: refreshed.refresh_token } }),
    401,
    ["invalid_token"],
  );
}

async function main(): Promise<void> {
  const t0 = Date.now();
  try {
    await journey();
  } catch (err: unknown) {
    if (!(err instanceof Stop)) {
      notOk(`unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }
  console.log(`# journey: ${passed} passed, ${failed} failed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  process.exitCode = failed > 0 ? 1 : 0;
}

void main();
