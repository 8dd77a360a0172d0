"""Bearer tokens for other bank systems: scoped, shown once, revocable."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from bankcrm.audit import service as audit
from bankcrm.core.db import utcnow
from bankcrm.core.errors import ProblemCollector
from bankcrm.core.i18n import N_
from bankcrm.core.pagination import Page, PageRequest
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.core.security import new_token, token_digest
from bankcrm.identity import repository as repo
from bankcrm.identity.models import ApiToken
from bankcrm.identity.schemas import ApiTokenCreate, ApiTokenIssued, ApiTokenOut
from bankcrm.identity.service.errors import ApiTokenNotFound

ENTITY = "api_token"
TOKEN_PREFIX = "bcrm_"  # noqa: S105 - marks our tokens in secret scanners; not a secret


def _out(token: ApiToken, username: str) -> ApiTokenOut:
    return ApiTokenOut(
        id=token.id,
        name=token.name,
        user_id=token.user_id,
        username=username,
        token_prefix=token.token_prefix,
        scopes=token.scopes.split(),
        created_at=token.created_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
        last_used_at=token.last_used_at,
    )


def issue_token(session: Session, principal: Principal, *, data: ApiTokenCreate) -> ApiTokenIssued:
    """Create a token for an API-client user. The clear token is returned here and never again."""
    principal.require(Permission.API_TOKEN_MANAGE)
    problems = ProblemCollector()
    # Only an API client the manager can see: a branch's token manager serves its own branch.
    user = repo.find_readable_user(session, principal, data.user_id)
    role = repo.get_role(session, user.role_id) if user else None
    if user is None or role is None or not role.is_api_client:
        problems.add(
            "user_id",
            "token.api_client",
            N_("Tokens are issued to active API-client users only."),
            data.user_id,
        )
    elif not user.is_active:
        problems.add("user_id", "token.user_active", N_("The user is disabled."), data.user_id)
    valid = {permission.value for permission in Permission}
    unknown = sorted(set(data.scopes) - valid)
    if unknown:
        problems.add(
            "scopes",
            "token.scope_exists",
            N_("Unknown permission: %(names)s."),
            ", ".join(unknown),
            names=", ".join(unknown),
        )
    if Permission.API_ACCESS.value not in data.scopes:
        problems.add(
            "scopes", "token.api_access", N_("A token needs the api.access scope."), " ".join(data.scopes)
        )
    if user is not None and repo.find_token_by_name(session, user.id, data.name) is not None:
        problems.add(
            "name", "token.name_unique", N_("This user already has a token with that name."), data.name
        )
    problems.raise_if_any()
    assert user is not None
    clear = TOKEN_PREFIX + new_token()
    now = utcnow()
    token = ApiToken(
        name=data.name,
        user_id=user.id,
        token_digest=token_digest(clear),
        token_prefix=clear[:12],
        scopes=" ".join(sorted(set(data.scopes))),
        created_by=principal.user_id,
        created_at=now,
        expires_at=now + timedelta(days=data.expires_in_days) if data.expires_in_days else None,
    )
    repo.add(session, token)
    session.flush()
    audit.record_event(
        session,
        principal.actor,
        action="issue",
        entity_type=ENTITY,
        entity_id=token.id,
        details={"user_id": user.id, "name": data.name, "scopes": token.scopes},
    )
    return ApiTokenIssued(**_out(token, user.username).model_dump(), token=clear)


def revoke_token(session: Session, principal: Principal, *, token_id: int, reason: str) -> ApiTokenOut:
    principal.require(Permission.API_TOKEN_MANAGE)
    token = repo.find_readable_token(session, principal, token_id)
    if token is None:
        raise ApiTokenNotFound(id=token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
        audit.record_event(
            session, principal.actor, action="revoke", entity_type=ENTITY, entity_id=token.id, reason=reason
        )
    return _out(token, repo.usernames(session, [token.user_id]).get(token.user_id, "?"))


def list_tokens(session: Session, principal: Principal, *, page: PageRequest) -> Page[ApiTokenOut]:
    principal.require(Permission.API_TOKEN_MANAGE)
    rows = repo.list_tokens(session, principal, offset=page.offset, limit=page.size)
    names = repo.usernames(session, [row.user_id for row in rows])
    return Page(
        items=[_out(row, names.get(row.user_id, "?")) for row in rows],
        total=repo.count_tokens(session, principal),
        page=page.page,
        size=page.size,
    )


def mark_used(session: Session, token: str) -> None:
    record = repo.find_token_by_digest(session, token_digest(token))
    if record is not None:
        record.last_used_at = utcnow()
