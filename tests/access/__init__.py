"""The access matrix: every principal × every route (JSON API and HTML pages) × the records that
matter (own, another RM's, another branch's, missing), as hand-written tables.

* ``principals.py`` - the columns (one per role, three token scopes, two synthetic all-rights users);
* ``world.py`` - the bank they act in, and how each column presents itself;
* ``customer_book.py`` - the customers of that bank and what surrounds them (merges, handovers,
  follow-ups, tags, lists, links, contacts), made through the customers services;
* ``table.py`` - the table format and what a cell means;
* ``rows_<module>.py`` - one table per route (``ROUTES``) and list-scoping tables (``VISIBILITY``);
  a new module adds its own file and is picked up by ``registry.py``;
* ``test_access_matrix.py`` - runs every row, and fails when a route of the app has no table.
"""
