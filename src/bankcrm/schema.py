"""Every table of BankCRM, gathered for Alembic and the schema-drift test."""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData

from bankcrm.audit import models as audit_models
from bankcrm.core.db import Base, UTCDateTime
from bankcrm.customers import models as customer_models
from bankcrm.identity import models as identity_models
from bankcrm.integration import models as integration_models
from bankcrm.segmentation import models as segmentation_models
from bankcrm.segmentation.studio import models as studio_models

# Importing the modules registers their tables on Base.metadata; naming them keeps linters honest.
MODEL_MODULES = (
    audit_models,
    identity_models,
    customer_models,
    integration_models,
    segmentation_models,
    studio_models,
)
metadata: MetaData = Base.metadata


def render_item(kind: str, value: Any, autogen_context: Any) -> str | bool:
    """Alembic hook: migrations spell plain SQLAlchemy types, so they never import application code."""
    del autogen_context
    if kind == "type" and isinstance(value, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False
