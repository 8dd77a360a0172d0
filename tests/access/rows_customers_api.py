"""The customers module's JSON API (/api/v1): who may call which route on which customer.

Reading guide (the customers of the matrix are described in ``customer_book.py``):

* data scopes (docs/customers.md): an RM sees the customers they are primary or assistant RM of;
  a (sub-)branch manager the customers of units in their subtree (``bm``: all of Beijing, ``sbm``:
  Haidian only); executive, service agent and the API client the whole bank; the analyst (head
  office subtree) every customer, with names and identifiers masked and nothing to reveal;
  marketing (HO-MKT) and risk (HO-RISK) reach no branch, so no customer; ``own*`` holds every
  permission but no portfolio, so it reaches no customer either;
* a customer outside the scope answers 404, exactly like a missing one; a missing permission is 403
  whatever the target (checked before the record is looked up);
* the role defaults (identity/roles.py): only RMs and managers write customers, tag them, log
  interactions and ask for merges and handovers; only managers deactivate, approve merges and
  decide handovers; the service agent logs interactions and reveals; the executive exports; the
  administrator reads, reveals and keeps the tag catalogue; marketing tags, exports and keeps the
  catalogue; the API client only reads;
* tokens: ``cc`` holds every right of the API-client role (read the whole bank); ``cc-`` is narrowed
  to api.access (403); ``cc+`` asks for write, export, reveal and approval rights that the role does
  not hold, and is refused exactly like ``cc``;
* maker-checker: the maker of a merge request or the requester of a handover cannot approve it
  (403); ``merge:ch`` and ``handover:ch`` were filed by bm.beijing for this reason;
* a follow-up is marked done only by the person who promised it (403 for anyone else who sees it);
* a customer's lists are personal: somebody else's list is 404, like a missing one.
"""

from __future__ import annotations

from typing import Any

from tests.access import bodies
from tests.access.customer_book import BY_KEY
from tests.access.table import route, visibility

ROUTES = [
    # ------------------------------------------------------------ search, create, export
    route(
        "GET /api/v1/customers",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      401  200 200 200 200 200 200 200 200 200 200 200 200 403 200 200 200
        """,
    ),
    # A new customer goes into an open unit of the creator's scope; an RM's own unit is always open
    # to them, and the portfolio is the RM's own.
    route(
        "POST /api/v1/customers",
        """
        target                      anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        unit:BJ-HD-T1>user:rm.zhang 401  403 403 201 201 201 422 422 403 403 403 403 403 403 403 201 201
        unit:BJ-CY-T1>user:rm.chen  401  403 403 201 422 422 201 422 403 403 403 403 403 403 403 201 422
        unit:SH-PD-T1>user:rm.liu   401  403 403 422 422 422 422 201 403 403 403 403 403 403 403 422 422
        """,
        body=bodies.new_customer,
    ),
    route(
        "GET /api/v1/customers/duplicates",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      401  200 200 200 200 200 200 200 200 200 200 200 200 403 200 200 200
        """,
        query={"name": "张伟"},
    ),
    route(
        "POST /api/v1/customers/export",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      401  403 200 200 200 403 403 403 200 403 403 403 403 403 403 200 200
        """,
    ),
    route(
        "POST /api/v1/customers/bulk/tags",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh      401  403 403 200 200 200 404 404 404 403 403 403 403 403 403 200 404
        customer:ch      401  403 403 200 404 404 200 404 404 403 403 403 403 403 403 200 404
        customer:liu     401  403 403 404 404 404 404 200 404 403 403 403 403 403 403 404 404
        customer:missing 401  403 403 404 404 404 404 404 404 403 403 403 403 403 403 404 404
        """,
        body=bodies.bulk_tag,
    ),
    # ------------------------------------------------------------ one customer
    # A merged customer (zh6, merged into zh5) still opens, as an alias pointing to the survivor.
    route(
        "GET /api/v1/customers/{customer_id}",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh      401  200 200 200 200 200 404 404 404 200 404 200 200 403 200 200 404
        customer:zh6     401  200 200 200 200 200 404 404 404 200 404 200 200 403 200 200 404
        customer:ch      401  200 200 200 404 404 200 404 404 200 404 200 200 403 200 200 404
        customer:liu     401  200 200 404 404 404 404 200 404 200 404 200 200 403 200 404 404
        customer:missing 401  404 404 404 404 404 404 404 404 404 404 404 404 403 404 404 404
        """,
    ),
    # Only active customers can be edited (zhx is deactivated).
    route(
        "PATCH /api/v1/customers/{customer_id}",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh      401  403 403 200 200 200 404 404 403 403 403 403 403 403 403 200 404
        customer:zhx     401  403 403 422 422 422 404 404 403 403 403 403 403 403 403 422 404
        customer:ch      401  403 403 200 404 404 200 404 403 403 403 403 403 403 403 200 404
        customer:liu     401  403 403 404 404 404 404 200 403 403 403 403 403 403 403 404 404
        customer:missing 401  403 403 404 404 404 404 404 403 403 403 403 403 403 403 404 404
        """,
        body=bodies.edit_customer,
    ),
    # A merged customer cannot change status.
    route(
        "POST /api/v1/customers/{customer_id}/deactivate",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh      401  403 403 200 200 403 403 403 403 403 403 403 403 403 403 200 404
        customer:zh6     401  403 403 422 422 403 403 403 403 403 403 403 403 403 403 422 404
        customer:ch      401  403 403 200 404 403 403 403 403 403 403 403 403 403 403 200 404
        customer:liu     401  403 403 404 404 403 403 403 403 403 403 403 403 403 403 404 404
        customer:missing 401  403 403 404 404 403 403 403 403 403 403 403 403 403 403 404 404
        """,
        body=bodies.reason,
    ),
    route(
        "POST /api/v1/customers/{customer_id}/reactivate",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zhx     401  403 403 200 200 403 403 403 403 403 403 403 403 403 403 200 404
        customer:ch      401  403 403 200 404 403 403 403 403 403 403 403 403 403 403 200 404
        customer:liu     401  403 403 404 404 403 403 403 403 403 403 403 403 403 403 404 404
        customer:missing 401  403 403 404 404 403 403 403 403 403 403 403 403 403 403 404 404
        """,
        body=bodies.reason,
    ),
    # Revealing needs the unmask right and the customer in scope; the analyst has no reveal.
    route(
        "POST /api/v1/customers/{customer_id}/reveal",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh      401  200 403 200 200 200 404 404 403 200 404 403 403 403 403 200 404
        customer:ch      401  200 403 200 404 404 200 404 403 200 404 403 403 403 403 200 404
        customer:liu     401  200 403 404 404 404 404 200 403 200 404 403 403 403 403 404 404
        customer:missing 401  404 403 404 404 404 404 404 403 404 404 403 403 403 403 404 404
        """,
        body=bodies.reveal_mobile,
    ),
    route(
        "POST /api/v1/customers/{customer_id}/consents",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh      401  403 403 200 200 200 404 404 403 403 403 403 403 403 403 200 404
        customer:ch      401  403 403 200 404 404 200 404 403 403 403 403 403 403 403 200 404
        customer:liu     401  403 403 404 404 404 404 200 403 403 403 403 403 403 403 404 404
        customer:missing 401  403 403 404 404 404 404 404 403 403 403 403 403 403 403 404 404
        """,
        body=bodies.consent,
    ),
    route(
        "POST /api/v1/customers/{customer_id}/do-not-contact",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh      401  403 403 200 200 200 404 404 403 403 403 403 403 403 403 200 404
        customer:ch      401  403 403 200 404 404 200 404 403 403 403 403 403 403 403 200 404
        customer:liu     401  403 403 404 404 404 404 200 403 403 403 403 403 403 403 404 404
        customer:missing 401  403 403 404 404 404 404 404 403 403 403 403 403 403 403 404 404
        """,
        body=bodies.do_not_contact,
    ),
    route(
        "POST /api/v1/customers/{customer_id}/assistants",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh      401  403 403 200 200 200 404 404 403 403 403 403 403 403 403 200 404
        customer:ch      401  403 403 200 404 404 422 404 403 403 403 403 403 403 403 200 404
        customer:liu     401  403 403 404 404 404 404 422 403 403 403 403 403 403 403 404 404
        customer:missing 401  403 403 404 404 404 404 404 403 403 403 403 403 403 403 404 404
        """,
        body=bodies.assistant,
    ),
    # ------------------------------------------------------------ the 360° view and its sections
    # Fourteen read-only routes under one rule (customer.read, the customer in scope), so they share
    # one hand-written table: each route still gets its own table object and its own test rows.
    *(
        route(
            f"GET /api/v1/customers/{{customer_id}}{section}",
            """
            target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
            customer:zh      401  200 200 200 200 200 404 404 404 200 404 200 200 403 200 200 404
            customer:ch      401  200 200 200 404 404 200 404 404 200 404 200 200 403 200 200 404
            customer:liu     401  200 200 404 404 404 404 200 404 200 404 200 200 403 200 404 404
            customer:missing 401  404 404 404 404 404 404 404 404 404 404 404 404 403 404 404 404
            """,
        )
        for section in (
            "/360",
            "/assets",
            "/accounts",
            "/holdings",
            "/transactions",
            "/timeline",
            "/relationships",
            "/household",
            "/tags",
            "/contacts",
            "/xrefs",
            "/scores",
            "/assignments",
            "/interactions",
        )
    ),
    route(
        "GET /api/v1/customers/{customer_id}/corporate-contacts",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zhco    401  200 200 200 200 200 404 404 404 200 404 200 200 403 200 200 404
        customer:ch      401  200 200 200 404 404 200 404 404 200 404 200 200 403 200 200 404
        customer:liu     401  200 200 404 404 404 404 200 404 200 404 200 200 403 200 404 404
        customer:missing 401  404 404 404 404 404 404 404 404 404 404 404 404 403 404 404 404
        """,
    ),
    # ------------------------------------------------------------ relationships
    # Both ends of a new link must be in scope. Family links join individuals (zhco is a company).
    route(
        "POST /api/v1/customers/{customer_id}/relationships",
        """
        target                         anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh>customer:zh2       401  403 403 201 201 201 404 404 403 403 403 403 403 403 403 201 404
        customer:zh>customer:ch        401  403 403 201 404 404 404 404 403 403 403 403 403 403 403 201 404
        customer:zh>customer:zhco      401  403 403 422 422 422 404 404 403 403 403 403 403 403 403 422 404
        customer:liu>customer:liu3     401  403 403 404 404 404 404 201 403 403 403 403 403 403 403 404 404
        customer:missing>customer:zh   401  403 403 404 404 404 404 404 403 403 403 403 403 403 403 404 404
        """,
        body=bodies.household_link,
    ),
    # A link that is not the customer's own answers like a missing one, whoever can see it.
    route(
        "POST /api/v1/customers/{customer_id}/relationships/{relationship_id}/end",
        """
        target                         anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh>relationship:zh    401  403 403 204 204 204 404 404 403 403 403 403 403 403 403 204 404
        customer:zh2>relationship:zh   401  403 403 204 204 204 404 404 403 403 403 403 403 403 403 204 404
        customer:liu>relationship:liu  401  403 403 404 404 404 404 204 403 403 403 403 403 403 403 404 404
        customer:ch>relationship:zh    401  403 403 404 404 404 404 404 403 403 403 403 403 403 403 404 404
        customer:zh>relationship:liu   401  403 403 404 404 404 404 404 403 403 403 403 403 403 403 404 404
        customer:zh>relationship:missing 401 403 403 404 404 404 404 404 403 403 403 403 403 403 403 404 404
        """,
        body=bodies.reason,
    ),
    # ------------------------------------------------------------ corporate contacts
    route(
        "POST /api/v1/customers/{customer_id}/corporate-contacts",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zhco    401  403 403 201 201 201 404 404 403 403 403 403 403 403 403 201 404
        customer:ch      401  403 403 422 404 404 422 404 403 403 403 403 403 403 403 422 404
        customer:liu     401  403 403 404 404 404 404 422 403 403 403 403 403 403 403 404 404
        customer:missing 401  403 403 404 404 404 404 404 403 403 403 403 403 403 403 404 404
        """,
        body=bodies.finance_contact,
    ),
    route(
        "POST /api/v1/customers/{customer_id}/corporate-contacts/{contact_id}/end",
        """
        target                     anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zhco>contact:zhco 401  403 403 204 204 204 404 404 403 403 403 403 403 403 403 204 404
        customer:zh>contact:zhco   401  403 403 404 404 404 404 404 403 403 403 403 403 403 403 404 404
        customer:zhco>contact:missing 401 403 403 404 404 404 404 404 403 403 403 403 403 403 403 404 404
        """,
        body=bodies.reason,
    ),
    # ------------------------------------------------------------ tags and lists
    route(
        "PUT /api/v1/customers/{customer_id}/tags/{tag_id}",
        """
        target               anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh>tag:vip  401  403 403 200 200 200 404 404 404 403 403 403 403 403 403 200 404
        customer:ch>tag:vip  401  403 403 200 404 404 200 404 404 403 403 403 403 403 403 200 404
        customer:liu>tag:vip 401  403 403 404 404 404 404 200 404 403 403 403 403 403 403 404 404
        customer:missing>tag:vip 401 403 403 404 404 404 404 404 404 403 403 403 403 403 403 404 404
        customer:zh>tag:missing  401 403 403 404 404 404 404 404 404 403 403 403 403 403 403 404 404
        """,
    ),
    route(
        "DELETE /api/v1/customers/{customer_id}/tags/{tag_id}",
        """
        target               anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh>tag:vip  401  403 403 200 200 200 404 404 404 403 403 403 403 403 403 200 404
        customer:ch>tag:vip  401  403 403 200 404 404 200 404 404 403 403 403 403 403 403 200 404
        customer:liu>tag:vip 401  403 403 404 404 404 404 200 404 403 403 403 403 403 403 404 404
        customer:missing>tag:vip 401 403 403 404 404 404 404 404 404 403 403 403 403 403 403 404 404
        customer:zh>tag:missing  401 403 403 404 404 404 404 404 404 403 403 403 403 403 403 404 404
        """,
    ),
    route(
        "GET /api/v1/tags",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      401  200 200 200 200 200 200 200 200 200 200 200 200 403 200 200 200
        """,
    ),
    route(
        "POST /api/v1/tags",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      401  201 403 403 403 403 403 403 201 403 403 403 403 403 403 201 201
        """,
        body=bodies.new_tag,
    ),
    route(
        "GET /api/v1/customer-lists",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      401  200 200 200 200 200 200 200 200 200 200 200 200 403 200 200 200
        """,
    ),
    route(
        "POST /api/v1/customer-lists",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      401  403 403 201 201 201 201 201 201 403 403 403 403 403 403 201 201
        """,
        body=bodies.new_list,
    ),
    route(
        "POST /api/v1/customer-lists/{group_id}/members",
        """
        target       anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        list:zh      401  403 403 404 404 200 404 404 404 403 403 403 403 403 403 404 404
        list:bm      401  403 403 200 404 404 404 404 404 403 403 403 403 403 403 404 404
        list:missing 401  403 403 404 404 404 404 404 404 403 403 403 403 403 403 404 404
        """,
        body=bodies.members,
    ),
    route(
        "POST /api/v1/customer-lists/{group_id}/members/remove",
        """
        target       anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        list:zh      401  403 403 404 404 200 404 404 404 403 403 403 403 403 403 404 404
        list:bm      401  403 403 200 404 404 404 404 404 403 403 403 403 403 403 404 404
        list:missing 401  403 403 404 404 404 404 404 404 403 403 403 403 403 403 404 404
        """,
        body=bodies.members,
    ),
    # ------------------------------------------------------------ interactions and follow-ups
    route(
        "POST /api/v1/customers/{customer_id}/interactions",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh      401  403 403 201 201 201 404 404 403 201 403 403 403 403 403 201 404
        customer:ch      401  403 403 201 404 404 201 404 403 201 403 403 403 403 403 201 404
        customer:liu     401  403 403 404 404 404 404 201 403 201 403 403 403 403 403 404 404
        customer:missing 401  403 403 404 404 404 404 404 403 404 403 403 403 403 403 404 404
        """,
        body=bodies.interaction,
    ),
    route(
        "GET /api/v1/follow-ups",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      401  200 200 200 200 200 200 200 200 200 200 200 200 403 200 200 200
        """,
    ),
    route(
        "POST /api/v1/interactions/{interaction_id}/done",
        """
        target              anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        interaction:zh      401  403 403 403 403 200 404 404 403 403 403 403 403 403 403 403 404
        interaction:agt     401  403 403 404 404 404 404 403 403 200 403 403 403 403 403 404 404
        interaction:missing 401  403 403 404 404 404 404 404 403 404 403 403 403 403 403 404 404
        """,
    ),
    # ------------------------------------------------------------ merges
    # Every customer of a request must be in scope to see or act on it; a customer already in a
    # pending request cannot join another (409); individuals and companies never merge (422).
    route(
        "GET /api/v1/merge-requests",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      401  200 200 200 200 200 200 200 200 200 200 200 200 403 200 200 200
        """,
    ),
    route(
        "POST /api/v1/merge-requests",
        """
        target                       anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh>customer:zh2     401  403 403 201 201 201 404 404 403 403 403 403 403 403 403 201 404
        customer:zh>customer:ch      401  403 403 201 404 404 404 404 403 403 403 403 403 403 403 201 404
        customer:zh>customer:zh4     401  403 403 409 409 409 404 404 403 403 403 403 403 403 403 409 404
        customer:zh>customer:zhco    401  403 403 422 422 422 404 404 403 403 403 403 403 403 403 422 404
        customer:liu>customer:liu2   401  403 403 404 404 404 404 409 403 403 403 403 403 403 403 404 404
        customer:missing>customer:zh 401  403 403 404 404 404 404 404 403 403 403 403 403 403 403 404 404
        """,
        body=bodies.merge_pair,
    ),
    route(
        "GET /api/v1/merge-requests/{merge_id}",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        merge:zh      401  200 200 200 200 200 404 404 404 200 404 200 200 403 200 200 404
        merge:done    401  200 200 200 200 200 404 404 404 200 404 200 200 403 200 200 404
        merge:ch      401  200 200 200 404 404 200 404 404 200 404 200 200 403 200 200 404
        merge:liu     401  200 200 404 404 404 404 200 404 200 404 200 200 403 200 404 404
        merge:missing 401  404 404 404 404 404 404 404 404 404 404 404 404 403 404 404 404
        """,
    ),
    # Editing voids the pending request and files it again; a decided request stays as it is.
    route(
        "PUT /api/v1/merge-requests/{merge_id}",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        merge:zh      401  403 403 200 200 200 404 404 403 403 403 403 403 403 403 200 404
        merge:done    401  403 403 422 422 422 404 404 403 403 403 403 403 403 403 422 404
        merge:ch      401  403 403 200 404 404 200 404 403 403 403 403 403 403 403 200 404
        merge:liu     401  403 403 404 404 404 404 200 403 403 403 403 403 403 403 404 404
        merge:missing 401  403 403 404 404 404 404 404 403 403 403 403 403 403 403 404 404
        """,
        body=bodies.merge_again,
    ),
    route(
        "POST /api/v1/merge-requests/{merge_id}/approve",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        merge:zh      401  403 403 200 200 403 403 403 403 403 403 403 403 403 403 200 404
        merge:done    401  403 403 422 422 403 403 403 403 403 403 403 403 403 403 422 404
        merge:ch      401  403 403 403 404 403 403 403 403 403 403 403 403 403 403 200 404
        merge:liu     401  403 403 404 404 403 403 403 403 403 403 403 403 403 403 404 404
        merge:missing 401  403 403 404 404 403 403 403 403 403 403 403 403 403 403 404 404
        """,
        body=bodies.merge_version,
    ),
    route(
        "POST /api/v1/merge-requests/{merge_id}/reject",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        merge:zh      401  403 403 200 200 403 403 403 403 403 403 403 403 403 403 200 404
        merge:done    401  403 403 422 422 403 403 403 403 403 403 403 403 403 403 422 404
        merge:ch      401  403 403 200 404 403 403 403 403 403 403 403 403 403 403 200 404
        merge:liu     401  403 403 404 404 403 403 403 403 403 403 403 403 403 403 404 404
        merge:missing 401  403 403 404 404 403 403 403 403 403 403 403 403 403 403 404 404
        """,
        body=bodies.reason,
    ),
    route(
        "POST /api/v1/merge-requests/{merge_id}/unmerge",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        merge:done    401  403 403 200 200 403 403 403 403 403 403 403 403 403 403 200 404
        merge:zh      401  403 403 422 422 403 403 403 403 403 403 403 403 403 403 422 404
        merge:liu     401  403 403 404 404 403 403 403 403 403 403 403 403 403 403 404 404
        merge:missing 401  403 403 404 404 403 403 403 403 403 403 403 403 403 403 404 404
        """,
        body=bodies.reason,
    ),
    # ------------------------------------------------------------ handovers
    # A whole portfolio can be handed over only by someone who sees all of it (else 422: the
    # customers named are outside the requester's scope); it goes to an RM or manager only.
    route(
        "GET /api/v1/handovers",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      401  200 200 200 200 200 200 200 200 200 200 200 200 403 200 200 200
        """,
    ),
    route(
        "POST /api/v1/handovers",
        """
        target                      anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        user:rm.zhang>user:rm.wang  401  403 403 201 201 201 422 422 403 403 403 403 403 403 403 201 422
        user:rm.chen>user:rm.wang   401  403 403 201 422 422 201 422 403 403 403 403 403 403 403 201 422
        user:rm.liu>user:rm.wang    401  403 403 422 422 422 422 201 403 403 403 403 403 403 403 422 422
        user:rm.zhang>user:admin    401  403 403 422 422 422 422 422 403 403 403 403 403 403 403 422 422
        """,
        body=bodies.handover,
    ),
    route(
        "POST /api/v1/handovers/{handover_id}/decision",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        handover:zh      401  403 403 200 200 403 403 403 403 403 403 403 403 403 403 200 404
        handover:ch      401  403 403 403 404 403 403 403 403 403 403 403 403 403 403 200 404
        handover:liu     401  403 403 404 404 403 403 403 403 403 403 403 403 403 403 404 404
        handover:missing 401  403 403 404 404 403 403 403 403 403 403 403 403 403 403 404 404
        """,
        body=bodies.approve,
    ),
]


def _listed_ids(response: Any, world: Any, target: Any) -> bool:
    return target.id in {item["id"] for item in response.json()["items"]}


def _listed_in_array(response: Any, world: Any, target: Any) -> bool:
    return target.id in {item["id"] for item in response.json()}


def _named_in_clear(response: Any, world: Any, target: Any) -> bool:
    """The customer is listed under its real name (not masked as ``张*``)."""
    name = BY_KEY[target.key].name
    return any(item["id"] == target.id and item["name"] == name for item in response.json()["items"])


VISIBILITY = [
    visibility(
        "/api/v1/customers",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh   -    yes yes yes yes yes no  no  no  yes no  yes yes -   yes yes no
        customer:zhco -    yes yes yes yes yes no  no  no  yes no  yes yes -   yes yes no
        customer:ch   -    yes yes yes no  no  yes no  no  yes no  yes yes -   yes yes no
        customer:liu  -    yes yes no  no  no  no  yes no  yes no  yes yes -   yes no  no
        """,
        query={"size": "100"},
        found=_listed_ids,
    ),
    # The search box reaches no further than the list.
    visibility(
        "/api/v1/customers",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh   -    yes yes yes yes yes no  no  no  yes no  yes yes -   yes yes no
        customer:zh2  -    yes yes yes yes yes no  no  no  yes no  yes yes -   yes yes no
        customer:ch   -    no  no  no  no  no  no  no  no  no  no  no  no  -   no  no  no
        """,
        query={"q": "张伟", "size": "100"},
        found=_listed_ids,
    ),
    # Names in clear: everyone who lists the customer, except the analyst, who sees them masked.
    visibility(
        "/api/v1/customers",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh   -    yes yes yes yes yes no  no  no  yes no  no  yes -   yes yes no
        customer:ch   -    yes yes yes no  no  yes no  no  yes no  no  yes -   yes yes no
        customer:liu  -    yes yes no  no  no  no  yes no  yes no  no  yes -   yes no  no
        """,
        query={"size": "100", "sort": "name"},
        found=_named_in_clear,
    ),
    # Filtering by a list is filtering by one's own list: ch is in bm.beijing's list, and only
    # bm.beijing finds it that way (for everyone else the list is as good as missing).
    visibility(
        "/api/v1/customers",
        """
        target      anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:ch -    no  no  yes no  no  no  no  no  no  no  no  no  -   no  no  no
        """,
        params=bodies.branch_list_filter,
        found=_listed_ids,
    ),
    visibility(
        "/api/v1/merge-requests",
        """
        target     anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        merge:zh   -    yes yes yes yes yes no  no  no  yes no  yes yes -   yes yes no
        merge:done -    yes yes yes yes yes no  no  no  yes no  yes yes -   yes yes no
        merge:ch   -    yes yes yes no  no  yes no  no  yes no  yes yes -   yes yes no
        merge:liu  -    yes yes no  no  no  no  yes no  yes no  yes yes -   yes no  no
        """,
        found=_listed_in_array,
    ),
    visibility(
        "/api/v1/handovers",
        """
        target       anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        handover:zh  -    yes yes yes yes yes no  no  no  yes no  yes yes -   yes yes no
        handover:ch  -    yes yes yes no  no  yes no  no  yes no  yes yes -   yes yes no
        handover:liu -    yes yes no  no  no  no  yes no  yes no  yes yes -   yes no  no
        """,
        found=_listed_in_array,
    ),
    # Follow-ups are the promiser's own.
    visibility(
        "/api/v1/follow-ups",
        """
        target          anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        interaction:zh  -    no  no  no  no  yes no  no  no  no  no  no  no  -   no  no  no
        interaction:agt -    no  no  no  no  no  no  no  no  yes no  no  no  -   no  no  no
        """,
        found=_listed_in_array,
    ),
    # Lists are personal.
    visibility(
        "/api/v1/customer-lists",
        """
        target  anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        list:zh -    no  no  no  no  yes no  no  no  no  no  no  no  -   no  no  no
        list:bm -    no  no  yes no  no  no  no  no  no  no  no  no  -   no  no  no
        """,
        found=_listed_in_array,
    ),
]
