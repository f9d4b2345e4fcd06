"""The console pages, the drill-down lists, the monthly workbook and who may see them."""
from __future__ import annotations

import io
import json
import re

import pytest
from openpyxl import load_workbook

from matchmaker.console import report, services
from models import OrgKind
from tests import factories
from tests.console import history as H

ARGS = {"start": H.PERIOD[0], "end": H.PERIOD[1]}


@pytest.fixture
def hist(ctx):
    return H.build()


def kpi(html: str, key: str) -> str:
    m = re.search(rf'id="kpi-{key}".*?<a class="drill" href="[^"]*">([^<]*)</a>', html, re.S)
    return m.group(1).strip()


def listed(html: str) -> set[str]:
    return set(re.findall(r'<tr data-ref="([^"]+)"', html))


@pytest.mark.parametrize("who", ["city", "district"])
def test_the_console_shows_the_hand_counted_figures(hist, login_as, who):
    user, district = (hist.city_bureau, None) if who == "city" else (hist.tengzhou_bureau, "滕州市")
    html = login_as(user).get("/console/", query_string=ARGS).get_data(as_text=True)
    want = H.EXPECTED[district]
    assert kpi(html, "demands_posted") == str(want["demands_posted"])
    assert kpi(html, "amount_requested") == f"{want['amount_requested']:,.0f}"
    assert kpi(html, "signed_amount") == f"{want['signed_amount']:,.0f}"
    assert kpi(html, "disbursed_amount") == f"{want['disbursed_amount']:,.0f}"
    for key in H.OFFER_KEYS + ("deals_signed",):
        unit = services.METRIC_BY_KEY[key].unit
        assert kpi(html, key) == (f"{want[key]:,.0f}" if unit == "万元" else str(want[key])), key
    funnel = re.findall(r'<tr id="funnel-(\w+)"><td>[^<]*</td><td class="text-end"><a class="drill" href="[^"]*">(\d+)</a>'
                        r'</td><td class="text-end">([^<]*)</td>', html)
    assert [(int(n), pct) for _k, n, pct in funnel] == [
        (n, "—" if p is None else f"{p}%") for n, p in H.FUNNEL[district]]
    assert 'id="console-data"' in html and "<script>" not in html  # charts read a JSON block, no inline code
    assert ("breakdown-district" in html) == (who == "city")


def test_drill_down_pages_list_the_counted_rows(hist, login_as):
    c = login_as(hist.city_bureau)
    for (metric, month, dim, value), refs in H.DRILLS.items():
        args = {**ARGS, "metric": metric, **({"month": month} if month else {}),
                **({"dim": dim, "value": value} if dim else {})}
        r = c.get("/console/list", query_string=args)
        assert r.status_code == 200
        assert listed(r.get_data(as_text=True)) == refs, (metric, month, dim, value)


def test_a_district_bureau_sees_only_its_district(hist, login_as):
    c = login_as(hist.tengzhou_bureau)
    assert c.get("/console/", query_string={**ARGS, "district": "薛城区"}).status_code == 404
    assert c.get("/console/list", query_string={**ARGS, "metric": "demands_posted",
                                                "district": "薛城区"}).status_code == 404
    assert c.get("/console/report.xlsx", query_string={"month": "2026-10", "district": "薛城区"}).status_code == 404
    assert c.get("/console/", query_string={"start": "bad", "district": "薛城区"}).status_code == 404
    # Asking for the other district as a breakdown value inside its own scope finds nothing of it.
    html = c.get("/console/list", query_string={**ARGS, "metric": "demands_posted", "dim": "district",
                                                "value": "薛城区"}).get_data(as_text=True)
    assert listed(html) == set()
    html = c.get("/console/list", query_string={**ARGS, "metric": "demands_posted"}).get_data(as_text=True)
    assert listed(html) == {"dm-d1", "dm-d3", "dm-d4"}
    assert "薛城精工" not in c.get("/console/", query_string=ARGS).get_data(as_text=True)
    # The offer lists hold to the district too: o4 (薛城区) and its deal k2 are not listed.
    html = c.get("/console/list", query_string={**ARGS, "metric": "offers_made"}).get_data(as_text=True)
    assert listed(html) == {"of-o1", "of-o2", "of-o7"} and "薛城精工" not in html
    html = c.get("/console/list", query_string={**ARGS, "metric": "deals_signed"}).get_data(as_text=True)
    assert listed(html) == {"dl-k1"}


@pytest.mark.parametrize("kind", [OrgKind.ENTERPRISE, OrgKind.BANK, OrgKind.FUND, OrgKind.GUARANTOR])
def test_other_roles_are_refused(ctx, login_as, kind):
    c = login_as(factories.make_user(factories.make_org(kind)))
    for url in ("/console/", "/console/list?metric=demands_posted", "/console/report.xlsx?month=2026-10"):
        assert c.get(url).status_code == 403


def test_visitors_are_sent_to_log_in(client):
    assert client.get("/console/").status_code == 302


def test_bad_filters_get_a_message_not_an_error(hist, login_as):
    c = login_as(hist.city_bureau)
    r = c.get("/console/", query_string={"start": "2026-11", "end": "2026-01"})
    assert r.status_code == 200 and "起始月份不能晚于结束月份" in r.get_data(as_text=True)
    assert c.get("/console/list", query_string={**ARGS, "metric": "nonsense"}).status_code == 404
    r = c.get("/console/", query_string={"district": "北京市"})
    assert r.status_code == 200 and "不是本市的区" in r.get_data(as_text=True)


def test_an_empty_platform_shows_zeros_and_an_explanation(ctx, login_as):
    c = login_as(factories.make_user(factories.make_org(OrgKind.BUREAU, district=None)))
    html = c.get("/console/").get_data(as_text=True)
    assert 'id="console-empty"' in html
    assert kpi(html, "demands_posted") == "0"
    assert c.get("/console/report.xlsx?month=2026-10").status_code == 200


def _sheet(wb, name) -> list[tuple]:
    return list(wb[name].iter_rows(values_only=True))


def test_the_monthly_workbook_has_the_console_figures(hist, login_as):
    r = login_as(hist.city_bureau).get("/console/report.xlsx", query_string={"month": "2026-10"})
    wb = load_workbook(io.BytesIO(r.data))
    assert wb.sheetnames == list(report.SHEETS)
    summary = {row[0]: row[1] for row in _sheet(wb, "汇总")}
    october = services.totals(services.scope_for(hist.city_bureau, "2026-10", "2026-10"))
    for key, m in services.METRIC_BY_KEY.items():
        assert summary[m.title] == pytest.approx(float(october[key])), key
    # By hand: in October d4 and d5 were posted (2,800 万元), ev-1 was held (700 / 300 / 100).
    assert (summary["提交融资需求"], summary["申请融资金额"]) == (2, 2800)
    assert (summary["意向金额"], summary["签约金额"], summary["放款金额"]) == (700, 300, 100)
    # October's offer side by hand: o2 answered (300), o1 accepted (800), k1 signed 600, 200 paid on k1.
    assert (summary["机构报价"], summary["报价金额"], summary["企业接受报价"], summary["接受报价金额"]) == (1, 300, 1, 800)
    assert (summary["签约合同"], summary["合同签约金额"], summary["合同放款金额"]) == (1, 600, 200)
    districts = {row[0]: row[1:] for row in _sheet(wb, "分区")[1:]}
    assert districts["滕州市"][:2] == (1, 2000) and districts["薛城区"][:2] == (1, 800)
    header = _sheet(wb, "分区")[0]
    offer_cols = [header.index(f"{services.METRIC_BY_KEY[k].title}（{services.METRIC_BY_KEY[k].unit}）")
                  for k in H.OFFER_KEYS]
    row = _sheet(wb, "分区")[[r[0] for r in _sheet(wb, "分区")].index("滕州市")]
    # 滕州市 in October: o2 offered 300, o1 accepted 800, k1 signed 600 and paid 200.
    assert [row[i] for i in offer_cols] == [1, 300, 1, 800, 600, 200]
    clusters = {row[0]: row[1:] for row in _sheet(wb, "分产业")[1:]}
    assert clusters["高端装备"][:2] == (1, 800) and clusters["锂电"][:2] == (1, 2000)
    events = _sheet(wb, "活动成效")[1:]
    assert [(e[1], e[3], e[4], e[5], e[6]) for e in events] == [("全市银企对接会", 2, 700, 300, 100)]
    institutions = {row[0]: row for row in _sheet(wb, "分机构")[1:]}
    assert institutions["工商银行枣庄分行"][5] == 300
    assert len(_sheet(wb, "台账")) == 1 + 3


def test_a_district_workbook(hist, login_as):
    r = login_as(hist.tengzhou_bureau).get("/console/report.xlsx", query_string={"month": "2026-11"})
    wb = load_workbook(io.BytesIO(r.data))
    summary = {row[0]: row[1] for row in _sheet(wb, "汇总")}
    # 滕州市 in November: d3 posted (300), d4 published, ev-2 held with m4 (1000 / 800 / 0).
    assert (summary["范围"], summary["提交融资需求"], summary["申请融资金额"]) == ("滕州市", 1, 300)
    assert (summary["举办对接活动"], summary["意向金额"], summary["签约金额"], summary["放款金额"]) == (1, 1000, 800, 0)
    # 滕州市's offer side in November: o7 bid (1,500), nothing accepted or signed, 250 paid on k1.
    assert (summary["机构报价"], summary["报价金额"], summary["企业接受报价"], summary["合同签约金额"],
            summary["合同放款金额"]) == (1, 1500, 0, 0, 250)
    assert [r[0] for r in _sheet(wb, "分区")[1:]] == ["滕州市"]
    assert len(_sheet(wb, "台账")) == 1 + 2


def test_the_report_command(hist, app, tmp_path):
    out = tmp_path / "m.xlsx"
    result = app.test_cli_runner().invoke(
        args=["report", "monthly", "--month", "2026-10", "--district", "滕州市", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"out": str(out), "sheets": list(report.SHEETS)}
    assert "汇总" in result.stderr
    summary = {row[0]: row[1] for row in _sheet(load_workbook(out), "汇总")}
    assert (summary["提交融资需求"], summary["申请融资金额"]) == (1, 2000)
    bad = app.test_cli_runner().invoke(
        args=["report", "monthly", "--month", "2026-13", "--out", str(out)])
    assert bad.exit_code != 0
