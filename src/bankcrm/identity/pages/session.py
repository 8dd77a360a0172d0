"""Sign in, sign out, language, own password, and each role's home page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from bankcrm.audit import service as audit_service
from bankcrm.core.errors import ValidationFailed
from bankcrm.core.i18n import LOCALES, N_
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.core.validation import CONTROL_CHARACTERS
from bankcrm.identity.roles import HOME_KIND
from bankcrm.identity.schemas import PasswordChange
from bankcrm.identity.service import auth, overview
from bankcrm.web.auth import PrincipalRoute, current_principal, optional_principal, require
from bankcrm.web.forms import field_errors, form_fields, parse_form
from bankcrm.web.render import Renderer, redirect, translator
from bankcrm.web.render import page as render
from bankcrm.web.security import LOCALE_COOKIE, SESSION_COOKIE, ensure_presession, origin_of, settings_of
from bankcrm.web.transaction import db_session

router = APIRouter(route_class=PrincipalRoute)
WRONG_LOGIN = N_("Wrong username or password.")


def safe_next(target: str | None) -> str:
    """Only same-site paths, so the login form cannot be used to bounce users to another site."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    if CONTROL_CHARACTERS.search(target):
        return "/"
    return target


@router.get("/login")
def login_form(request: Request, principal: Principal | None = Depends(optional_principal)) -> Response:
    if principal is not None:
        return RedirectResponse("/", status_code=303)
    ensure_presession(request)
    return render(
        request,
        "identity/login.html",
        {"next": safe_next(request.query_params.get("next")), "username": "", "error": None},
        principal=None,
    )


@router.post("/login")
async def login(request: Request, db: Session = Depends(db_session)) -> Response:
    fields = await form_fields(request)
    username = str(fields.get("username", ""))[:64]
    password = str(fields.get("password", ""))[:128]
    target = safe_next(str(fields.get("next", "")))
    settings = settings_of(request)
    # argon2id takes a few hundred milliseconds on purpose: on the event loop it would stall every
    # other request of the server for that long, so it runs in the thread pool.
    result = await run_in_threadpool(
        auth.login,
        db,
        username=username,
        password=password,
        origin=origin_of(request),
        settings=settings,
        previous_token=request.cookies.get(SESSION_COOKIE),
    )
    if not result.ok or result.token is None:
        # 200, not 401: the failed attempt (and its audit row) must be committed, and the form re-shown.
        return render(
            request,
            "identity/login.html",
            {
                "next": target,
                "username": username,
                "error": translator(request).gettext(result.message or WRONG_LOGIN, **(result.params or {})),
            },
            principal=None,
        )
    response = RedirectResponse(
        "/account/password" if result.must_change_password else target, status_code=303
    )
    response.set_cookie(
        SESSION_COOKIE,
        result.token,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        max_age=settings.session_absolute_hours * 3600,
    )
    return response


@router.post("/logout")
def logout(request: Request, db: Session = Depends(db_session)) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        auth.logout(db, token=token, origin=origin_of(request))
    response = redirect(request, "/login", flash=("success", N_("You have signed out.")))
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/lang")
async def switch_language(request: Request) -> Response:
    fields = await form_fields(request)
    locale = str(fields.get("locale", ""))
    response = RedirectResponse(safe_next(str(fields.get("next", "/"))), status_code=303)
    if locale in LOCALES:
        response.set_cookie(
            LOCALE_COOKIE,
            locale,
            max_age=365 * 86400,
            samesite="lax",
            secure=settings_of(request).cookie_secure,
        )
    return response


@router.get("/account/password")
def password_form(
    request: Request, principal: Principal = Depends(require(Permission.PROFILE_EDIT))
) -> Response:
    return render(request, "identity/password.html", {"errors": {}}, principal=principal)


@router.post("/account/password")
async def change_password(
    request: Request,
    db: Session = Depends(db_session),
    principal: Principal = Depends(require(Permission.PROFILE_EDIT)),
) -> Response:
    fields = await form_fields(request)
    confirm = fields.pop("confirm_password", "")
    try:
        data = parse_form(PasswordChange, fields)
        if data.new_password != confirm:
            raise ValidationFailed.single(
                "confirm_password", "password.confirm", N_("The two new passwords are different.")
            )
        auth.change_password(db, principal, data=data, settings=settings_of(request))
    except ValidationFailed as exc:
        return render(
            request,
            "identity/password.html",
            {"errors": field_errors(exc, translator(request))},
            principal=principal,
            status_code=422,
        )
    return redirect(request, "/", flash=("success", N_("Your password has been changed.")))


def _widgets(db: Session, principal: Principal) -> dict[str, Any]:
    """Live figures where the data exists today; the rest say which module will fill them."""
    data: dict[str, Any] = {"home_kind": HOME_KIND.get(principal.role, "analyst")}
    if principal.can(Permission.USER_READ) and principal.can(Permission.ROLE_READ):
        data["security"] = overview.security_overview(db, principal)
    if principal.can(Permission.ORG_READ):
        data["org"] = overview.org_overview(db, principal)
    if principal.can(Permission.AUDIT_READ):
        data["recent_audit"] = audit_service.recent(db, principal, limit=8)
    return data


@router.get("/")
def home(
    request: Request, db: Session = Depends(db_session), principal: Principal = Depends(current_principal)
) -> Response:
    if principal.must_change_password:
        return RedirectResponse("/account/password", status_code=303)
    principal.require(Permission.HOME_VIEW)
    renderer: Renderer = request.app.state.renderer
    module_widgets, replaced = renderer.home_widgets.render(request, db, principal)
    context = {**_widgets(db, principal), "module_widgets": module_widgets, "replaced": replaced}
    return render(request, "home/home.html", context, principal=principal)
