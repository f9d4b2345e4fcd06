"""The bureau in the API: read-only bureau tokens, its scope of the pool, and /statistics equal to the console's."""
from __future__ import annotations

import pytest

from matchmaker.api import tokens
from matchmaker.console import services as console
from tests.api.test_api import auth, token_for
from tests.console import history as H
from tests.factories import make_demand


@pytest.fixture
def hist(ctx):
    return H.build()


def stats(client, secret, **params):
    return client.get("/api/v1/statistics", query_string={"start": H.PERIOD[0], "end": H.PERIOD[1], **params},
                      headers=auth(secret))


def figures(body) -> dict:
    return {f["key"]: f["value"] for f in body["figures"]}


@pytest.mark.parametrize("who", ["city", "tengzhou"])
def test_statistics_equal_the_consoles_figures(hist, client, who):
    user = hist.city_bureau if who == "city" else hist.tengzhou_bureau
    r = stats(client, token_for(user, scopes=("read",)))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    scope = console.scope_for(user, *H.PERIOD)
    expected = H.EXPECTED[None if who == "city" else "滕州市"]
    assert figures(body) == {k: float(v) for k, v in console.totals(scope).items()}
    assert figures(body) == {k: float(v) for k, v in expected.items()}
    assert body["months"] == ["2026-09", "2026-10", "2026-11"]
    assert body["district"] == (None if who == "city" else "滕州市")
    funnel = H.FUNNEL[None if who == "city" else "滕州市"]
    assert [(f["demands"], f["percent"]) for f in body["funnel"]] == [
        (n, None if p is None else float(p)) for n, p in funnel]
    if who == "city":
        monthly = {f["key"]: f["monthly"] for f in body["figures"]}
        for key, values in H.TRENDS.items():
            assert monthly[key] == [float(v) for v in values], key


def test_a_district_bureaus_token_sees_only_its_district(hist, client):
    secret = token_for(hist.tengzhou_bureau, scopes=("read",))
    own = stats(client, secret, district="滕州市")
    assert own.status_code == 200 and figures(own.get_json())["demands_posted"] == 3
    other = stats(client, secret, district="薛城区")
    assert other.status_code == 404
    # The city bureau may narrow to a district, and then sees what that district's bureau sees.
    city = stats(client, token_for(hist.city_bureau, scopes=("read",)), district="滕州市")
    assert figures(city.get_json()) == figures(own.get_json())


def test_institutions_get_403_and_bad_periods_are_named(hist, client):
    r = stats(client, token_for(hist.bank, scopes=("read",)))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "wrong_organisation"
    secret = token_for(hist.city_bureau, scopes=("read",))
    r = client.get("/api/v1/statistics?start=2026-13", headers=auth(secret))
    assert r.status_code == 422 and "start" in r.get_json()["error"]["fields"]
    r = client.get("/api/v1/statistics?start=2026-11&end=2026-09", headers=auth(secret))
    assert r.status_code == 422 and "起始月份" in r.get_json()["error"]["message"]


def test_bureau_tokens_only_read(world):
    with pytest.raises(tokens.TokenError, match="只能读取"):
        tokens.create_token(world.city_bureau, "上报系统", ["read", "offers"])
    token, _ = tokens.create_token(world.district_bureau, "上报系统", ["read"])
    assert token.scopes == ["read"]


def test_a_bureau_token_reads_the_pool_and_demands_of_its_scope_only(world, client):
    ours = make_demand(world.enterprise.org, status="published")       # 滕州市
    theirs = make_demand(world.enterprise_b.org, status="published")   # 薛城区
    secret = token_for(world.district_bureau, scopes=("read",))
    body = client.get("/api/v1/demands", headers=auth(secret)).get_json()
    assert [i["ref"] for i in body["items"]] == [ours.ref]
    # The bureau sees who the enterprise is, as on its pages.
    assert body["items"][0]["enterprise"]["name"] == world.enterprise.org.name
    assert client.get(f"/api/v1/demands/{theirs.ref}", headers=auth(secret)).status_code == 404
    city = token_for(world.city_bureau, scopes=("read",))
    assert client.get("/api/v1/demands", headers=auth(city)).get_json()["total"] == 2
    # The institution's calls are not the bureau's.
    for path in ("/api/v1/offers", "/api/v1/products", "/api/v1/events"):
        r = client.get(path, headers=auth(secret))
        assert r.status_code == 403, path


def test_a_bureau_admin_creates_a_read_token_on_the_page(world, login_as):
    page = login_as(world.district_bureau).get("/account/api-tokens/")
    assert page.status_code == 200 and "统计数据" in page.text
    assert 'value="offers"' not in page.text and 'value="read"' in page.text
    r = login_as(world.district_bureau).post("/account/api-tokens/", data={"name": "省平台上报", "scopes": ["read"]})
    assert r.status_code == 200 and 'id="new-token"' in r.text
    refused = login_as(world.district_bureau).post("/account/api-tokens/",
                                                   data={"name": "越权", "scopes": ["read", "deals"]})
    assert 'id="new-token"' not in refused.text
    assert [t.name for t in tokens.tokens_of(world.district_bureau.org)] == ["省平台上报"]
