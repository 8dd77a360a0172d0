"""Deduplication and linkage of any file a user brings (a purchased list, a branch spreadsheet),
independent of the operational database: ``dedupe_file`` and ``link_files``."""

from bankcrm.integration.service.dedupe.roles import ROLES, columns_for_second_file, parse_role_columns
from bankcrm.integration.service.dedupe.run import (
    DEFAULT_CLUSTER_THRESHOLD,
    DEFAULT_THRESHOLD,
    DedupeSummary,
    InputFile,
    dedupe_file,
    default_output_folder,
    link_files,
)
from bankcrm.integration.service.dedupe.tables import DedupeInputError

__all__ = [
    "DEFAULT_CLUSTER_THRESHOLD",
    "DEFAULT_THRESHOLD",
    "ROLES",
    "DedupeInputError",
    "DedupeSummary",
    "InputFile",
    "columns_for_second_file",
    "dedupe_file",
    "default_output_folder",
    "link_files",
    "parse_role_columns",
]
