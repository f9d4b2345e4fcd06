"""Demo organisations and logins: bureaus, banks with branches, funds, guarantors, enterprises."""
from __future__ import annotations

import random
import string
from decimal import Decimal

from models import Organization, OrgKind, OrgStatus, Size, User, UserRole, db_session
from models.organizations import USCC_CHARSET, uscc_check_char

DEMO_PASSWORD = "demo2026"

DISTRICT_CODES = {
    "市中区": "370402", "薛城区": "370403", "峄城区": "370404", "台儿庄区": "370405",
    "山亭区": "370406", "滕州市": "370481", "枣庄高新区": "370471",
}
DISTRICT_LOGINS = {
    "市中区": "shizhong", "薛城区": "xuecheng", "峄城区": "yicheng", "台儿庄区": "taierzhuang",
    "山亭区": "shanting", "滕州市": "tengzhou", "枣庄高新区": "gaoxin",
}
PLACE = {
    "市中区": "枣庄", "薛城区": "薛城", "峄城区": "峄州", "台儿庄区": "台儿庄",
    "山亭区": "山亭", "滕州市": "滕州", "枣庄高新区": "枣庄",
}
BRANDS = list(["鲁南", "华鑫", "泰和", "金宇", "恒源", "瑞丰", "宏达", "东岳", "龙泉", "益康", "天成", "中晟", "博远", "欣荣", "信诚", "海纳", "腾飞", "卓越", "润泽", "汇通", "嘉禾", "永盛", "联创", "万达", "国泰", "新元", "正昊", "鼎盛", "鸿运", "佳和", "盛世", "凯瑞", "安泰", "华宇", "明远", "睿智", "丰源", "光大", "铭泰", "运河", "微山", "墨子", "奚仲", "君山", "抱犊", "熊耳", "荆河", "龙山", "凤鸣", "长城", "星火", "亿通"])
CLUSTER_WORDS = {
    "高端装备": ["智能装备", "精密机械", "数控装备", "重工机械"],
    "高端化工": ["化工", "精细化工", "新材料化工", "煤化工"],
    "新型建材": ["新型建材", "装配式建筑", "节能建材"],
    "锂电": ["锂电科技", "新能源", "储能科技", "电池材料"],
    "光纤和新材料": ["光电科技", "光纤", "新材料", "复合材料"],
    "大数据": ["数据科技", "信息技术", "云计算", "软件"],
    "医药健康": ["制药", "生物科技", "医疗器械", "健康产业"],
    "能源电力": ["能源", "热电", "光伏电力", "清洁能源"],
    "纺织服装": ["纺织", "服饰", "家纺", "化纤"],
    "橡胶轮胎": ["橡胶", "轮胎", "橡塑制品"],
    "机械机床": ["机床", "机械制造", "数控机床", "铸造"],
    "水泥玻璃": ["水泥", "玻璃", "建材"],
    "食品饮料": ["食品", "饮品", "粮油", "酿造"],
    "家居门窗": ["门窗", "家居", "木业", "铝业"],
    "高档造纸": ["纸业", "包装", "特种纸"],
}
BANKS = [
    ("工商银行", True), ("农业银行", True), ("中国银行", True), ("建设银行", True), ("交通银行", False),
    ("邮储银行", False), ("齐鲁银行", False), ("恒丰银行", False), ("枣庄农商银行", True), ("日照银行", False),
]
FUNDS = ["枣庄市新旧动能转换基金", "枣庄产业发展投资基金", "鲁南科创股权投资基金", "山东省高端装备产业基金",
         "滕州市产业引导基金", "枣庄高新区创业投资基金"]
GUARANTORS = ["枣庄市融资担保有限公司", "滕州市中小企业融资担保有限公司", "山东省农业发展信贷担保枣庄分公司",
              "枣庄高新区科技融资担保有限公司"]
SURNAMES = "王李张刘陈杨黄赵孙周吴徐马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红文斌辉鹏飞海燕宁波晨阳"


class Seeder:
    """Creates demo objects with refs that stay the same for the same seed."""

    def __init__(self, rng: random.Random, password_hash: str):
        self.rng = rng
        self.password_hash = password_hash
        self.count = 0

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(self.rng.choice(GIVEN) for _ in range(self.rng.randint(1, 2)))

    def phone(self) -> str:
        return "1" + self.rng.choice("3589") + "".join(self.rng.choice(string.digits) for _ in range(9))

    def org(self, **kw) -> Organization:
        kw.setdefault("status", OrgStatus.APPROVED)
        kw.setdefault("contact_name", self.person())
        kw.setdefault("contact_phone", self.phone())
        org = Organization(**kw)
        db_session.add(org)
        self.count += 1
        return org

    def user(self, org: Organization, username: str, *, role=UserRole.ADMIN, name: str | None = None) -> User:
        user = User(ref=f"demo-u-{username}", org=org, username=username, password_hash=self.password_hash,
                    role=role, name=name or self.person(), phone=self.phone())
        db_session.add(user)
        return user

    def uscc(self, district: str) -> str:
        body = "91" + DISTRICT_CODES[district] + "".join(self.rng.choice(USCC_CHARSET) for _ in range(9))
        return body + uscc_check_char(body)


def seed_organizations(s: Seeder, city, *, enterprises: int) -> dict:
    """Bureaus, institutions and `enterprises` enterprises; returns the demo logins by role."""
    rng = s.rng
    logins: dict[str, str] = {}
    city_bureau = s.org(ref="demo-bureau-city", kind=OrgKind.BUREAU, name=city.bureau_name, district=None)
    s.user(city_bureau, "city", name="市局管理员")
    logins["市工信局"] = "city"
    for district in city.districts:
        b = s.org(ref=f"demo-bureau-{DISTRICT_LOGINS.get(district, district)}", kind=OrgKind.BUREAU,
                  name=f"{district}工业和信息化局", district=district)
        login = f"bureau-{DISTRICT_LOGINS.get(district, str(city.districts.index(district)))}"
        s.user(b, login)
        logins[f"{district}工信局"] = login

    for i, (bank, has_branches) in enumerate(BANKS, start=1):
        head = s.org(ref=f"demo-bank-{i:02d}", kind=OrgKind.BANK, name=f"{bank}枣庄分行", district="市中区")
        s.user(head, "bank" if i == 1 else f"bank{i:02d}")
        if has_branches:
            for j, district in enumerate(rng.sample(city.districts, 2), start=1):
                branch = s.org(ref=f"demo-bank-{i:02d}-{j}", kind=OrgKind.BANK, parent=head,
                               name=f"{bank}{PLACE[district]}{'支行' if district != '市中区' else '市中支行'}",
                               district=district)
                s.user(branch, f"bank{i:02d}-{j}")
    logins["银行"] = "bank"
    for i, name in enumerate(FUNDS, start=1):
        fund = s.org(ref=f"demo-fund-{i:02d}", kind=OrgKind.FUND, name=name, district=None)
        s.user(fund, "fund" if i == 1 else f"fund{i:02d}")
    logins["基金"] = "fund"
    for i, name in enumerate(GUARANTORS, start=1):
        gua = s.org(ref=f"demo-gua-{i:02d}", kind=OrgKind.GUARANTOR, name=name,
                    district="滕州市" if "滕州" in name else None)
        s.user(gua, "guarantor" if i == 1 else f"guarantor{i:02d}")
    logins["担保机构"] = "guarantor"

    names: set[str] = set()
    sizes = [Size.LARGE] * 1 + [Size.MEDIUM] * 4 + [Size.SMALL] * 10 + [Size.MICRO] * 5
    for i in range(1, enterprises + 1):
        district = city.districts[(i - 1) % len(city.districts)] if i <= len(city.districts) else rng.choice(city.districts)
        cluster = city.clusters[(i - 1) % len(city.clusters)] if i <= len(city.clusters) else rng.choice(city.clusters)
        while True:
            word = rng.choice(CLUSTER_WORDS.get(cluster, ["实业"]))
            name = f"{PLACE[district]}{rng.choice(BRANDS)}{word}{rng.choice(['有限公司', '股份有限公司', '有限责任公司'])}"
            if name not in names:
                names.add(name)
                break
        size = rng.choice(sizes)
        revenue = {Size.LARGE: (50000, 400000), Size.MEDIUM: (5000, 50000), Size.SMALL: (500, 5000),
                   Size.MICRO: (50, 500)}[size]
        employees = {Size.LARGE: (1000, 6000), Size.MEDIUM: (300, 1000), Size.SMALL: (20, 300),
                     Size.MICRO: (3, 20)}[size]
        tags = [t for t, p in (("规上企业", 0.6 if size != Size.MICRO else 0.05), ("高新技术企业", 0.3),
                               ("专精特新", 0.2), ("科技型中小企业", 0.25), ("智能化改造示范", 0.08),
                               ("绿色工厂", 0.06)) if t in city.enterprise_tags and rng.random() < p]
        # A few late registrations wait in the review queue.
        status = OrgStatus.PENDING if i > enterprises - 6 else OrgStatus.APPROVED
        ent = s.org(
            ref=f"demo-ent-{i:04d}", kind=OrgKind.ENTERPRISE, name=name, district=district, industry=cluster,
            uscc=s.uscc(district), size=size, founded=rng.randint(1985, 2023),
            revenue=Decimal(rng.randint(*revenue)), employees=rng.randint(*employees),
            rd_ratio=Decimal(rng.randint(5, 90)) / 1000, tags=tags, status=status,
        )
        s.user(ent, "enterprise" if i == 1 else f"ent{i:04d}")
    logins["企业"] = "enterprise"
    return logins
