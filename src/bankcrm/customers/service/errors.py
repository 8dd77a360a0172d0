"""Domain errors of the customers module."""

from __future__ import annotations

from bankcrm.core.errors import Conflict, NotFound, ValidationFailed
from bankcrm.core.i18n import N_


class CustomerNotFound(NotFound):
    code = "customer-not-found"
    default_message = N_("Customer %(id)s does not exist or is outside your data scope.")


class MergeRequestNotFound(NotFound):
    code = "merge-request-not-found"
    default_message = N_("Merge request %(id)s does not exist or is outside your data scope.")


class HandoverNotFound(NotFound):
    code = "handover-not-found"
    default_message = N_("Handover %(id)s does not exist or is outside your data scope.")


class InteractionNotFound(NotFound):
    code = "interaction-not-found"
    default_message = N_("Interaction %(id)s does not exist or is outside your data scope.")


class RelationshipNotFound(NotFound):
    code = "relationship-not-found"
    default_message = N_("Customer %(customer_id)s has no link %(id)s.")


class ContactNotFound(NotFound):
    code = "contact-not-found"
    default_message = N_("Customer %(customer_id)s has no contact %(id)s.")


class GroupNotFound(NotFound):
    code = "group-not-found"
    default_message = N_("List %(id)s does not exist.")


class TagNotFound(NotFound):
    code = "tag-not-found"
    default_message = N_("Tag %(id)s does not exist.")


class StaleCustomerEdit(Conflict):
    code = "stale-edit"
    default_message = N_(
        "Someone else saved this record after you opened it (your version %(yours)s, current %(current)s). "
        "Reload to see their changes, then apply yours again."
    )


class MergeConflict(Conflict):
    code = "merge-conflict"
    default_message = N_("The merge cannot go ahead: %(why)s")


class LikelyDuplicates(ValidationFailed):
    """Raised before saving when similar customers exist; the caller shows them and may confirm."""

    code = "likely-duplicates"
    default_message = N_("Similar customers already exist. Check them, then confirm to save anyway.")
