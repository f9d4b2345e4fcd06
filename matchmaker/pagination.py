"""The page number of a list page, read from the query string within bounds the database can hold."""
from __future__ import annotations

from flask import request

# Far beyond any real list, and small enough that page × page size stays a 64-bit integer: a link
# edited by hand to page=99999999999999999999 gets an empty page, not a database overflow.
MAX_PAGE = 1_000_000


def page_arg(name: str = "page") -> int:
    return min(max(request.args.get(name, 1, type=int), 1), MAX_PAGE)
