"""Browsing the supermarket: every filter agrees with a count computed here, anonymous visitors welcome."""
import random
import re
from decimal import Decimal

import pytest

from matchmaker.catalog.services import ProductFilters, browse
from models import OrgKind, OrgStatus, ProductKind, ProductStatus
from models.products import COLLATERAL_CODES, PURPOSE_CODES, SIZE_CODES
from tests import factories

NAMES = ["技改贷", "科技履约贷", "设备按揭贷", "专精特新信用贷", "绿色转型贷", "股权直投（成长期）", "中小企业融资担保",
         "融资租赁直租", "知识产权质押贷", "首贷通"]
TAGS = ["信用贷", "首贷", "技改贷", "科技贷", "绿色贷"]


@pytest.fixture
def shelf(ctx, city):
    """Sixty products of assorted institutions with random terms and scopes (fixed seed)."""
    rng = random.Random(7)
    orgs = {
        OrgKind.BANK: [factories.make_org(OrgKind.BANK, district=d) for d in ("市中区", "滕州市")],
        OrgKind.FUND: [factories.make_org(OrgKind.FUND, district=None)],
        OrgKind.GUARANTOR: [factories.make_org(OrgKind.GUARANTOR, district=None)],
    }
    hidden_org = factories.make_org(OrgKind.BANK, status=OrgStatus.PENDING)
    kinds = {OrgKind.BANK: [ProductKind.LOAN, ProductKind.LEASING], OrgKind.FUND: [ProductKind.EQUITY],
             OrgKind.GUARANTOR: [ProductKind.GUARANTEE, ProductKind.LEASING]}
    products = []
    for i in range(60):
        org_kind = rng.choice(list(orgs))
        org = rng.choice(orgs[org_kind])
        kind = rng.choice(kinds[org_kind])
        lo = Decimal(rng.choice([10, 50, 100, 300, 500]))
        products.append(factories.make_product(
            org if i != 59 else hidden_org, commit=False, kind=kind,
            name=rng.choice(NAMES) + str(i), description=rng.choice(["支持智能化改造", "面向科技型中小企业", "用于设备更新", ""]),
            amount_min=lo, amount_max=lo * rng.choice([2, 10, 40]),
            term_min=rng.choice([1, 6, 12]), term_max=rng.choice([12, 36, 60, 120]),
            rate_min=Decimal(0) if kind == ProductKind.EQUITY else Decimal("3.2"),
            rate_max=Decimal(0) if kind == ProductKind.EQUITY else Decimal("5.8"),
            collateral=rng.sample(COLLATERAL_CODES, rng.randint(0, 3)),
            industries=rng.sample(city.clusters, rng.choice([0, 0, 1, 3])),
            districts=rng.sample(city.districts, rng.choice([0, 0, 1, 2])),
            sizes=rng.sample(SIZE_CODES, rng.choice([0, 1, 2])),
            purposes=rng.sample(PURPOSE_CODES, rng.choice([0, 1, 3])),
            tags=rng.sample(TAGS, rng.randint(0, 2)),
            status=rng.choice([ProductStatus.ACTIVE] * 4 + [ProductStatus.PAUSED, ProductStatus.RETIRED]),
        ))
    from models import db_session

    db_session.commit()
    return products


def expected(products, f: ProductFilters):
    def ok(p):
        serves = lambda values, v: not values or v in values  # noqa: E731
        return all([
            p.status == ProductStatus.ACTIVE and p.org.status == OrgStatus.APPROVED,
            f.kind is None or p.kind.value == f.kind,
            f.org_kind is None or p.org.kind.value == f.org_kind,
            f.district is None or serves(p.districts, f.district),
            f.cluster is None or serves(p.industries, f.cluster),
            f.size is None or serves(p.sizes, f.size),
            f.purpose is None or serves(p.purposes, f.purpose),
            f.collateral is None or f.collateral in p.collateral,
            f.amount is None or p.amount_min <= f.amount <= p.amount_max,
            f.tag is None or f.tag in p.tags,
            f.q is None or f.q in p.name or f.q in p.description,
        ])
    return {p.ref for p in products if ok(p)}


CASES = [
    {},
    {"kind": "loan"}, {"kind": "equity"}, {"kind": "guarantee"}, {"kind": "leasing"},
    {"org_kind": "bank"}, {"org_kind": "guarantor"}, {"org_kind": "fund"},
    {"district": "滕州市"}, {"district": "山亭区"},
    {"cluster": "锂电"}, {"cluster": "高端装备"},
    {"size": "micro"}, {"size": "large"},
    {"purpose": "smart_upgrade"}, {"purpose": "listing"},
    {"collateral": "none"}, {"collateral": "ip"},
    {"amount": "200"}, {"amount": "5000"}, {"amount": "15"},
    {"tag": "首贷"}, {"tag": "绿色贷"},
    {"q": "设备"}, {"q": "科技"},
    {"kind": "loan", "district": "滕州市", "size": "small", "amount": "300"},
    {"org_kind": "bank", "collateral": "none", "purpose": "equipment", "tag": "信用贷"},
    {"cluster": "锂电", "district": "市中区", "q": "贷"},
]


@pytest.mark.parametrize("args", CASES)
def test_filters_agree_with_a_count_computed_here(shelf, city, args):
    f = ProductFilters.from_args(args, city)
    want = expected(shelf, f)
    rows, total = browse(f, page=1, per_page=1000)
    assert total == len(want)
    assert {p.ref for p in rows} == want


def test_the_shelf_exercises_the_filters(shelf, city):
    # Guard against a shelf so uniform that the cases above prove nothing.
    for args in ({"district": "滕州市"}, {"collateral": "none"}, {"amount": "200"}, {"tag": "首贷"}):
        n = len(expected(shelf, ProductFilters.from_args(args, city)))
        assert 0 < n < len(expected(shelf, ProductFilters())), args


@pytest.mark.parametrize("args", [{"kind": "loan"}, {"district": "滕州市", "purpose": "equipment"}, {}])
def test_anonymous_visitors_browse_with_the_same_counts(shelf, city, client, args):
    resp = client.get("/products/", query_string=args)
    assert resp.status_code == 200
    want = expected(shelf, ProductFilters.from_args(args, city))
    assert f"共 {len(want)} 个产品" in resp.text
    shown = set(re.findall(r'data-ref="([^"]+)"', resp.text))
    assert shown <= want and len(shown) == min(20, len(want))


def test_pages_keep_the_filters(shelf, city, client):
    bank = factories.make_org(OrgKind.BANK)
    for _ in range(21):
        factories.make_product(bank, kind=ProductKind.LOAN)
    resp = client.get("/products/", query_string={"kind": "loan"})
    assert "kind=loan" in resp.text and "page=2" in resp.text
    page2 = client.get("/products/", query_string={"kind": "loan", "page": 2})
    first = set(re.findall(r'data-ref="([^"]+)"', resp.text))
    second = set(re.findall(r'data-ref="([^"]+)"', page2.text))
    assert first and second and not first & second


def test_all_pages_together_list_every_match_once(shelf, city):
    f = ProductFilters()
    _, total = browse(f, per_page=7)
    seen = []
    for page in range(1, total // 7 + 2):
        rows, _ = browse(f, page=page, per_page=7)
        seen += [p.ref for p in rows]
    assert len(seen) == len(set(seen)) == total


def test_unknown_filter_values_are_ignored(shelf, city, client):
    f = ProductFilters.from_args({"kind": "bogus", "district": "北京", "amount": "abc", "size": "huge"}, city)
    assert not f.any
    assert client.get("/products/?amount=-5&kind=<script>").status_code == 200


def test_text_search_treats_percent_literally(ctx, client, search_down):
    # The database fallback's LIKE: "%" in the text is the character, not a wildcard.
    bank = factories.make_org(OrgKind.BANK)
    factories.make_product(bank, name="100%保证贷")
    factories.make_product(bank, name="1000万普通贷款")
    text = client.get("/products/", query_string={"q": "100%"}).text
    assert "共 1 个产品" in text and "搜索服务暂时不可用" in text


def test_a_text_without_words_gets_a_message(ctx, client):
    text = client.get("/products/", query_string={"q": "%"}).text
    assert "搜索词中没有可检索的文字或数字" in text and 'id="search-error"' in text


def test_product_page_is_public_and_shows_the_institution(ctx, client):
    bank = factories.make_org(OrgKind.BANK, name="齐鲁银行枣庄分行")
    product = factories.make_product(bank, name="专精特新信用贷", tags=["信用贷"], districts=["滕州市"])
    resp = client.get(f"/products/{product.ref}")
    assert resp.status_code == 200
    assert "专精特新信用贷" in resp.text and "齐鲁银行枣庄分行" in resp.text and "滕州市" in resp.text
    assert "修改" not in resp.text
    assert client.get("/products/pd-nope").status_code == 404


def test_navigation_offers_the_supermarket_to_everyone(world, client, login_as):
    assert "金融产品超市" in client.get("/").text
    bank_nav = login_as(world.bank).get("/").text
    assert "金融产品超市" in bank_nav and "我的产品" in bank_nav and "消息" in bank_nav
    ent_nav = login_as(world.enterprise).get("/").text
    assert "金融产品超市" in ent_nav and "我的产品" not in ent_nav


def test_institution_home_has_the_product_task(world, login_as):
    factories.make_product(world.bank.org)
    text = login_as(world.bank).get("/").text
    assert "管理金融产品" in text and "/my-products" in text


def test_front_page_counts_products_on_sale(ctx, client):
    bank = factories.make_org(OrgKind.BANK)
    factories.make_product(bank)
    factories.make_product(bank, status=ProductStatus.PAUSED)
    assert 'id="fig-products">1<' in client.get("/").text
