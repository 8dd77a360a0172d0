"""Every permission in BankCRM, as one enum.

Routes declare the permission they need; roles map to permissions as data the administrator can
edit (see identity). A module that lands adds its permissions here and its defaults to
``DEFAULT_ROLE_PERMISSIONS`` in identity, and existing deployments pick up the new defaults at
the next ``bankcrm migrate``.
"""

from __future__ import annotations

import enum

from bankcrm.core.i18n import N_


class Permission(enum.StrEnum):
    HOME_VIEW = "home.view"
    PROFILE_EDIT = "profile.edit"
    USER_READ = "user.read"
    USER_WRITE = "user.write"
    ROLE_READ = "role.read"
    ROLE_WRITE = "role.write"
    ORG_READ = "org.read"
    ORG_WRITE = "org.write"
    API_TOKEN_MANAGE = "api_token.manage"  # noqa: S105 - a permission name, not a secret
    AUDIT_READ = "audit.read"
    AUDIT_EXPORT = "audit.export"
    PII_UNMASK = "pii.unmask"
    API_ACCESS = "api.access"
    CUSTOMER_READ = "customer.read"
    CUSTOMER_NAME_VIEW = "customer.name_view"
    CUSTOMER_WRITE = "customer.write"
    CUSTOMER_DEACTIVATE = "customer.deactivate"
    CUSTOMER_EXPORT = "customer.export"
    CUSTOMER_TAG = "customer.tag"
    TAG_MANAGE = "tag.manage"
    SEGMENT_MANAGE = "segment.manage"
    MERGE_REQUEST = "customer.merge.request"
    MERGE_APPROVE = "customer.merge.approve"
    HANDOVER_REQUEST = "portfolio.handover.request"
    HANDOVER_APPROVE = "portfolio.handover.approve"
    INTERACTION_WRITE = "interaction.write"
    INTEGRATION_READ = "integration.read"
    INTEGRATION_RUN = "integration.run"
    MATCH_REVIEW = "integration.match_review"
    MODEL_MANAGE = "model.manage"


PERMISSION_LABELS: dict[Permission, str] = {
    Permission.HOME_VIEW: N_("See the home page"),
    Permission.PROFILE_EDIT: N_("Change own password and preferences"),
    Permission.USER_READ: N_("View users"),
    Permission.USER_WRITE: N_("Create, edit and disable users"),
    Permission.ROLE_READ: N_("View roles and their permissions"),
    Permission.ROLE_WRITE: N_("Edit role permissions"),
    Permission.ORG_READ: N_("View organisation units"),
    Permission.ORG_WRITE: N_("Create, edit, move and close organisation units"),
    Permission.API_TOKEN_MANAGE: N_("Issue and revoke API tokens"),
    Permission.AUDIT_READ: N_("View the audit trail"),
    Permission.AUDIT_EXPORT: N_("Export the audit trail"),
    Permission.PII_UNMASK: N_("Reveal masked personal data (with a reason)"),
    Permission.API_ACCESS: N_("Call the JSON API with a bearer token"),
    Permission.CUSTOMER_READ: N_("View customers in one's data scope"),
    Permission.CUSTOMER_NAME_VIEW: N_("See customer names unmasked"),
    Permission.CUSTOMER_WRITE: N_("Create and edit customers, contacts, consents and relationships"),
    Permission.CUSTOMER_DEACTIVATE: N_("Deactivate and reactivate customers"),
    Permission.CUSTOMER_EXPORT: N_("Export customer lists"),
    Permission.CUSTOMER_TAG: N_("Tag customers and keep customer lists"),
    Permission.TAG_MANAGE: N_("Manage the tag catalogue"),
    Permission.SEGMENT_MANAGE: N_("Define segments and rule tags"),
    Permission.MERGE_REQUEST: N_("Request a merge of duplicate customers"),
    Permission.MERGE_APPROVE: N_("Approve or reject merges and unmerge"),
    Permission.HANDOVER_REQUEST: N_("Request a portfolio handover"),
    Permission.HANDOVER_APPROVE: N_("Approve or reject portfolio handovers"),
    Permission.INTERACTION_WRITE: N_("Log interactions and follow-ups"),
    Permission.INTEGRATION_READ: N_("See source systems, batches and their raw rejected records"),
    Permission.INTEGRATION_RUN: N_("Load files and records from source systems"),
    Permission.MATCH_REVIEW: N_("Decide pairs in the match review queue (merges golden records)"),
    Permission.MODEL_MANAGE: N_("Train, review and activate propensity models (model studio)"),
}
