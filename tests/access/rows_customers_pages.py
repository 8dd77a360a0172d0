"""The customers module's HTML pages: list and search, the 360° page and its actions, forms,
merges, handovers, lists and tags.

Reading guide: the same scopes and rights as the JSON API (see ``rows_customers_api.py``); a
browser that is not signed in, and every bearer token, gets the sign-in redirect (``lgn``); a
missing permission is a 403 page; a customer, request, follow-up or list outside the scope is a 404
page, like a missing one. A successful form post redirects (``303``); a form refused by a rule of
the domain is shown again with its errors (422, or 409 for likely duplicates). The small actions of
the 360° page (consents, contacts, links, assistants) report a refused rule as a message on the
360° page, so for them a 303 means "done, or told why not" and only the status of the customer's
scope is telling.
"""

from __future__ import annotations

import re
from typing import Any

from tests.access import bodies
from tests.access.table import route, visibility

ROUTES = [
    # ------------------------------------------------------------ list, search, export
    route(
        "GET /search",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  303 303 303 303 303 303 303 303 303 303 303 lgn lgn lgn 303 303
        """,
        query={"q": "张伟"},
    ),
    route(
        "GET /customers",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  200 200 200 200 200 200 200 200 200 200 200 lgn lgn lgn 200 200
        """,
    ),
    route(
        "POST /customers/bulk",
        """
        target                   anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh>tag:vip      lgn  403 403 303 303 303 404 404 404 403 403 403 lgn lgn lgn 303 404
        customer:ch>tag:vip      lgn  403 403 303 404 404 303 404 404 403 403 403 lgn lgn lgn 303 404
        customer:liu>tag:vip     lgn  403 403 404 404 404 404 303 404 403 403 403 lgn lgn lgn 404 404
        customer:missing>tag:vip lgn  403 403 404 404 404 404 404 404 403 403 403 lgn lgn lgn 404 404
        customer:zh>list:zh      lgn  403 403 404 404 303 404 404 404 403 403 403 lgn lgn lgn 404 404
        """,
        body=bodies.bulk_form,
    ),
    route(
        "POST /customers/export",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  403 200 200 200 403 403 403 200 403 403 403 lgn lgn lgn 200 200
        """,
    ),
    # ------------------------------------------------------------ lists and the tag catalogue
    route(
        "GET /customers/lists",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  200 200 200 200 200 200 200 200 200 200 200 lgn lgn lgn 200 200
        """,
    ),
    route(
        "POST /customers/lists",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  403 403 303 303 303 303 303 303 403 403 403 lgn lgn lgn 303 303
        """,
        body=bodies.new_list_form,
    ),
    route(
        "POST /customers/tags",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  303 403 403 403 403 403 403 303 403 403 403 lgn lgn lgn 303 303
        """,
        body=bodies.new_tag_form,
    ),
    # ------------------------------------------------------------ create and edit
    route(
        "GET /customers/new",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  403 403 200 200 200 200 200 403 403 403 403 lgn lgn lgn 200 200
        """,
    ),
    route(
        "POST /customers/new",
        """
        target                      anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        unit:BJ-HD-T1>user:rm.zhang lgn  403 403 303 303 303 422 422 403 403 403 403 lgn lgn lgn 303 303
        unit:BJ-CY-T1>user:rm.chen  lgn  403 403 303 422 422 303 422 403 403 403 403 lgn lgn lgn 303 422
        unit:SH-PD-T1>user:rm.liu   lgn  403 403 422 422 422 422 303 403 403 403 403 lgn lgn lgn 422 422
        """,
        body=bodies.new_customer_form,
    ),
    route(
        "GET /customers/{customer_id}/edit",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh      lgn  403 403 200 200 200 404 404 403 403 403 403 lgn lgn lgn 200 404
        customer:ch      lgn  403 403 200 404 404 200 404 403 403 403 403 lgn lgn lgn 200 404
        customer:liu     lgn  403 403 404 404 404 404 200 403 403 403 403 lgn lgn lgn 404 404
        customer:missing lgn  403 403 404 404 404 404 404 403 403 403 403 lgn lgn lgn 404 404
        """,
    ),
    route(
        "POST /customers/{customer_id}/edit",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh      lgn  403 403 303 303 303 404 404 403 403 403 403 lgn lgn lgn 303 404
        customer:zhx     lgn  403 403 422 422 422 404 404 403 403 403 403 lgn lgn lgn 422 404
        customer:ch      lgn  403 403 303 404 404 303 404 403 403 403 403 lgn lgn lgn 303 404
        customer:liu     lgn  403 403 404 404 404 404 303 403 403 403 403 lgn lgn lgn 404 404
        customer:missing lgn  403 403 404 404 404 404 404 403 403 403 403 lgn lgn lgn 404 404
        """,
        body=bodies.edit_customer_form,
    ),
    # ------------------------------------------------------------ the 360° page
    route(
        "GET /customers/{customer_id}",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh      lgn  200 200 200 200 200 404 404 404 200 404 200 lgn lgn lgn 200 404
        customer:zh6     lgn  200 200 200 200 200 404 404 404 200 404 200 lgn lgn lgn 200 404
        customer:zhco    lgn  200 200 200 200 200 404 404 404 200 404 200 lgn lgn lgn 200 404
        customer:ch      lgn  200 200 200 404 404 200 404 404 200 404 200 lgn lgn lgn 200 404
        customer:liu     lgn  200 200 404 404 404 404 200 404 200 404 200 lgn lgn lgn 404 404
        customer:missing lgn  404 404 404 404 404 404 404 404 404 404 404 lgn lgn lgn 404 404
        """,
    ),
    # The operational-store sections in one response, as the page asks for them.
    route(
        "GET /customers/{customer_id}/sections",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh      lgn  200 200 200 200 200 404 404 404 200 404 200 lgn lgn lgn 200 404
        customer:zhco    lgn  200 200 200 200 200 404 404 404 200 404 200 lgn lgn lgn 200 404
        customer:ch      lgn  200 200 200 404 404 200 404 404 200 404 200 lgn lgn lgn 200 404
        customer:liu     lgn  200 200 404 404 404 404 200 404 200 404 200 lgn lgn lgn 404 404
        customer:missing lgn  404 404 404 404 404 404 404 404 404 404 404 lgn lgn lgn 404 404
        """,
    ),
    # Every section for the own customer; one for the others; an unknown section is 404 for all.
    route(
        "GET /customers/{customer_id}/sections/{name}",
        """
        target                           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh>section:assets       lgn  200 200 200 200 200 404 404 404 200 404 200 lgn lgn lgn 200 404
        customer:zh>section:holdings     lgn  200 200 200 200 200 404 404 404 200 404 200 lgn lgn lgn 200 404
        customer:zh>section:accounts     lgn  200 200 200 200 200 404 404 404 200 404 200 lgn lgn lgn 200 404
        customer:zh>section:transactions lgn  200 200 200 200 200 404 404 404 200 404 200 lgn lgn lgn 200 404
        customer:zh>section:timeline     lgn  200 200 200 200 200 404 404 404 200 404 200 lgn lgn lgn 200 404
        customer:zh>section:tags         lgn  200 200 200 200 200 404 404 404 200 404 200 lgn lgn lgn 200 404
        customer:zh>section:relationships lgn  200 200 200 200 200 404 404 404 200 404 200 lgn lgn lgn 200 404
        customer:zh>section:contacts     lgn  200 200 200 200 200 404 404 404 200 404 200 lgn lgn lgn 200 404
        customer:zh>section:sources      lgn  200 200 200 200 200 404 404 404 200 404 200 lgn lgn lgn 200 404
        customer:zh>section:scores       lgn  200 200 200 200 200 404 404 404 200 404 200 lgn lgn lgn 200 404
        customer:zhco>section:contacts   lgn  200 200 200 200 200 404 404 404 200 404 200 lgn lgn lgn 200 404
        customer:ch>section:contacts     lgn  200 200 200 404 404 200 404 404 200 404 200 lgn lgn lgn 200 404
        customer:liu>section:contacts    lgn  200 200 404 404 404 404 200 404 200 404 200 lgn lgn lgn 404 404
        customer:missing>section:contacts lgn  404 404 404 404 404 404 404 404 404 404 404 lgn lgn lgn 404 404
        customer:zh>section:nothing      lgn  404 404 404 404 404 404 404 404 404 404 404 lgn lgn lgn 404 404
        """,
    ),
    route(
        "POST /customers/{customer_id}/interactions",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh      lgn  403 403 303 303 303 404 404 403 303 403 403 lgn lgn lgn 303 404
        customer:ch      lgn  403 403 303 404 404 303 404 403 303 403 403 lgn lgn lgn 303 404
        customer:liu     lgn  403 403 404 404 404 404 303 403 303 403 403 lgn lgn lgn 404 404
        customer:missing lgn  403 403 404 404 404 404 404 403 404 403 403 lgn lgn lgn 404 404
        """,
        body=bodies.interaction_form,
    ),
    route(
        "POST /customers/{customer_id}/tags",
        """
        target                   anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh>tag:vip      lgn  403 403 303 303 303 404 404 404 403 403 403 lgn lgn lgn 303 404
        customer:ch>tag:vip      lgn  403 403 303 404 404 303 404 404 403 403 403 lgn lgn lgn 303 404
        customer:liu>tag:vip     lgn  403 403 404 404 404 404 303 404 403 403 403 lgn lgn lgn 404 404
        customer:missing>tag:vip lgn  403 403 404 404 404 404 404 404 403 403 403 lgn lgn lgn 404 404
        customer:zh>list:zh      lgn  403 403 404 404 303 404 404 404 403 403 403 lgn lgn lgn 404 404
        """,
        body=bodies.tag_or_list_form,
    ),
    route(
        "POST /customers/{customer_id}/reveal",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh      lgn  200 403 200 200 200 404 404 403 200 404 403 lgn lgn lgn 200 404
        customer:ch      lgn  200 403 200 404 404 200 404 403 200 404 403 lgn lgn lgn 200 404
        customer:liu     lgn  200 403 404 404 404 404 200 403 200 404 403 lgn lgn lgn 404 404
        customer:missing lgn  404 403 404 404 404 404 404 403 404 404 403 lgn lgn lgn 404 404
        """,
        body=bodies.reveal_mobile,
    ),
    route(
        "POST /customers/{customer_id}/status",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh      lgn  403 403 303 303 403 403 403 403 403 403 403 lgn lgn lgn 303 404
        customer:ch      lgn  403 403 303 404 403 403 403 403 403 403 403 lgn lgn lgn 303 404
        customer:liu     lgn  403 403 404 404 403 403 403 403 403 403 403 lgn lgn lgn 404 404
        customer:missing lgn  403 403 404 404 403 403 403 403 403 403 403 lgn lgn lgn 404 404
        """,
        body=bodies.deactivate_form,
    ),
    route(
        "POST /customers/{customer_id}/consents",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh      lgn  403 403 303 303 303 404 404 403 403 403 403 lgn lgn lgn 303 404
        customer:ch      lgn  403 403 303 404 404 303 404 403 403 403 403 lgn lgn lgn 303 404
        customer:liu     lgn  403 403 404 404 404 404 303 403 403 403 403 lgn lgn lgn 404 404
        customer:missing lgn  403 403 404 404 404 404 404 403 403 403 403 lgn lgn lgn 404 404
        """,
        body=bodies.consent_form,
    ),
    route(
        "POST /customers/{customer_id}/do-not-contact",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh      lgn  403 403 303 303 303 404 404 403 403 403 403 lgn lgn lgn 303 404
        customer:ch      lgn  403 403 303 404 404 303 404 403 403 403 403 lgn lgn lgn 303 404
        customer:liu     lgn  403 403 404 404 404 404 303 403 403 403 403 lgn lgn lgn 404 404
        customer:missing lgn  403 403 404 404 404 404 404 403 403 403 403 lgn lgn lgn 404 404
        """,
        body=bodies.do_not_contact_form,
    ),
    route(
        "POST /customers/{customer_id}/assistants",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh      lgn  403 403 303 303 303 404 404 403 403 403 403 lgn lgn lgn 303 404
        customer:ch      lgn  403 403 303 404 404 303 404 403 403 403 403 lgn lgn lgn 303 404
        customer:liu     lgn  403 403 404 404 404 404 303 403 403 403 403 lgn lgn lgn 404 404
        customer:missing lgn  403 403 404 404 404 404 404 403 403 403 403 lgn lgn lgn 404 404
        """,
        body=bodies.assistant,
    ),
    route(
        "POST /customers/{customer_id}/corporate-contacts",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zhco    lgn  403 403 303 303 303 404 404 403 403 403 403 lgn lgn lgn 303 404
        customer:ch      lgn  403 403 303 404 404 303 404 403 403 403 403 lgn lgn lgn 303 404
        customer:liu     lgn  403 403 404 404 404 404 303 403 403 403 403 lgn lgn lgn 404 404
        customer:missing lgn  403 403 404 404 404 404 404 403 403 403 403 lgn lgn lgn 404 404
        """,
        body=bodies.finance_contact_form,
    ),
    # The other customer is named by its number; one outside the scope is "not found" on the page.
    route(
        "POST /customers/{customer_id}/relationships",
        """
        target                       anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh>customer:zh2     lgn  403 403 303 303 303 404 404 403 403 403 403 lgn lgn lgn 303 404
        customer:ch>customer:ch2     lgn  403 403 303 404 404 303 404 403 403 403 403 lgn lgn lgn 303 404
        customer:liu>customer:liu3   lgn  403 403 404 404 404 404 303 403 403 403 403 lgn lgn lgn 404 404
        customer:missing>customer:zh lgn  403 403 404 404 404 404 404 403 403 403 403 lgn lgn lgn 404 404
        """,
        body=bodies.household_link_form,
    ),
    route(
        "POST /customers/{customer_id}/relationships/{relationship_id}/end",
        """
        target                           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh>relationship:zh      lgn  403 403 303 303 303 404 404 403 403 403 403 lgn lgn lgn 303 404
        customer:liu>relationship:liu    lgn  403 403 404 404 404 404 303 403 403 403 403 lgn lgn lgn 404 404
        customer:ch>relationship:zh      lgn  403 403 404 404 404 404 404 403 403 403 403 lgn lgn lgn 404 404
        customer:zh>relationship:liu     lgn  403 403 404 404 404 404 404 403 403 403 403 lgn lgn lgn 404 404
        customer:zh>relationship:missing lgn  403 403 404 404 404 404 404 403 403 403 403 lgn lgn lgn 404 404
        """,
        body=bodies.reason,
    ),
    # ------------------------------------------------------------ follow-ups
    route(
        "POST /customers/follow-ups/{interaction_id}/done",
        """
        target              anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        interaction:zh      lgn  403 403 403 403 303 404 404 403 403 403 403 lgn lgn lgn 403 404
        interaction:agt     lgn  403 403 404 404 404 404 403 403 303 403 403 lgn lgn lgn 404 404
        interaction:missing lgn  403 403 404 404 404 404 404 403 404 403 403 lgn lgn lgn 404 404
        """,
    ),
    # ------------------------------------------------------------ merges
    route(
        "GET /customers/merges",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  200 200 200 200 200 200 200 200 200 200 200 lgn lgn lgn 200 200
        """,
    ),
    route(
        "GET /customers/merges/new",
        """
        target                       anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh>customer:zh2     lgn  403 403 200 200 200 404 404 403 403 403 403 lgn lgn lgn 200 404
        customer:zh>customer:ch      lgn  403 403 200 404 404 404 404 403 403 403 403 lgn lgn lgn 200 404
        customer:liu>customer:liu2   lgn  403 403 404 404 404 404 200 403 403 403 403 lgn lgn lgn 404 404
        customer:missing>customer:zh lgn  403 403 404 404 404 404 404 403 403 403 403 lgn lgn lgn 404 404
        """,
        params=bodies.merge_pair_query,
    ),
    route(
        "POST /customers/merges/new",
        """
        target                       anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh>customer:zh2     lgn  403 403 303 303 303 404 404 403 403 403 403 lgn lgn lgn 303 404
        customer:zh>customer:ch      lgn  403 403 303 404 404 404 404 403 403 403 403 lgn lgn lgn 303 404
        customer:zh>customer:zh4     lgn  403 403 422 422 422 404 404 403 403 403 403 lgn lgn lgn 422 404
        customer:zh>customer:zhco    lgn  403 403 422 422 422 404 404 403 403 403 403 lgn lgn lgn 422 404
        customer:missing>customer:zh lgn  403 403 404 404 404 404 404 403 403 403 403 lgn lgn lgn 404 404
        """,
        body=bodies.merge_pair_form,
    ),
    route(
        "GET /customers/merges/{merge_id}",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        merge:zh      lgn  200 200 200 200 200 404 404 404 200 404 200 lgn lgn lgn 200 404
        merge:done    lgn  200 200 200 200 200 404 404 404 200 404 200 lgn lgn lgn 200 404
        merge:ch      lgn  200 200 200 404 404 200 404 404 200 404 200 lgn lgn lgn 200 404
        merge:liu     lgn  200 200 404 404 404 404 200 404 200 404 200 lgn lgn lgn 404 404
        merge:missing lgn  404 404 404 404 404 404 404 404 404 404 404 lgn lgn lgn 404 404
        """,
    ),
    # The decision is the word after '>'. A request outside the scope is a 404 page and the maker's
    # own approval a 403 page, as in the API; a refused rule is a message on the review page.
    route(
        "POST /customers/merges/{merge_id}/decision",
        """
        target                          anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        merge:zh>decision:approve       lgn  403 403 303 303 403 403 403 403 403 403 403 lgn lgn lgn 303 404
        merge:zh>decision:reject        lgn  403 403 303 303 403 403 403 403 403 403 403 lgn lgn lgn 303 404
        merge:done>decision:unmerge     lgn  403 403 303 303 403 403 403 403 403 403 403 lgn lgn lgn 303 404
        merge:ch>decision:approve       lgn  403 403 403 404 403 403 403 403 403 403 403 lgn lgn lgn 303 404
        merge:liu>decision:approve      lgn  403 403 404 404 403 403 403 403 403 403 403 lgn lgn lgn 404 404
        merge:missing>decision:approve  lgn  403 403 404 404 403 403 403 403 403 403 403 lgn lgn lgn 404 404
        """,
        body=bodies.merge_decision_form,
    ),
    # ------------------------------------------------------------ handovers
    route(
        "GET /customers/handovers",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  200 200 200 200 200 200 200 200 200 200 200 lgn lgn lgn 200 200
        """,
    ),
    route(
        "POST /customers/handovers",
        """
        target                     anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        user:rm.zhang>user:rm.wang lgn  403 403 303 303 303 422 422 403 403 403 403 lgn lgn lgn 303 422
        user:rm.chen>user:rm.wang  lgn  403 403 303 422 422 303 422 403 403 403 403 lgn lgn lgn 303 422
        user:rm.liu>user:rm.wang   lgn  403 403 422 422 422 422 303 403 403 403 403 lgn lgn lgn 422 422
        """,
        body=bodies.handover_form,
    ),
    route(
        "POST /customers/handovers/{handover_id}/decision",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        handover:zh      lgn  403 403 303 303 403 403 403 403 403 403 403 lgn lgn lgn 303 404
        handover:ch      lgn  403 403 403 404 403 403 403 403 403 403 403 lgn lgn lgn 303 404
        handover:liu     lgn  403 403 404 404 403 403 403 403 403 403 403 lgn lgn lgn 404 404
        handover:missing lgn  403 403 404 404 403 403 403 403 403 403 403 lgn lgn lgn 404 404
        """,
        body=bodies.approve_form,
    ),
]


def _links_to_customer(response: Any, world: Any, target: Any) -> bool:
    return re.search(rf'href="/customers/{target.id}"', response.text) is not None


VISIBILITY = [
    visibility(
        "/customers",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh   -    yes yes yes yes yes no  no  no  yes no  yes -   -   -   yes no
        customer:zhco -    yes yes yes yes yes no  no  no  yes no  yes -   -   -   yes no
        customer:ch   -    yes yes yes no  no  yes no  no  yes no  yes -   -   -   yes no
        customer:liu  -    yes yes no  no  no  no  yes no  yes no  yes -   -   -   no  no
        """,
        found=_links_to_customer,
    ),
    visibility(
        "/customers",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh   -    yes yes yes yes yes no  no  no  yes no  yes -   -   -   yes no
        customer:zh2  -    yes yes yes yes yes no  no  no  yes no  yes -   -   -   yes no
        customer:ch   -    no  no  no  no  no  no  no  no  no  no  no  -   -   -   no  no
        """,
        query={"q": "张伟"},
        found=_links_to_customer,
    ),
]
