"""Demo projects with progress histories and demands in every state of the life cycle, plus a pushed list."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from matchmaker.demands.services import OWNER, SYSTEM, TRANSITION_BY_ACTION
from matchmaker.demo.organizations import Seeder
from models import (
    Demand,
    DemandHistory,
    DemandIntendedBank,
    Organization,
    OrgKind,
    OrgStatus,
    ProblemFollowUp,
    ProgressUpdate,
    PushBatch,
    PushBatchItem,
    TechProject,
    db_session,
)
from models.types import utcnow

PROJECT_WORDS = {
    "smart_upgrade": ["智能化改造", "数字化车间建设", "智能工厂建设"],
    "equipment": ["老旧设备更新", "关键设备购置", "生产线设备升级"],
    "green": ["节能减排改造", "余热回收利用", "清洁生产改造"],
    "new_product": ["新产品产业化", "高端产品研发量产"],
    "expansion": ["扩能改造", "新增产能建设"],
    "rnd": ["研发中心建设", "技术中心升级"],
}
PROBLEMS = ["电力增容审批进度慢", "项目用地指标不足", "设备进口报关周期长", "缺少熟练技术工人", "环评手续尚未办结",
            "配套资金存在缺口", "供应商交货延迟", "施工许可办理中"]
DONE = ["完成项目备案", "完成设备招标", "厂房主体完工", "主要设备到货", "设备安装调试", "试生产", "通过竣工验收"]
FOLLOW = ["已协调相关部门加快办理", "已组织专题调度会", "已推荐对接合作银行", "已列入专班推进事项"]
# The actions that lead from a new draft to each state; every step is a transition of the service's table.
PATHS = {
    "draft": [], "submitted": ["submit"], "returned": ["submit", "return"], "published": ["submit", "publish"],
    "matched": ["submit", "publish", "match"], "signed": ["submit", "publish", "match", "sign"],
    "funded": ["submit", "publish", "match", "sign", "fund"], "withdrawn": ["submit", "publish", "withdraw"],
    "expired": ["submit", "publish", "expire"], "closed": ["submit", "publish", "close"],
}
# Most demands wait in the pool; every state appears within the first round.
STATUS_CYCLE = ["returned", "published", "submitted", "draft", "published", "matched", "signed", "funded",
                "published", "withdrawn", "expired", "closed", "published", "submitted", "published"]
SIZE_INVESTMENT = {"large": (3000, 60000), "medium": (800, 20000), "small": (100, 5000), "micro": (30, 600)}
RETURN_NOTES = ["请补充设备清单和报价", "融资金额与项目投资不匹配，请核实", "请完善资金用途说明"]


def seed_projects_and_demands(s: Seeder, city) -> None:
    """Projects for about half of the approved enterprises, with demands walked along the life cycle."""
    rng = s.rng
    now = utcnow()
    today = now.replace(tzinfo=UTC).astimezone(ZoneInfo(city.timezone)).date()
    enterprises = list(db_session.scalars(
        sa.select(Organization).where(Organization.kind == OrgKind.ENTERPRISE,
                                      Organization.status == OrgStatus.APPROVED).order_by(Organization.ref)))
    bureaus = {o.district: o.users[0] for o in db_session.scalars(
        sa.select(Organization).where(Organization.kind == OrgKind.BUREAU))}
    banks = list(db_session.scalars(
        sa.select(Organization).where(Organization.kind == OrgKind.BANK).order_by(Organization.ref)))
    n_project = n_demand = 0
    pushable: list[Demand] = []
    for i, ent in enumerate(enterprises):
        # The first enterprise is the demo login: it always has projects and demands to look at.
        if i > 0 and rng.random() < 0.5:
            continue
        for _ in range(2 if i == 0 or rng.random() < 0.2 else 1):
            n_project += 1
            project = _project(s, ent, n_project, today)
            # The demo login's projects are major ones, so a pushed list always exists to look at.
            project.is_major = project.is_major or i == 0
            _progress(s, project, ent.users[0], bureaus.get(ent.district) or bureaus[None], now)
            if i == 0 or rng.random() < 0.95:
                n_demand += 1
                status = STATUS_CYCLE[(n_demand - 1) % len(STATUS_CYCLE)]
                demand = _demand(s, ent, project, n_demand, status, now, today, bureaus, banks)
                if status == "published" and project.is_major and demand.intended_banks:
                    pushable.append(demand)
    _push_list(city, bureaus[None], pushable[:8], banks, today, now)


def _project(s: Seeder, ent: Organization, n: int, today: date) -> TechProject:
    rng = s.rng
    category = rng.choice(list(PROJECT_WORDS))
    # Investment in proportion to the enterprise: a micro firm does not build a 2-亿 line.
    low, high = SIZE_INVESTMENT.get(str(ent.size), (100, 5000))
    total = Decimal(rng.randrange(low, high, 10))
    start = today - timedelta(days=rng.randint(-60, 400))
    project = TechProject(
        ref=f"demo-tp-{n:04d}", org=ent, name=f"{rng.choice(PROJECT_WORDS[category])}项目", category=category,
        total_investment=total, equipment_investment=(total * rng.randint(30, 80) / 100).quantize(Decimal(1)),
        start_on=start, end_on=start + timedelta(days=rng.randint(180, 720)), district=ent.district,
        description=f"{ent.industry}领域{PROJECT_WORDS[category][0]}，提升自动化水平和产品质量。",
        is_major=total >= 15000 or rng.random() < 0.1, created_at=datetime.combine(today, datetime.min.time()) - timedelta(days=rng.randint(30, 400)),
    )
    db_session.add(project)
    return project


def _progress(s: Seeder, project: TechProject, reporter, bureau_user, now: datetime) -> None:
    rng = s.rng
    percent = 0
    count = rng.randint(0, 4)
    for k in range(count):
        percent = min(100, percent + rng.randint(10, 35))
        at = now - timedelta(days=(count - k) * 30 + rng.randint(0, 10))
        problem = rng.choice(PROBLEMS) if rng.random() < 0.35 else None
        update = ProgressUpdate(percent=percent, done=DONE[min(k + percent // 40, len(DONE) - 1)],
                                problems=problem, created_at=at, created_by_id=reporter.id)
        # Older problems were mostly solved; the latest is often still open.
        if problem and (k < count - 1 or rng.random() < 0.3):
            update.follow_ups.append(ProblemFollowUp(note=rng.choice(FOLLOW), created_at=at + timedelta(days=3),
                                                     created_by_id=bureau_user.id))
            update.follow_ups.append(ProblemFollowUp(note="问题已解决", resolves=True,
                                                     created_at=at + timedelta(days=10), created_by_id=bureau_user.id))
            update.is_resolved, update.resolved_at = True, at + timedelta(days=10)
        elif problem and rng.random() < 0.5:
            update.follow_ups.append(ProblemFollowUp(note=rng.choice(FOLLOW), created_at=at + timedelta(days=2),
                                                     created_by_id=bureau_user.id))
        # Appended on the project's side: the session reaches new children only from their parent.
        project.updates.append(update)
    project.progress = percent


def _demand(s: Seeder, ent, project, n, status, now, today, bureaus, banks) -> Demand:
    rng = s.rng
    amount = (project.total_investment * rng.randint(20, 80) / 100).quantize(Decimal(10))
    amount = max(amount, Decimal(10))
    purpose = project.category
    # Spread over a year: the offer history the ranking learns from needs a past to learn from.
    created = now - timedelta(days=rng.randint(5, 365), hours=rng.randint(0, 8))
    valid_until = (created + timedelta(days=180)).date()
    if status == "expired":
        valid_until = today - timedelta(days=rng.randint(1, 30))
    elif valid_until < today + timedelta(days=7):
        valid_until = today + timedelta(days=rng.randint(30, 120))
    types = ["loan"] + (["guarantee"] if rng.random() < 0.25 else []) + (["leasing"] if rng.random() < 0.15 else [])
    if rng.random() < 0.15:
        types = ["equity"] + (["loan"] if rng.random() < 0.5 else [])
    collateral = rng.sample(["none", "property", "equipment", "receivables", "ip", "equity_pledge", "guarantee"],
                            rng.randint(1, 2))
    demand = Demand(
        ref=f"demo-dm-{n:04d}", org=ent, project=project,
        title=f"{project.name}{'股权融资' if types[0] == 'equity' else '融资'}需求", amount=amount,
        description=f"用于{project.name}，{'设备购置和安装' if purpose in ('equipment', 'smart_upgrade') else '项目建设'}。",
        term_months=rng.choice([6, 12, 24, 36, 48, 60]), purpose=purpose, financing_types=types,
        collateral=collateral, max_rate=Decimal(rng.choice(["3.8", "4.2", "4.5", "5", "5.5"])) if "loan" in types
        else None, valid_until=valid_until, contact_name=s.person(), contact_phone=s.phone(), created_at=created,
        status="draft",
    )
    demand.history.append(DemandHistory(at=created, user_id=ent.users[0].id, action="create", to_status="draft"))
    bureau_user = bureaus.get(ent.district) or bureaus[None]
    at = created
    for action in PATHS[status]:
        t = TRANSITION_BY_ACTION[action]
        assert demand.status in t.sources, (action, demand.status)
        at += timedelta(days=rng.randint(1, 5))
        actor = None if SYSTEM in t.who else (ent.users[0] if OWNER in t.who else bureau_user).id
        note = rng.choice(RETURN_NOTES) if action == "return" else None
        if action == "expire":
            at, note = datetime.combine(valid_until + timedelta(days=1), datetime.min.time()), "有效期已过，已自动失效"
        demand.history.append(DemandHistory(at=min(at, now), user_id=actor, action=action,
                                            from_status=str(demand.status), to_status=str(t.target), note=note))
        demand.status = t.target
        if action == "publish":
            demand.published_at = min(at, now)
        if action == "return":
            demand.return_reason = note
    if project.is_major and status == "published":
        for bank in rng.sample(banks, rng.randint(1, 3)):
            demand.intended_banks.append(DemandIntendedBank(org=bank, chosen_by="enterprise"))
    db_session.add(demand)
    return demand


def _push_list(city, city_bureau_user, demands: list[Demand], banks, today: date, now: datetime) -> None:
    """One list the city bureau already pushed; the demo bank login is among its recipients."""
    if not demands:
        return
    demo_bank = banks[0]
    for d in demands:
        if all(r.org is not demo_bank for r in d.intended_banks):
            if len(d.intended_banks) >= int(city.policy.get("intended_banks_limit", 3)):
                d.intended_banks.pop()
            d.intended_banks.append(DemandIntendedBank(org=demo_bank, chosen_by="bureau"))
    batch = PushBatch(ref="demo-pb-0001", title=f"{today.year}年{today.month}月技改项目融资需求清单",
                      bureau=city_bureau_user.org, created_by_id=city_bureau_user.id, created_at=now, pushed_at=now,
                      items=[PushBatchItem(demand=d) for d in demands])
    db_session.add(batch)
