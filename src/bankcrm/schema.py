"""Every table of BankCRM, gathered for Alembic and the schema-drift test."""

from __future__ import annotations

from sqlalchemy import MetaData

from bankcrm.audit import models as audit_models
from bankcrm.core.db import Base
from bankcrm.identity import models as identity_models

# Importing the modules registers their tables on Base.metadata; naming them keeps linters honest.
MODEL_MODULES = (audit_models, identity_models)
metadata: MetaData = Base.metadata
