"""The audit trail: readable and exportable by holders of the audit rights.

The trail is not limited by data scope (an auditor sees who did what anywhere); the rights
themselves are held by the administrator only, by default.
"""

from __future__ import annotations

from tests.access import bodies
from tests.access.table import route

ROUTES = [
    route(
        "GET /api/v1/audit-events",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 200 200
        """,
    ),
    route(
        "GET /admin/audit",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  200 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 200 200
        """,
    ),
    route(
        "POST /admin/audit/export",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  200 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 200 200
        """,
        body=bodies.audit_filters,
    ),
]
