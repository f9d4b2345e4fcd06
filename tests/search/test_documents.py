"""Document builders, and the reveal rule: an enterprise's identity never reaches the demand index."""
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest

from search.documents import ANY, amount_band, demand_document, organization_document, product_document
from search.embedded import EmbeddedBackend
from search.query import SearchQuery
from search.synthetic import FakeDemand, FakeOrg, FakeProject, demands, products


def _demand(**kw) -> FakeDemand:
    org = FakeOrg(ref="ent-9", name="枣庄鑫源锂电科技有限公司", district="滕州市", industry="锂电", size="small",
                  tags=["专精特新"], uscc="91370481000000001X", contact_name="王建国", contact_phone="13912345678")
    base = FakeDemand(
        ref="dm-9", title="锂电池隔膜生产线设备更新贷款",
        description="枣庄鑫源锂电科技有限公司拟更新设备，联系人王建国，电话13912345678，代码91370481000000001X。",
        amount=Decimal("1500.5"), term_months=36, purpose="equipment", financing_types=["loan", "leasing"],
        collateral=["equipment", "none"], max_rate=Decimal("4.35"), status="published",
        created_at=datetime(2026, 3, 1, 9, 0), valid_until=date(2026, 9, 1), org=org,
        project=FakeProject("隔膜二期技改项目", "equipment", is_major=True))
    return replace(base, **kw)


def test_demand_document_fields_and_chinese_labels():
    doc = demand_document(_demand())
    assert doc["ref"] == "dm-9" and doc["type"] == "demand"
    assert doc["district"] == "滕州市" and doc["cluster"] == "锂电" and doc["size"] == "small"
    assert doc["financing_type"] == ["loan", "leasing"] and doc["collateral"] == ["equipment", "none"]
    assert doc["amount_min"] == doc["amount_max"] == Decimal("1500.5") and doc["amount_band"] == "1000-5000万元"
    assert doc["term_min"] == 36 and doc["rate_max"] == Decimal("4.35") and doc["status"] == "published"
    assert doc["created_at"] == "2026-03-01T09:00:00" and doc["valid_until"] == "2026-09-01"
    for word in ("设备更新", "贷款", "融资租赁", "设备抵押", "信用", "隔膜二期技改项目", "重大项目", "专精特新", "小型"):
        assert word in doc["keywords"], word


def test_demand_document_never_holds_the_enterprise_identity(tmp_path):
    demand = _demand()
    doc = demand_document(demand)
    flat = repr(doc)
    for secret in ("枣庄鑫源锂电科技有限公司", "91370481000000001X", "王建国", "13912345678", "ent-9"):
        assert secret not in flat, secret
    backend = EmbeddedBackend(tmp_path)
    backend.index("demand", [doc])
    assert backend.search(SearchQuery(text="隔膜")).refs == ["dm-9"]
    for secret in ("枣庄鑫源锂电科技有限公司", "91370481000000001X", "王建国", "13912345678"):
        assert backend.search(SearchQuery(text=secret)).total == 0, secret


def test_many_synthetic_demands_keep_the_rule():
    for demand in demands(200, seed=5):
        flat = repr(demand_document(demand))
        assert demand.org.name not in flat and demand.org.uscc not in flat and demand.org.contact_phone not in flat


@pytest.mark.parametrize(("amount", "band"), [(50, "100万元以下"), (100, "100-500万元"), (999, "500-1000万元"),
                                              (5000, "5000万元以上"), (None, None)])
def test_amount_bands(amount, band):
    assert amount_band(amount) == band


def test_product_document_marks_open_targets_as_any():
    product = products(1)[0]
    product = replace(product, districts=[], industries=["锂电"], sizes=[], purposes=["equipment"],
                      collateral=["none"], tags=["技改贷"])
    doc = product_document(product)
    assert doc["district"] == [ANY] and doc["cluster"] == ["锂电"] and doc["size"] == [ANY]
    assert doc["amount_min"] == product.amount_min and doc["kind"] == product.kind
    assert {"信用", "设备更新", "技改贷", product.org.name} <= set(doc["keywords"])


def test_organization_document_is_public_fields_only():
    org = FakeOrg(ref="ent-1", name="枣庄华泰高端装备有限公司", district="薛城区", industry="高端装备", size="medium",
                  tags=["高新技术企业"], uscc="91370481000000001X", contact_name="李四", contact_phone="13800000001",
                  description="数控机床制造")
    doc = organization_document(org)
    assert doc["title"] == org.name and doc["kind"] == "enterprise" and doc["cluster"] == "高端装备"
    assert "91370481000000001X" not in repr(doc) and "李四" not in repr(doc) and "13800000001" not in repr(doc)
