"""Synthetic demands and products with realistic Chinese text, from a fixed seed, for tests and the benchmark."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

DISTRICTS = ("市中区", "薛城区", "峄城区", "台儿庄区", "山亭区", "滕州市", "枣庄高新区")
CLUSTERS = ("高端装备", "高端化工", "新型建材", "锂电", "光纤和新材料", "大数据", "医药健康",
            "能源电力", "纺织服装", "橡胶轮胎", "机械机床", "水泥玻璃", "食品饮料", "家居门窗", "高档造纸")
PRODUCTS_OF = {
    "高端装备": ("数控机床", "工业机器人", "智能装备", "液压元件"),
    "高端化工": ("精细化工", "新型催化剂", "化工新材料"),
    "新型建材": ("装配式建材", "新型墙体材料", "保温材料"),
    "锂电": ("锂电池隔膜", "锂电池正极材料", "储能电池", "动力电池"),
    "光纤和新材料": ("光纤预制棒", "特种光缆", "碳纤维复合材料"),
    "大数据": ("数据中心", "工业互联网平台", "云计算服务"),
    "医药健康": ("原料药", "医疗器械", "中药饮片"),
    "能源电力": ("光伏电站", "热电联产", "储能电站"),
    "纺织服装": ("高档面料", "功能性纺织品", "服装"),
    "橡胶轮胎": ("子午线轮胎", "橡胶制品", "工程轮胎"),
    "机械机床": ("精密机床", "机械零部件", "齿轮箱"),
    "水泥玻璃": ("特种玻璃", "水泥粉磨", "光伏玻璃"),
    "食品饮料": ("食品加工", "饮料灌装", "冷链食品"),
    "家居门窗": ("系统门窗", "定制家居", "铝合金门窗"),
    "高档造纸": ("特种纸", "包装纸", "生活用纸"),
}
PLACES = ("生产线", "车间", "项目", "基地", "工厂", "产线")
ACTIONS = {
    "smart_upgrade": ("智能化改造项目流动资金", "智能化改造贷款", "数字化车间建设", "技改项目贷款"),
    "equipment": ("设备更新贷款", "设备贷款", "设备融资租赁", "设备购置资金"),
    "green": ("绿色化改造融资", "节能降耗技术改造", "环保设施升级"),
    "new_product": ("新产品产业化资金", "新产品试制融资"),
    "expansion": ("扩能改造贷款", "产能扩建融资"),
    "rnd": ("研发中心建设资金", "关键技术攻关融资"),
    "working_capital": ("流动资金贷款", "原材料采购资金", "首次贷款"),
    "merger": ("并购重组融资",),
    "listing": ("上市前股权融资",),
}
SENTENCES = ("企业现有员工{n}人，订单充足。", "项目建成后预计年新增产值{n}百万元。", "拟通过技术改造提升产品良率。",
             "已取得相关环评和能评批复。", "需要银行提供信用贷款支持。", "可提供设备抵押或应收账款质押。",
             "项目纳入全市千项技改计划。", "希望获得首贷支持，降低融资成本。")
FINANCING = ("loan", "equity", "guarantee", "leasing")
COLLATERAL = ("none", "property", "equipment", "receivables", "ip", "equity_pledge", "guarantee")
STATUSES = ("published",) * 6 + ("matched", "signed", "funded", "expired")
SIZES = ("large", "medium", "small", "micro")
TAGS = ("高新技术企业", "专精特新", "规上企业", "智能化改造示范", "瞪羚企业", "科技型中小企业", "绿色工厂")
EPOCH = datetime(2026, 1, 1, 8, 0, 0)


@dataclass
class FakeOrg:
    """A stand-in for models.Organization with the attributes the document builders read."""

    ref: str
    name: str
    kind: str = "enterprise"
    district: str | None = None
    industry: str | None = None
    size: str | None = None
    tags: list[str] = field(default_factory=list)
    uscc: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    description: str | None = None
    status: str = "approved"
    created_at: datetime = EPOCH


@dataclass
class FakeProject:
    """A stand-in for a tech-transformation project."""

    name: str
    category: str
    is_major: bool = False


@dataclass
class FakeDemand:
    """A stand-in for a financing demand (the real model arrives with the demand pool)."""

    ref: str
    title: str
    description: str
    amount: Decimal
    term_months: int
    purpose: str
    financing_types: list[str]
    collateral: list[str]
    max_rate: Decimal
    status: str
    created_at: datetime
    valid_until: date
    org: FakeOrg
    project: FakeProject | None = None


@dataclass
class FakeProduct:
    """A stand-in for a financial product."""

    ref: str
    name: str
    description: str
    kind: str
    amount_min: Decimal
    amount_max: Decimal
    term_min: int
    term_max: int
    rate_min: Decimal
    rate_max: Decimal
    collateral: list[str]
    industries: list[str]
    districts: list[str]
    sizes: list[str]
    purposes: list[str]
    tags: list[str]
    status: str
    org: FakeOrg


def _uscc(n: int) -> str:
    from models.organizations import uscc_check_char

    body = f"91370400{n:09d}"
    return body + uscc_check_char(body)


def enterprises(n: int, rng: random.Random) -> list[FakeOrg]:
    """`n` enterprises spread over the districts and clusters, with private names, codes and contacts."""
    out = []
    for i in range(n):
        cluster = CLUSTERS[i % len(CLUSTERS)]
        out.append(FakeOrg(
            ref=f"ent-{i:05d}", name=f"枣庄{rng.choice(('鑫源', '华泰', '鲁南', '金达', '恒远', '瑞丰'))}{cluster}科技有限公司{i}",
            district=rng.choice(DISTRICTS), industry=cluster, size=rng.choice(SIZES),
            tags=rng.sample(TAGS, rng.randint(0, 2)), uscc=_uscc(i + 1),
            contact_name=f"联系人{i}", contact_phone=f"1380000{i:04d}"))
    return out


def demands(n: int, seed: int = 2026, orgs: int | None = None) -> list[FakeDemand]:
    """`n` demands with titles like 锂电池隔膜生产线设备更新贷款, reproducible from `seed`."""
    rng = random.Random(seed)
    owners = enterprises(orgs or max(1, n // 3), rng)
    out = []
    for i in range(n):
        org = owners[i % len(owners)]
        purpose = rng.choice(tuple(ACTIONS))
        product = rng.choice(PRODUCTS_OF[org.industry])
        place = rng.choice(PLACES)
        title = f"{product}{place}{rng.choice(ACTIONS[purpose])}"
        body = "".join(rng.sample(SENTENCES, 3)).format(n=rng.randint(50, 900))
        description = f"本项目位于{org.district}，主要建设{product}{place}。{body}"
        amount = Decimal(rng.choice((50, 80, 100, 200, 300, 500, 800, 1000, 1500, 2000, 3000, 5000, 8000, 12000)))
        project = FakeProject(f"{product}{rng.choice(('技术改造', '技改', '扩建', '智能化'))}项目", purpose,
                              is_major=rng.random() < 0.2)
        out.append(FakeDemand(
            ref=f"dm-{i:06d}", title=title, description=description, amount=amount,
            term_months=rng.choice((6, 12, 24, 36, 48, 60)), purpose=purpose,
            financing_types=rng.sample(FINANCING, rng.randint(1, 2)),
            collateral=rng.sample(COLLATERAL, rng.randint(1, 3)),
            max_rate=Decimal(rng.choice(("3.2", "3.65", "4.0", "4.35", "4.8", "5.5"))),
            status=rng.choice(STATUSES), created_at=EPOCH + timedelta(minutes=37 * i + rng.randint(0, 30)),
            valid_until=date(2026, 12, 31), org=org, project=project))
    return out


def products(n: int, seed: int = 7) -> list[FakeProduct]:
    """`n` loan, guarantee, leasing and equity products of a handful of banks."""
    rng = random.Random(seed)
    banks = [FakeOrg(ref=f"bank-{i:02d}", name=f"{name}枣庄分行", kind="bank", district=rng.choice(DISTRICTS))
             for i, name in enumerate(("工商银行", "农业银行", "建设银行", "齐鲁银行", "枣庄农商银行", "恒丰银行"))]
    names = ("技改贷", "设备贷", "信用贷", "科创贷", "首贷通", "绿色贷", "专精特新贷", "人才贷")
    out = []
    for i in range(n):
        kind = rng.choice(FINANCING)
        lo = Decimal(rng.choice((10, 50, 100, 300)))
        out.append(FakeProduct(
            ref=f"pd-{i:05d}", name=f"{rng.choice(names)}{i}", description=f"面向{rng.choice(CLUSTERS)}企业的{rng.choice(names)}产品",
            kind=kind, amount_min=lo, amount_max=lo * rng.choice((10, 20, 50)), term_min=6, term_max=rng.choice((36, 60)),
            rate_min=Decimal("0") if kind == "equity" else Decimal("3.2"),
            rate_max=Decimal("0") if kind == "equity" else Decimal("5.5"),
            collateral=rng.sample(COLLATERAL, 2), industries=rng.sample(CLUSTERS, rng.randint(0, 3)),
            districts=rng.sample(DISTRICTS, rng.randint(0, 2)), sizes=rng.sample(SIZES, rng.randint(0, 2)),
            purposes=rng.sample(tuple(ACTIONS), rng.randint(0, 3)), tags=[], status="active",
            org=rng.choice(banks)))
    return out
