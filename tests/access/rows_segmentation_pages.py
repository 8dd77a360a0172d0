"""The segmentation module's pages: the overview of segments and tiers.

Reading guide: like the customers list, every role that reads customers opens it and sees the
customers of its own scope (the counts are scoped in the service, tested in
``tests/segmentation/test_pages.py``); not signed in, or a bearer token, gets the sign-in redirect.
"""

from __future__ import annotations

from tests.access.table import route

ROUTES = [
    route(
        "GET /segments",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  200 200 200 200 200 200 200 200 200 200 200 lgn lgn lgn 200 200
        """,
    ),
]
