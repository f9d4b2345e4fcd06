"""Every page, for every role: never a server error, and objects that do not exist are never shown."""
import pytest

from tests import factories

ROLES = ["anonymous", "enterprise", "bank", "fund", "guarantor", "district_bureau", "city_bureau"]


def _get_routes(app):
    """Every GET route, with placeholders filled by values that name nothing."""
    routes = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or rule.endpoint.startswith("static"):
            continue
        values = {}
        for arg in rule.arguments:
            conv = rule._converters[arg].__class__.__name__
            values[arg] = 999999 if conv == "IntegerConverter" else "no-such-thing"
        routes.append((rule, values))
    return routes


@pytest.mark.parametrize("role", ROLES)
def test_every_page_answers_without_a_server_error(app, world, login_as, role):
    client = app.test_client() if role == "anonymous" else login_as(getattr(world, role))
    with app.test_request_context():
        from flask import url_for

        urls = [(rule.rule, url_for(rule.endpoint, **values)) for rule, values in _get_routes(app)]
    assert len(urls) > 50
    failures, shown = [], 0
    for _pattern, url in urls:
        resp = client.get(url)
        shown += resp.status_code == 200
        if resp.status_code >= 500:
            failures.append((url, resp.status_code))
        # A page about an object that does not exist never pretends it does.
        if ("no-such-thing" in url or "999999" in url) and resp.status_code == 200:
            failures.append((url, "200 for a missing object"))
    assert not failures, failures
    # The walk really looked at pages (a broken login would answer every one with a redirect).
    assert shown >= (5 if role == "anonymous" else 15), shown


def test_a_pending_enterprise_reaches_no_working_page(app, ctx, login_as):
    from models import OrgStatus

    user = factories.make_user(factories.make_enterprise(status=OrgStatus.PENDING))
    client = login_as(user)
    for url in ("/demands/mine", "/projects/", "/demands/new", "/offers/"):
        resp = client.get(url)
        assert resp.status_code in (302, 403, 404), url
