"""Identity's domain errors."""

from __future__ import annotations

from bankcrm.core.errors import Conflict, DomainError, NotFound
from bankcrm.core.i18n import N_


class OrgUnitNotFound(NotFound):
    code = "org-unit-not-found"
    default_message = N_("Organisation unit %(id)s does not exist or is outside your data scope.")


class UserNotFound(NotFound):
    code = "user-not-found"
    default_message = N_("User %(id)s does not exist or is outside your data scope.")


class RoleNotFound(NotFound):
    code = "role-not-found"
    default_message = N_("Role %(id)s does not exist.")


class ApiTokenNotFound(NotFound):
    code = "api-token-not-found"
    default_message = N_("API token %(id)s does not exist or is outside your data scope.")


class StaleEdit(Conflict):
    code = "stale-edit"
    default_message = N_(
        "Someone else saved this record after you opened it (your version %(yours)s, current %(current)s). "
        "Reload to see their changes, then apply yours again."
    )


class AccountLocked(DomainError):
    kind = "locked"
    code = "account-locked"
    default_message = N_("This account is locked after too many failed sign-ins. Try again after %(until)s.")
