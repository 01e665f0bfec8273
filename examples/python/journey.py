"""The whole twofold journey through a generated Python client.

Every request goes through the package that openapi-python-client 0.29.1
generates from the committed `openapi.yaml` (`twofold_client`, generated
beside this file, never committed): its operation functions, its models and
its `Client` / `AuthenticatedClient`. No hand-written HTTP, no casts, no
`type: ignore`; `mypy --strict` checks this file against the generated code.

The account and its admin exist already (`twofold accounts create --json`),
and the account has been paying for two days, so 2FA is due at once:

 0. the operator (Bearer operator key) gives the account a few licences
 1. login: email, password -> enrollment_required
 2. TOTP enrollment (Bearer flow token); the PNG QR code decodes (zbarimg)
    to the otpauth URI
 3. the first code (pyotp) -> a recovery code, confirmed -> tokens
 4. GET /v1/me (Bearer access token)
 5. a later login with a TOTP code of a later 30-second step
 6. a login with the recovery code, which issues and confirms a new one
 7. admin: list users by name, role and 2FA status; create a user; require
    then reset their 2FA; the audit trail shows all of it
 8. refresh, logout, and the logged-out access token is refused (401)

Configuration (environment):
  JOURNEY_BASE_URL    the server, e.g. http://127.0.0.1:18080
  JOURNEY_EMAIL       the admin's email
  JOURNEY_PASSWORD    the admin's password
  JOURNEY_ACCOUNT_ID  the account's id
  JOURNEY_OPERATOR_KEY  the server's TWOFOLD_OPERATOR_KEY

Prints one `ok - ...` / `not ok - ...` line per check and `# ...` notes;
exits 1 when a check failed.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from http import HTTPStatus
from typing import NoReturn, TypeVar
from uuid import UUID

import httpx
import pyotp

from twofold_client import AuthenticatedClient, Client, errors
from twofold_client.api.admin import (
    create_user,
    enable_user_twofa,
    list_audit_events,
    list_users,
    reset_user_twofa,
)
from twofold_client.api.enrollment import (
    confirm_enrollment_recovery_code,
    get_enrollment_totp_qr_png,
    start_enrollment_totp,
    verify_enrollment_totp,
)
from twofold_client.api.login import (
    start_login,
    submit_login_password,
    submit_login_recovery_code,
    submit_login_totp,
)
from twofold_client.api.me import get_me
from twofold_client.api.operator import get_operator_account, update_operator_account
from twofold_client.api.sessions import logout, refresh_tokens
from twofold_client.models import (
    AdminUser,
    AuditKind,
    AuditPage,
    Billing,
    BillingUpdate,
    BulkResult,
    CodeRequest,
    ConfirmRequest,
    CreatedUser,
    CreateUserRequest,
    EnrollmentRequired,
    EnrollmentRequiredStatus,
    ErrorCode,
    MeResponse,
    Method,
    MfaRequired,
    MfaRequiredStatus,
    PasswordRequest,
    PasswordRequired,
    PasswordRequiredStatus,
    Problem,
    RecoveryCodeConfirmationRequired,
    RecoveryCodeConfirmationRequiredStatus,
    RecoveryLoginRequest,
    RefreshRequest,
    Role,
    StartRequest,
    TokenResponse,
    TokenResponseStatus,
    TokenResponseTokenType,
    TotpEnrollment,
    TotpLoginRequest,
    TwofaStatus,
    UserPage,
)
from twofold_client.types import File, Response

RECOVERY_CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){5}$")

# --- reporting -------------------------------------------------------------

passed = 0
failed = 0


def ok(what: str) -> None:
    global passed
    passed += 1
    print(f"ok - {what}", flush=True)


def not_ok(what: str) -> None:
    global failed
    failed += 1
    print(f"not ok - {what}", flush=True)


def note(what: str) -> None:
    print(f"# {what}", flush=True)


class Stop(Exception):
    """A failed check the journey cannot go on after."""


def stop(what: str) -> NoReturn:
    not_ok(what)
    raise Stop(what)


def check(condition: bool, what: str, got: str = "") -> bool:
    if condition:
        ok(what)
    else:
        not_ok(f"{what}; got {got}" if got else what)
    return condition


# --- answers -------------------------------------------------------------

P = TypeVar("P")
M = TypeVar("M")


def describe(status: HTTPStatus, parsed: object) -> str:
    """An answer in a few words, for a failure line (no secrets)."""
    if isinstance(parsed, Problem):
        return f"HTTP {status.value} {parsed.code.value}: {parsed.detail}"
    return f"HTTP {status.value} {type(parsed).__name__}"


def expect(what: str, response: Response[P], status: HTTPStatus, model: type[M]) -> M:
    """The answer must have this status and parse as this model of the
    operation's documented answers; else the journey stops."""
    parsed = response.parsed
    if response.status_code != status or not isinstance(parsed, model):
        stop(
            f"{what}: expected HTTP {status.value} {model.__name__}, got "
            + describe(response.status_code, parsed)
        )
    return parsed


def expect_problem(what: str, response: Response[P], status: HTTPStatus, code: ErrorCode) -> None:
    """The answer must be a problem document with this status and code (a
    check: the journey goes on)."""
    parsed = response.parsed
    if (
        response.status_code == status
        and isinstance(parsed, Problem)
        and parsed.code == code
        and parsed.status == status.value
        and response.headers.get("content-type") == "application/problem+json"
    ):
        ok(f"{what} -> {status.value} {code.value} (application/problem+json)")
    else:
        not_ok(
            f"{what}: expected HTTP {status.value} {code.value}, got "
            + describe(response.status_code, parsed)
        )


# --- the journey ---------------------------------------------------------


class Journey:
    def __init__(self, base_url: str, email: str, password: str, account_id: UUID, operator_key: str) -> None:
        self.base_url = base_url
        self.email = email
        self.password = password
        self.account_id = account_id
        self.operator_key = operator_key
        self.clients = contextlib.ExitStack()
        # Loopback only: no proxy from the environment; any status the
        # contract does not document raises errors.UnexpectedStatus.
        self.public = self.clients.enter_context(
            Client(
                base_url=base_url,
                timeout=httpx.Timeout(20.0),
                raise_on_unexpected_status=True,
                httpx_args={"trust_env": False},
            )
        )

    def bearer(self, token: str) -> AuthenticatedClient:
        """A client sending `Authorization: Bearer <token>`: a flow token
        (scheme flowToken) or an access token (scheme accessToken)."""
        return self.clients.enter_context(
            AuthenticatedClient(
                base_url=self.base_url,
                token=token,
                timeout=httpx.Timeout(20.0),
                raise_on_unexpected_status=True,
                httpx_args={"trust_env": False},
            )
        )

    def close(self) -> None:
        self.clients.close()

    # -- login ----------------------------------------------------------

    def login_password(
        self, label: str
    ) -> MfaRequired | EnrollmentRequired | RecoveryCodeConfirmationRequired | TokenResponse:
        """Email, then password; the password step's answer (a LoginStep)."""
        started = expect(
            f"{label}: start_login",
            start_login.sync_detailed(client=self.public, body=StartRequest(email=self.email)),
            HTTPStatus.OK,
            PasswordRequired,
        )
        check(
            started.status == PasswordRequiredStatus.PASSWORD_REQUIRED,
            f"{label}: start_login -> {started.status.value}",
            started.status.value,
        )
        answer = submit_login_password.sync_detailed(
            client=self.public,
            body=PasswordRequest(flow_token=started.flow_token, password=self.password),
        )
        step = answer.parsed
        # The LoginStep union (oneOf, discriminator `status`): narrowed on
        # its model, each with its own one-value `status` enum.
        if answer.status_code != HTTPStatus.OK or not isinstance(
            step, (MfaRequired, EnrollmentRequired, RecoveryCodeConfirmationRequired, TokenResponse)
        ):
            stop(f"{label}: submit_login_password: " + describe(answer.status_code, step))
        return step

    def session(self, label: str, tokens: TokenResponse, amr: list[str]) -> None:
        check(
            tokens.status == TokenResponseStatus.AUTHENTICATED
            and tokens.token_type == TokenResponseTokenType.BEARER
            and tokens.access_token.count(".") == 2
            and tokens.refresh_token != ""
            and tokens.expires_in > 0,
            f"{label}: authenticated, token_type Bearer, a JWT access token, a refresh token",
            f"{tokens.status.value} {tokens.token_type.value} expires_in {tokens.expires_in}",
        )
        me = expect(
            f"{label}: get_me",
            get_me.sync_detailed(client=self.bearer(tokens.access_token)),
            HTTPStatus.OK,
            MeResponse,
        )
        check(
            me.session.aal == 2 and me.session.amr == amr,
            f"{label}: get_me: session aal 2, amr {amr}",
            f"aal {me.session.aal}, amr {me.session.amr}",
        )

    # -- the steps ------------------------------------------------------

    def run(self) -> None:
        # 0. The operator's view of the account (scheme operatorKey); room
        #    for the user the admin creates in step 7.
        operator = self.bearer(self.operator_key)
        billing = expect(
            "get_operator_account",
            get_operator_account.sync_detailed(self.account_id, client=operator),
            HTTPStatus.OK,
            Billing,
        )
        since = billing.paying_since
        paying_for = (
            datetime.datetime.now(datetime.UTC) - since
            if isinstance(since, datetime.datetime)
            else None
        )
        check(
            billing.account_id == self.account_id
            and paying_for is not None
            and datetime.timedelta(hours=47) < paying_for < datetime.timedelta(hours=49)
            and billing.users == 1,
            "get_operator_account: this account, one user, paying for two days (2FA due)",
            f"paying_since {since!r}, {billing.users} users",
        )
        billing = expect(
            "update_operator_account(licenses=5)",
            update_operator_account.sync_detailed(
                self.account_id, client=operator, body=BillingUpdate(licenses=5)
            ),
            HTTPStatus.OK,
            Billing,
        )
        check(
            billing.licenses == 5 and billing.paying_since is not None,
            "update_operator_account: 5 licences, still paying",
            f"{billing.licenses} licences, paying_since {billing.paying_since!r}",
        )

        # 1. Login: 2FA is due, nothing enrolled yet.
        step = self.login_password("enrollment login")
        if not isinstance(step, EnrollmentRequired):
            stop(
                f"enrollment login: submit_login_password: expected enrollment_required, got {step.status.value}"
            )
        check(
            step.status == EnrollmentRequiredStatus.ENROLLMENT_REQUIRED,
            f"enrollment login: submit_login_password -> {step.status.value} (EnrollmentRequired)",
        )
        flow = step.flow_token

        # 2. TOTP enrollment with the flow token; the QR code as PNG.
        enrollment = expect(
            "start_enrollment_totp",
            start_enrollment_totp.sync_detailed(client=self.bearer(flow)),
            HTTPStatus.OK,
            TotpEnrollment,
        )
        if isinstance(enrollment.flow_token, str):
            flow = enrollment.flow_token
        else:
            not_ok("start_enrollment_totp (login flow) answers a flow_token")
        check(
            enrollment.otpauth_uri.startswith("otpauth://totp/")
            and re.fullmatch(r"[A-Z2-7]{32}", enrollment.secret) is not None
            and enrollment.digits == 6
            and enrollment.period == 30
            and enrollment.algorithm.value == "SHA1",
            "start_enrollment_totp: otpauth URI, 160-bit base32 secret, SHA1, 6 digits, 30 s",
            f"{enrollment.algorithm.value} {enrollment.digits} digits {enrollment.period} s",
        )
        qr = get_enrollment_totp_qr_png.sync_detailed(client=self.bearer(flow))
        png = expect("get_enrollment_totp_qr_png", qr, HTTPStatus.OK, File)
        image = png.payload.read()
        check(
            image.startswith(b"\x89PNG\r\n\x1a\n") and qr.headers.get("content-type") == "image/png",
            f"get_enrollment_totp_qr_png: {len(image)} bytes of image/png",
            f"{qr.headers.get('content-type')}, {image[:8]!r}",
        )
        decoded = zbar_decode(image)
        check(
            decoded == enrollment.otpauth_uri,
            "zbarimg decodes the PNG to exactly the otpauth_uri",
            repr(decoded),
        )
        # From here on the authenticator app's view: the URI the camera read.
        totp = pyotp.parse_uri(decoded or enrollment.otpauth_uri)
        if not isinstance(totp, pyotp.TOTP) or totp.secret != enrollment.secret:
            stop("the decoded otpauth URI is a TOTP URI with the enrollment's secret")

        # 3. The first code, then the recovery code.
        left = 30 - int(time.time()) % 30
        if left <= 3:
            note(f"waiting {left} s for a fresh 30-second TOTP step")
            time.sleep(left)
        code_step = int(time.time()) // 30
        code = totp.at(code_step * 30)
        confirmation = expect(
            "verify_enrollment_totp (pyotp code)",
            verify_enrollment_totp.sync_detailed(client=self.bearer(flow), body=CodeRequest(code=code)),
            HTTPStatus.OK,
            RecoveryCodeConfirmationRequired,
        )
        check(
            confirmation.status == RecoveryCodeConfirmationRequiredStatus.RECOVERY_CODE_CONFIRMATION_REQUIRED
            and RECOVERY_CODE.fullmatch(confirmation.recovery_code) is not None,
            f"verify_enrollment_totp -> {confirmation.status.value} with a recovery code XXXX-XXXX-XXXX-XXXX-XXXX-XXXX",
        )
        recovery = confirmation.recovery_code
        tokens = expect(
            "confirm_enrollment_recovery_code",
            confirm_enrollment_recovery_code.sync_detailed(
                client=self.bearer(confirmation.flow_token), body=ConfirmRequest(confirmed=True)
            ),
            HTTPStatus.OK,
            TokenResponse,
        )
        ok(f"confirm_enrollment_recovery_code -> {tokens.status.value} (TokenResponse)")
        self.session("enrollment", tokens, ["pwd", "otp"])

        # 4. Who am I.
        me = expect(
            "get_me", get_me.sync_detailed(client=self.bearer(tokens.access_token)), HTTPStatus.OK, MeResponse
        )
        check(
            me.email == self.email
            and me.role == Role.ADMIN
            and me.twofa_status == TwofaStatus.ENABLED
            and me.twofa_required
            and me.account.id == self.account_id,
            "get_me: this admin of this account, twofa_status enabled, 2FA required",
            f"{me.email} {me.role.value} {me.twofa_status.value} required={me.twofa_required} account {me.account.id}",
        )

        # 5. A later login with a code; the enrollment code is spent.
        step = self.login_password("code login")
        if not isinstance(step, MfaRequired):
            stop(f"code login: submit_login_password: expected mfa_required, got {step.status.value}")
        check(
            step.status == MfaRequiredStatus.MFA_REQUIRED
            and Method.TOTP in step.methods
            and Method.RECOVERY_CODE in step.methods,
            f"code login: submit_login_password -> {step.status.value}, methods {[m.value for m in step.methods]}",
            str([m.value for m in step.methods]),
        )
        replay = submit_login_totp.sync_detailed(
            client=self.public, body=TotpLoginRequest(flow_token=step.flow_token, code=code)
        )
        if int(time.time()) // 30 == code_step:
            expect_problem(
                "submit_login_totp replaying the enrollment code",
                replay,
                HTTPStatus.UNAUTHORIZED,
                ErrorCode.CODE_ALREADY_USED,
            )
        else:
            note("skipped the replay check: a 30-second step boundary passed since the enrollment code")
        wait = (code_step + 1) * 30 - time.time()
        if wait > 0:
            if wait > 31:
                stop(f"refusing to wait {wait:.0f} s for the next TOTP step")
            note(f"waiting {wait:.0f} s for the next 30-second TOTP step")
            time.sleep(wait)
        step = self.login_password("code login, new step")
        if not isinstance(step, MfaRequired):
            stop(
                f"code login, new step: submit_login_password: expected mfa_required, got {step.status.value}"
            )
        tokens = expect(
            "submit_login_totp (pyotp code of a later step)",
            submit_login_totp.sync_detailed(
                client=self.public, body=TotpLoginRequest(flow_token=step.flow_token, code=totp.now())
            ),
            HTTPStatus.OK,
            TokenResponse,
        )
        ok(f"submit_login_totp -> {tokens.status.value} (TokenResponse)")
        self.session("code login", tokens, ["pwd", "otp"])

        # 6. A login with the recovery code, which is replaced.
        step = self.login_password("recovery login")
        if not isinstance(step, MfaRequired):
            stop(f"recovery login: submit_login_password: expected mfa_required, got {step.status.value}")
        ok(f"recovery login: submit_login_password -> {step.status.value}")
        confirmation = expect(
            "submit_login_recovery_code",
            submit_login_recovery_code.sync_detailed(
                client=self.public,
                body=RecoveryLoginRequest(flow_token=step.flow_token, recovery_code=recovery),
            ),
            HTTPStatus.OK,
            RecoveryCodeConfirmationRequired,
        )
        check(
            RECOVERY_CODE.fullmatch(confirmation.recovery_code) is not None
            and confirmation.recovery_code != recovery,
            f"submit_login_recovery_code -> {confirmation.status.value} with a NEW recovery code",
        )
        tokens = expect(
            "confirm_enrollment_recovery_code (new recovery code)",
            confirm_enrollment_recovery_code.sync_detailed(
                client=self.bearer(confirmation.flow_token), body=ConfirmRequest(confirmed=True)
            ),
            HTTPStatus.OK,
            TokenResponse,
        )
        ok(f"confirm_enrollment_recovery_code (new recovery code) -> {tokens.status.value}")
        self.session("recovery login", tokens, ["pwd", "rcv"])

        # 7. The admin's work.
        admin = self.bearer(tokens.access_token)
        local_part = self.email.split("@")[0]

        def listed(what: str, page: Response[Problem | UserPage]) -> list[AdminUser]:
            return expect(what, page, HTTPStatus.OK, UserPage).items

        by_name = listed(
            "list_users(name=...)", list_users.sync_detailed(client=admin, name=local_part.upper())
        )
        check(
            [u.id for u in by_name] == [me.id],
            "list_users filtered by name (case-insensitive) finds the admin alone",
            str([u.email for u in by_name]),
        )
        by_role = listed("list_users(role=admin)", list_users.sync_detailed(client=admin, role=Role.ADMIN))
        check(
            me.id in [u.id for u in by_role] and all(u.role == Role.ADMIN for u in by_role),
            "list_users filtered by role admin: admins only, this one among them",
        )
        enabled = listed(
            "list_users(twofa_status=enabled)",
            list_users.sync_detailed(client=admin, twofa_status=TwofaStatus.ENABLED),
        )
        check(
            me.id in [u.id for u in enabled] and all(u.twofa_status == TwofaStatus.ENABLED for u in enabled),
            "list_users filtered by twofa_status enabled: enabled users only, the admin among them",
        )

        new_email = f"tech-{local_part}@example.com"
        created = expect(
            "create_user",
            create_user.sync_detailed(
                client=admin,
                body=CreateUserRequest(email=new_email, name="Grace Technician", role=Role.TECHNICIAN),
            ),
            HTTPStatus.CREATED,
            CreatedUser,
        )
        check(
            created.email == new_email
            and created.role == Role.TECHNICIAN
            and len(created.initial_password) >= 12,
            f"create_user -> 201, {created.role.value}, twofa_status {created.twofa_status.value}, an initial_password",
            f"{created.email} {created.role.value} password of {len(created.initial_password)} characters",
        )
        technicians = listed(
            "list_users(role=technician)", list_users.sync_detailed(client=admin, role=Role.TECHNICIAN)
        )
        check(
            [u.id for u in technicians] == [created.id],
            "list_users filtered by role technician finds the new user alone",
            str([u.email for u in technicians]),
        )

        enabled_result = expect(
            "enable_user_twofa",
            enable_user_twofa.sync_detailed(created.id, client=admin),
            HTTPStatus.OK,
            BulkResult,
        )
        check(
            [r.user_id for r in enabled_result.results] == [created.id]
            and enabled_result.results[0].twofa_status != TwofaStatus.DISABLED,
            "enable_user_twofa: one result, this user, 2FA no longer disabled "
            + ", ".join(f"({r.twofa_status.value}, changed {r.changed})" for r in enabled_result.results),
        )
        reset_result = expect(
            "reset_user_twofa",
            reset_user_twofa.sync_detailed(created.id, client=admin),
            HTTPStatus.OK,
            BulkResult,
        )
        check(
            [r.user_id for r in reset_result.results] == [created.id],
            "reset_user_twofa: one result, this user "
            + ", ".join(
                f"({r.twofa_status.value}, changed {r.changed}, sessions_revoked {r.sessions_revoked})"
                for r in reset_result.results
            ),
        )

        events = expect(
            "list_audit_events",
            list_audit_events.sync_detailed(client=admin, limit=200),
            HTTPStatus.OK,
            AuditPage,
        ).items
        kinds = {e.kind for e in events}
        wanted = [
            AuditKind.ACCOUNT_BILLING_CHANGED,
            AuditKind.LOGIN_SUCCEEDED,
            AuditKind.TWOFA_TOTP_ENROLLED,
            AuditKind.TWOFA_RECOVERY_CODE_USED,
            AuditKind.USER_CREATED,
            AuditKind.TWOFA_REQUIRED,
            AuditKind.TWOFA_RESET,
        ]
        note("audit kinds: " + ", ".join(sorted(k.value for k in kinds)))
        missing = [k.value for k in wanted if k not in kinds]
        check(
            not missing,
            f"list_audit_events: {len(events)} events, among them {', '.join(k.value for k in wanted)}",
            f"missing {missing}; kinds {sorted(k.value for k in kinds)}",
        )
        creation = expect(
            "list_audit_events(kind=user.created, user_id=...)",
            list_audit_events.sync_detailed(client=admin, kind=AuditKind.USER_CREATED, user_id=created.id),
            HTTPStatus.OK,
            AuditPage,
        ).items
        check(
            len(creation) == 1
            and creation[0].kind == AuditKind.USER_CREATED
            and creation[0].subject_user_id == created.id,
            "list_audit_events filtered by kind and user_id: the one user.created event of the new user",
            str([(e.kind.value, e.subject_user_id) for e in creation]),
        )

        # 8. Refresh, logout, and the session is over.
        refreshed = expect(
            "refresh_tokens",
            refresh_tokens.sync_detailed(
                client=self.public, body=RefreshRequest(refresh_token=tokens.refresh_token)
            ),
            HTTPStatus.OK,
            TokenResponse,
        )
        # (The access token may equal the old one: same session, same claims,
        # issued within the same second.)
        check(
            refreshed.status == TokenResponseStatus.AUTHENTICATED
            and refreshed.refresh_token != tokens.refresh_token
            and refreshed.access_token.count(".") == 2,
            f"refresh_tokens -> {refreshed.status.value}, a new refresh token and an access token",
        )
        out = logout.sync_detailed(client=self.bearer(refreshed.access_token))
        check(
            out.status_code == HTTPStatus.NO_CONTENT, "logout -> 204", describe(out.status_code, out.parsed)
        )
        expect_problem(
            "get_me with the logged-out access token",
            get_me.sync_detailed(client=self.bearer(refreshed.access_token)),
            HTTPStatus.UNAUTHORIZED,
            ErrorCode.INVALID_TOKEN,
        )
        expect_problem(
            "get_me with the access token from before the refresh",
            get_me.sync_detailed(client=self.bearer(tokens.access_token)),
            HTTPStatus.UNAUTHORIZED,
            ErrorCode.INVALID_TOKEN,
        )
        expect_problem(
            "refresh_tokens with the logged-out session's refresh token",
            refresh_tokens.sync_detailed(
                client=self.public, body=RefreshRequest(refresh_token=refreshed.refresh_token)
            ),
            HTTPStatus.UNAUTHORIZED,
            ErrorCode.INVALID_TOKEN,
        )


def zbar_decode(png: bytes) -> str:
    """What a camera reads from the PNG (zbarimg); "" when nothing."""
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        stop("zbarimg (apt package zbar-tools) is installed")
    with tempfile.NamedTemporaryFile(suffix=".png") as f:
        f.write(png)
        f.flush()
        run = subprocess.run(
            [zbarimg, "-q", "--raw", f.name], capture_output=True, text=True, timeout=30, check=False
        )
    return run.stdout.strip()


def setting(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        print(f"journey.py: set {name}", file=sys.stderr)
        sys.exit(2)
    return value


def main() -> int:
    journey = Journey(
        base_url=setting("JOURNEY_BASE_URL"),
        email=setting("JOURNEY_EMAIL"),
        password=setting("JOURNEY_PASSWORD"),
        account_id=UUID(setting("JOURNEY_ACCOUNT_ID")),
        operator_key=setting("JOURNEY_OPERATOR_KEY"),
    )
    try:
        journey.run()
    except Stop:
        pass
    except errors.UnexpectedStatus as e:
        # An answer whose status the contract does not document.
        not_ok(f"undocumented answer: HTTP {e.status_code} {e.content[:300]!r}")
    except Exception as e:  # a generated model refusing an answer, a timeout, ...
        not_ok(f"unexpected {type(e).__name__}: {e}")
        for line in traceback.format_exc().splitlines()[-12:]:
            note(f"  {line}")
    finally:
        journey.close()
    note(f"journey: {passed} checks passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
