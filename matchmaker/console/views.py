"""The bureau console (工作台): figures, charts, drill-down lists and the monthly workbook."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from matchmaker.auth.sessions import fresh_login_required
from matchmaker.console import report, scorecard, service, services
from matchmaker.pagination import page_arg
from matchmaker.permissions import role_required
from models import OrgKind

bp = Blueprint("console", __name__, url_prefix="/console")
# The public scorecard lives outside /console: visitors see it once the city bureau publishes it.
public_bp = Blueprint("scorecard", __name__)


def _scope(args):
    """The scope from the query string: 404 for another district, None plus a message for a bad period."""
    district = args.get("district") or None
    try:
        try:
            return services.scope_for(current_user, args.get("start") or None, args.get("end") or None,
                                      district), None
        except services.ConsoleError as e:
            # A bad period or district: the default period of the user's own reach, with the message.
            return services.scope_for(current_user, district=None), str(e)
    except LookupError:
        abort(404)


@bp.route("/")
@role_required(OrgKind.BUREAU)
def index():
    scope, error = _scope(request.args)
    data = services.console(scope)
    return render_template("console/index.html", data=data, scope=scope, error=error,
                           metrics=services.METRIC_BY_KEY, chart=_chart_data(data, scope))


@bp.route("/list")
@role_required(OrgKind.BUREAU)
def drill():
    scope, error = _scope(request.args)
    if error:
        abort(400)
    d = services.Drill(metric=request.args.get("metric", ""), month=request.args.get("month") or None,
                       dim=request.args.get("dim") or None, value=request.args.get("value"))
    page = page_arg()
    try:
        rows, total = services.drill_page(scope, d, page)
    except LookupError:
        abort(404)
    except services.ConsoleError:
        abort(400)
    metric = services.METRIC_BY_KEY[d.metric]
    return render_template("console/list.html", rows=rows, total=total, page=page, per_page=50, scope=scope,
                           drill=d, metric=metric, source=services.SOURCES[metric.source],
                           value_label=services.dimension_label(d.dim, d.value) if d.dim else None,
                           dim_title=services.DIMENSIONS[d.dim].title if d.dim else None)


@bp.route("/service")
@role_required(OrgKind.BUREAU)
def service_page():
    scope, error = _scope(request.args)
    return render_template("console/service.html", data=service.service_levels(scope), scope=scope, error=error)


@bp.route("/scorecard", methods=["GET", "POST"])
@role_required(OrgKind.BUREAU)
def scorecard_admin():
    """The ranking as the public would see it, and (for the city bureau) publishing or withdrawing it."""
    scope, error = _scope(request.values)
    if request.method == "POST":
        try:
            if request.form.get("action") == "withdraw":
                scorecard.withdraw(current_user)
                flash("已撤回公开榜单", "success")
            else:
                if error:
                    abort(400)
                scorecard.publish(current_user, scope)
                flash(f"已公开 {scope.labels[0]} 至 {scope.labels[-1]} 的金融机构服务榜单", "success")
        except PermissionError:
            abort(403)
        return redirect(url_for("console.scorecard_admin", **scope.args()))
    return render_template("console/scorecard.html", rows=scorecard.ranking(scope), scope=scope, error=error,
                           published=scorecard.state(), admin=True)


@public_bp.route("/scorecard")
def public_scorecard():
    published = scorecard.state()
    if published is None:
        abort(404)
    scope = services.Scope(None, tuple(_months(published["start"], published["end"])))
    return render_template("console/scorecard.html", rows=scorecard.ranking(scope), scope=scope, error=None,
                           published=published, admin=False)


def _months(start: str, end: str):
    m, last = services.parse_month(start), services.parse_month(end)
    while m <= last:
        yield m
        m = services._next_month(m)


@bp.route("/report.xlsx")
@role_required(OrgKind.BUREAU)
@fresh_login_required
def monthly_report():
    month = request.args.get("month") or services.local_month().strftime("%Y-%m")
    try:
        scope = services.scope_for(current_user, month, month, request.args.get("district") or None)
    except LookupError:
        abort(404)
    except services.ConsoleError:
        abort(400)
    data = report.workbook(scope)
    name = f"产融对接月报-{month}{'-' + scope.district if scope.district else ''}.xlsx"
    return send_file(data, as_attachment=True, download_name=name,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _chart_data(data: dict, scope: services.Scope) -> dict:
    """What console.js draws: plain numbers, labels and the drill-down link of every point."""
    from urllib.parse import urlencode

    from flask import url_for

    base = url_for("console.drill") + "?" + urlencode(scope.args())

    def link(metric, **kw):
        return f"{base}&{urlencode({'metric': metric, **kw})}"

    trend_keys = [("demands_posted", "demands_published"), ("amount_requested", "amount_published"),
                  ("intent_amount", "signed_amount", "disbursed_amount"),
                  ("amount_offered", "amount_accepted", "deal_signed_amount", "deal_disbursed_amount")]
    trends = [{
        "id": f"trend-{i}",
        "months": scope.labels,
        "series": [{"key": k, "name": services.METRIC_BY_KEY[k].title, "unit": services.METRIC_BY_KEY[k].unit,
                    "data": [float(v) for v in data["trends"][k]],
                    "links": [link(k, month=m) for m in scope.labels]} for k in keys],
    } for i, keys in enumerate(trend_keys)]
    bars = []
    for b in data["breakdowns"]:
        # The institutions have no demands of their own: their bars are the offers.
        keys = [k for k in ("demands_posted", "amount_requested") if k in b["metrics"]] \
            or [k for k in ("offers_made", "amount_offered") if k in b["metrics"]]
        bars.append({
            "id": f"by-{b['dim']}",
            "categories": [r["label"] for r in b["rows"]],
            "series": [{"name": services.METRIC_BY_KEY[k].title, "unit": services.METRIC_BY_KEY[k].unit,
                        "data": [float(r["figures"].get(k, 0)) for r in b["rows"]],
                        "links": [link(k, dim=b["dim"], value=r["value"] or "") for r in b["rows"]]}
                       for k in keys],
        })
    funnel = {"id": "funnel-chart", "categories": [f["title"] for f in data["funnel"]],
              "series": [{"name": "需求数", "unit": "项", "data": [f["demands"] for f in data["funnel"]],
                          "links": [link(f["metric"]) for f in data["funnel"]]}]}
    return {"trends": trends, "bars": bars + [funnel]}
