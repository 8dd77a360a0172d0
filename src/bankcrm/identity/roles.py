"""The built-in roles, their data scopes and default permissions.

These are defaults only: the live role -> permission map is data (``role_permission``) that the
administrator edits. ``identity.service.sync_roles`` applies defaults for permissions a deployment
has not seen before and never re-grants what an administrator removed.
"""

from __future__ import annotations

from bankcrm.core.i18n import N_
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import DataScope

ROLE_LABELS = {
    "admin": N_("Administrator"),
    "executive": N_("Executive (head office)"),
    "branch_manager": N_("Branch manager"),
    "sub_branch_manager": N_("Sub-branch manager"),
    "relationship_manager": N_("Relationship manager"),
    "marketing": N_("Marketing"),
    "service_agent": N_("Service agent"),
    "risk_officer": N_("Risk officer"),
    "analyst": N_("Analyst (read-only)"),
    "api_client": N_("API client (other bank systems)"),
}

ROLE_SCOPES: dict[str, DataScope] = {
    "admin": DataScope.ALL,
    "executive": DataScope.ALL,
    "branch_manager": DataScope.SUBTREE,
    "sub_branch_manager": DataScope.SUBTREE,
    "relationship_manager": DataScope.OWN,
    "marketing": DataScope.SUBTREE,
    "service_agent": DataScope.ALL,
    "risk_officer": DataScope.SUBTREE,
    "analyst": DataScope.SUBTREE,
    "api_client": DataScope.ALL,
}

P = Permission  # short alias keeps the grant table readable
_STAFF = {P.HOME_VIEW, P.PROFILE_EDIT}

_CUSTOMER_READER = {P.CUSTOMER_READ, P.CUSTOMER_NAME_VIEW}
_CUSTOMER_WORKER = _CUSTOMER_READER | {
    P.CUSTOMER_WRITE,
    P.CUSTOMER_TAG,
    P.INTERACTION_WRITE,
    P.MERGE_REQUEST,
    P.HANDOVER_REQUEST,
}
_MANAGER = _CUSTOMER_WORKER | {
    P.ORG_READ,
    P.USER_READ,
    P.PII_UNMASK,
    P.CUSTOMER_DEACTIVATE,
    P.CUSTOMER_EXPORT,
    P.MERGE_APPROVE,
    P.HANDOVER_APPROVE,
    P.SEGMENT_MANAGE,
}

DEFAULT_ROLE_PERMISSIONS: dict[str, set[P]] = {
    "admin": _STAFF
    | _CUSTOMER_READER
    | {
        P.USER_READ,
        P.USER_WRITE,
        P.ROLE_READ,
        P.ROLE_WRITE,
        P.ORG_READ,
        P.ORG_WRITE,
        P.API_TOKEN_MANAGE,
        P.AUDIT_READ,
        P.AUDIT_EXPORT,
        P.PII_UNMASK,
        P.TAG_MANAGE,
        P.INTEGRATION_READ,
        P.INTEGRATION_RUN,
        P.MATCH_REVIEW,
        P.MODEL_MANAGE,
    },
    "executive": _STAFF | _CUSTOMER_READER | {P.ORG_READ, P.USER_READ, P.CUSTOMER_EXPORT},
    "branch_manager": _STAFF | _MANAGER,
    "sub_branch_manager": _STAFF | _MANAGER,
    "relationship_manager": _STAFF | _CUSTOMER_WORKER | {P.PII_UNMASK},
    "marketing": _STAFF
    | _CUSTOMER_READER
    | {P.CUSTOMER_TAG, P.CUSTOMER_EXPORT, P.TAG_MANAGE, P.SEGMENT_MANAGE, P.MODEL_MANAGE},
    "service_agent": _STAFF | _CUSTOMER_READER | {P.PII_UNMASK, P.INTERACTION_WRITE},
    "risk_officer": _STAFF | _CUSTOMER_READER | {P.ORG_READ, P.PII_UNMASK},
    # Analysts read aggregates: customers are visible to them with names and identifiers masked.
    "analyst": _STAFF | {P.ORG_READ, P.CUSTOMER_READ, P.SEGMENT_MANAGE, P.MODEL_MANAGE},
    "api_client": {P.API_ACCESS, P.ORG_READ, P.CUSTOMER_READ, P.CUSTOMER_NAME_VIEW, P.INTEGRATION_RUN},
}

# The home page each role starts its day on (ARCHITECTURE.md, Users).
HOME_KIND = {
    "admin": "admin",
    "executive": "executive",
    "branch_manager": "manager",
    "sub_branch_manager": "manager",
    "relationship_manager": "rm",
    "marketing": "marketing",
    "service_agent": "agent",
    "risk_officer": "risk",
    "analyst": "analyst",
    "api_client": "api",
}

ORG_KIND_LABELS = {
    "head_office": N_("Head office"),
    "branch": N_("Branch"),
    "sub_branch": N_("Sub-branch"),
    "team": N_("Team"),
}
# Which kind of unit may sit under which: the tree stays head office -> branch -> sub-branch -> team.
ALLOWED_CHILDREN = {
    "head_office": {"branch", "team"},
    "branch": {"sub_branch", "team"},
    "sub_branch": {"team"},
    "team": set[str](),
}

SCOPE_LABELS = {
    "own": N_("Own portfolio"),
    "subtree": N_("Own unit and below"),
    "all": N_("Whole bank"),
}

MOVE_STATUS_LABELS = {
    "scheduled": N_("Scheduled"),
    "applied": N_("Applied"),
    "cancelled": N_("Cancelled"),
}
