"""The segmentation module's pages: the overview of segments and tiers, the lists for relationship
managers (high-value, potential, at risk) and the customer clusters.

Reading guide: like the customers list, every role that reads customers opens it and sees the
customers of its own scope (the counts are scoped in the service, tested in
``tests/segmentation/test_pages.py``); not signed in, or a bearer token, gets the sign-in redirect.
A list's page works the same way; a list that does not exist is a missing page for everyone who
reads customers. Which customers each viewer finds on a list follows their data scope exactly as
the customer list does: the scored customers zh, ch and liu (``customer_book.SCORED``) are all at
risk, and each appears only to the viewers whose scope holds it.
The clusters page shows bank-wide figures, so only those who read every customer open it: a
whole-bank scope (admin, executive, service agent) or the head office's subtree (analyst); every
narrower scope is refused, even with every permission.
"""

from __future__ import annotations

import re
from typing import Any

from tests.access.table import route, visibility

ROUTES = [
    route(
        "GET /segments",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  200 200 200 200 200 200 200 200 200 200 200 lgn lgn lgn 200 200
        """,
    ),
    route(
        "GET /segments/clusters",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  200 200 403 403 403 403 403 403 200 403 200 lgn lgn lgn 403 403
        """,
    ),
    route(
        "GET /segments/lists/{kind}",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        kind:at_risk     lgn  200 200 200 200 200 200 200 200 200 200 200 lgn lgn lgn 200 200
        kind:high_value  lgn  200 200 200 200 200 200 200 200 200 200 200 lgn lgn lgn 200 200
        kind:everyone    lgn  404 404 404 404 404 404 404 404 404 404 404 lgn lgn lgn 404 404
        """,
    ),
]


def _on_the_list(response: Any, world: Any, target: Any) -> bool:
    return target.id in {int(found) for found in re.findall(r'<tr data-customer-id="(\d+)">', response.text)}


# RMs see only their own customers in every list: zh, ch and liu are each on their RM's list only.
VISIBILITY = [
    visibility(
        "/segments/lists/at_risk",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh   -    yes yes yes yes yes no  no  no  yes no  yes -   -   -   yes no
        customer:ch   -    yes yes yes no  no  yes no  no  yes no  yes -   -   -   yes no
        customer:liu  -    yes yes no  no  no  no  yes no  yes no  yes -   -   -   no  no
        """,
        found=_on_the_list,
    ),
]
