"""Event pages: list, create, registration, requests, scheduling, agendas, check-in, outcomes, report."""
from __future__ import annotations

from urllib.parse import quote

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from matchmaker.events import agenda, services
from matchmaker.events.forms import (
    EventForm,
    InviteForm,
    OutcomeForm,
    RegistrationForm,
    RequestForm,
    split_list,
)
from matchmaker.forms import options
from matchmaker.permissions import can_edit, can_view, get_visible_or_404, role_required
from models import (
    Event,
    EventStatus,
    Meeting,
    MeetingRequest,
    Organization,
    OrgKind,
    OrgStatus,
    RequestStatus,
    db_session,
)
from models.codes import INSTITUTION_KINDS
from models.events import EVENT_LABELS, REGISTRATION_LABELS, REQUEST_LABELS

bp = Blueprint("events", __name__, url_prefix="/events")
ALL = (OrgKind.ENTERPRISE, *INSTITUTION_KINDS, OrgKind.BUREAU)
PARTICIPANTS = (OrgKind.ENTERPRISE, *INSTITUTION_KINDS)
STATUS_COLOURS = {"draft": "secondary", "open": "success", "scheduling": "warning", "published": "primary",
                  "held": "info", "closed": "dark"}


@bp.app_context_processor
def _labels():
    return {"event_label": lambda c: EVENT_LABELS.get(str(c), str(c)),
            "registration_label": lambda c: REGISTRATION_LABELS.get(str(c), str(c)),
            "request_label": lambda c: REQUEST_LABELS.get(str(c), str(c)),
            "event_colour": lambda c: STATUS_COLOURS.get(str(c), "secondary")}


def _event(ref: str) -> Event:
    return get_visible_or_404(Event, ref)


def _managed(ref: str) -> Event:
    event = _event(ref)
    if not can_edit(current_user, event):
        abort(403)
    return event


def _city():
    return current_app.extensions["city"]


@bp.route("/")
@role_required(*ALL)
def index():
    return render_template("events/list.html", events=services.events_for(current_user),
                           is_bureau=current_user.org.kind == OrgKind.BUREAU)


@bp.route("/new", methods=["GET", "POST"])
@role_required(OrgKind.BUREAU)
def new():
    form = EventForm()
    if form.validate_on_submit():
        try:
            event = services.create_event(current_user, form.to_data())
        except services.EventError as e:
            form.title.errors = [str(e)]
        else:
            flash(f"已创建活动「{event.title}」（草稿），确认无误后开放报名。", "success")
            return redirect(url_for("events.detail", ref=event.ref))
    return render_template("events/form.html", form=form, event=None)


@bp.route("/<ref>/edit", methods=["GET", "POST"])
@role_required(OrgKind.BUREAU)
def edit(ref):
    event = _managed(ref)
    form = EventForm()
    if request.method == "GET":
        form.load(event)
    elif form.validate_on_submit():
        try:
            services.update_event(current_user, event, form.to_data())
        except services.EventError as e:
            form.title.errors = [str(e)]
        else:
            flash("活动信息已保存。", "success")
            return redirect(url_for("events.detail", ref=event.ref))
    return render_template("events/form.html", form=form, event=event)


@bp.route("/<ref>")
@role_required(*ALL)
def detail(ref):
    event = _event(ref)
    manage = can_edit(current_user, event)
    org = current_user.org
    ctx = {"event": event, "manage": manage, "times": services.agenda_times(event),
           "registration_open": services.registration_is_open(event)}
    if manage:
        regs = services.registrations(event)
        ctx.update(registrations=regs, requests=services.requests_for(event), invite_form=_invite_form(event, regs),
                   meetings=services.meetings_of(event))
    else:
        reg = services.registration_of(event, org)
        form = RegistrationForm()
        form.set_slots(ctx["times"])
        form.set_demands(services.demands_to_bring(current_user.org))
        ctx.update(registration=reg, form=form, requests=services.requests_for(event, org) if reg else [],
                   request_form=_request_form(event, org) if reg and reg.is_live else None,
                   my_meetings=services.meetings_of(event, org) if event.agenda_is_final else [],
                   proposals=services.propose_pairs(event, city=_city(), enterprise=org)
                   if reg and reg.is_live and org.kind == OrgKind.ENTERPRISE
                   and event.status in (EventStatus.OPEN, EventStatus.SCHEDULING) else [])
    return render_template("events/detail.html", **ctx)


def _invite_form(event: Event, regs) -> InviteForm:
    form = InviteForm()
    taken = {r.org_id for r in regs}
    q = sa.select(Organization).where(Organization.status == OrgStatus.APPROVED,
                                      Organization.kind.in_(PARTICIPANTS)).order_by(Organization.kind, Organization.name)
    if event.district is not None:
        # A district event invites its district's enterprises and any institution.
        q = q.where(sa.or_(Organization.kind != OrgKind.ENTERPRISE, Organization.district == event.district))
    form.org_ref.choices = options([("", "请选择")] + [
        (o.ref, f"{o.name}（{'企业' if o.kind == OrgKind.ENTERPRISE else '机构'}）")
        for o in db_session.scalars(q) if o.id not in taken])
    return form


def _request_form(event: Event, org: Organization) -> RequestForm:
    form = RequestForm()
    asked = {r.to_org_id for r in services.requests_for(event, org) if r.from_org_id == org.id
             and r.status in (RequestStatus.PENDING, RequestStatus.ACCEPTED)}
    others = [r.org for r in services.registrations(event, live_only=True)
              if r.org.is_institution != org.is_institution and r.org.id not in asked]
    form.to_org.choices = options([("", "请选择")] + [(o.ref, o.name) for o in others])
    return form


def _fail(e: Exception, ref: str):
    flash(str(e), "danger")
    return redirect(url_for("events.detail", ref=ref))


@bp.route("/<ref>/transition", methods=["POST"])
@role_required(OrgKind.BUREAU)
def transition(ref):
    event = _managed(ref)
    to = request.form.get("to", "")
    if to not in EVENT_LABELS:
        abort(400)
    try:
        services.transition(current_user, event, to)
    except services.EventError as e:
        return _fail(e, ref)
    flash(f"活动状态已变更为“{EVENT_LABELS[to]}”。", "success")
    return redirect(url_for("events.detail", ref=ref))


@bp.route("/<ref>/register", methods=["POST"])
@role_required(*PARTICIPANTS)
def register(ref):
    event = _event(ref)
    form = RegistrationForm()
    form.set_slots(services.agenda_times(event))
    form.set_demands(services.demands_to_bring(current_user.org))
    if not form.validate_on_submit():
        return _fail(Exception("；".join(e for errs in form.errors.values() for e in errs)), ref)
    try:
        services.register(current_user, event, attendees=split_list(form.attendees.data),
                          demand_refs=form.demand_refs.data or [], available_slots=form.available_slots.data or None,
                          max_meetings=form.max_meetings.data, note=form.note.data or None)
    except services.EventError as e:
        return _fail(e, ref)
    flash("报名已提交。", "success")
    return redirect(url_for("events.detail", ref=ref))


@bp.route("/<ref>/withdraw", methods=["POST"])
@role_required(*PARTICIPANTS)
def withdraw(ref):
    event = _event(ref)
    reg = services.registration_of(event, current_user.org)
    if reg is None:
        abort(404)
    try:
        services.withdraw(current_user, reg)
    except services.EventError as e:
        return _fail(e, ref)
    flash("已退出该活动。", "success")
    return redirect(url_for("events.detail", ref=ref))


@bp.route("/<ref>/invite", methods=["POST"])
@role_required(OrgKind.BUREAU)
def invite(ref):
    event = _managed(ref)
    org = get_visible_or_404(Organization, request.form.get("org_ref", ""))
    try:
        services.invite(current_user, event, org)
    except services.EventError as e:
        return _fail(e, ref)
    flash(f"已邀请「{org.name}」。", "success")
    return redirect(url_for("events.detail", ref=ref))


@bp.route("/<ref>/registrations/<org_ref>/decide", methods=["POST"])
@role_required(OrgKind.BUREAU)
def decide(ref, org_ref):
    event = _managed(ref)
    org = db_session.scalar(sa.select(Organization).where(Organization.ref == org_ref))
    reg = services.registration_of(event, org) if org else None
    if reg is None:
        abort(404)
    try:
        services.decide(current_user, reg, accept=request.form.get("decision") == "accept")
    except services.EventError as e:
        return _fail(e, ref)
    return redirect(url_for("events.detail", ref=ref))


@bp.route("/<ref>/requests", methods=["POST"])
@role_required(*PARTICIPANTS)
def new_request(ref):
    event = _event(ref)
    to = db_session.scalar(sa.select(Organization).where(Organization.ref == request.form.get("to_org", "")))
    if to is None:
        return _fail(Exception("请选择约见对象"), ref)
    try:
        services.request_meeting(current_user, event, to, message=(request.form.get("message") or "").strip() or None,
                                 city=_city())
    except services.EventError as e:
        return _fail(e, ref)
    flash(f"已向「{to.name}」发出约见申请。", "success")
    return redirect(url_for("events.detail", ref=ref))


@bp.route("/<ref>/requests/<int:req_id>/answer", methods=["POST"])
@role_required(*PARTICIPANTS)
def answer(ref, req_id):
    event = _event(ref)
    req = db_session.get(MeetingRequest, req_id)
    if req is None or req.event_id != event.id or current_user.org_id not in (req.from_org_id, req.to_org_id):
        abort(404)
    try:
        if request.form.get("decision") == "withdraw":
            services.withdraw_request(current_user, req)
        else:
            services.answer_request(current_user, req, accept=request.form.get("decision") == "accept")
    except services.EventError as e:
        return _fail(e, ref)
    return redirect(url_for("events.detail", ref=ref))


@bp.route("/<ref>/schedule", methods=["POST"])
@role_required(OrgKind.BUREAU)
def schedule(ref):
    event = _managed(ref)
    try:
        if request.form.get("clear"):
            services.clear_schedule(current_user, event)
            flash("已清空排期（锁定的洽谈一并清除）。", "success")
        else:
            tt = services.schedule_event(current_user, event, city=_city())
            flash(f"排期完成：约见 {tt.requested_total} 对，已安排 {tt.requested_scheduled} 对，"
                  f"共 {len(tt.meetings)} 场洽谈。", "success")
    except services.EventError as e:
        return _fail(e, ref)
    return redirect(url_for("events.agenda_view", ref=ref))


@bp.route("/<ref>/meetings/<int:meeting_id>/lock", methods=["POST"])
@role_required(OrgKind.BUREAU)
def lock(ref, meeting_id):
    event = _managed(ref)
    meeting = db_session.get(Meeting, meeting_id)
    if meeting is None or meeting.event_id != event.id:
        abort(404)
    try:
        services.set_locked(current_user, meeting, request.form.get("locked") == "1")
    except services.EventError as e:
        return _fail(e, ref)
    return redirect(url_for("events.agenda_view", ref=ref))


@bp.route("/<ref>/agenda")
@role_required(*ALL)
def agenda_view(ref):
    """The printable agenda: the bureau sees every table; a participant sees its own day."""
    event = _event(ref)
    manage = can_edit(current_user, event)
    org_ref = request.args.get("org")
    if manage and not org_ref:
        return render_template("events/agenda_tables.html", event=event, tables=agenda.table_agenda(event),
                               manage=True)
    if org_ref and manage:
        org = db_session.scalar(sa.select(Organization).where(Organization.ref == org_ref))
        if org is None or services.registration_of(event, org) is None:
            abort(404)
    else:
        org = current_user.org
        # Participants see the preliminary agenda once the bureau has scheduled, marked as such.
        if not event.meetings:
            flash("议程尚未排定。", "info")
            return redirect(url_for("events.detail", ref=ref))
    reg = services.registration_of(event, org)
    if reg is None:
        abort(404)
    return render_template("events/agenda.html", event=event, org=org, registration=reg,
                           rows=agenda.participant_agenda(event, org))


@bp.route("/<ref>/agenda.xlsx")
@role_required(OrgKind.BUREAU)
def agenda_xlsx(ref):
    event = _managed(ref)
    data = agenda.workbook(event)
    name = quote(f"{event.title}-议程.xlsx")
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename=agenda.xlsx; filename*=UTF-8''{name}"})


@bp.route("/<ref>/checkin", methods=["GET", "POST"])
@role_required(OrgKind.BUREAU)
def checkin(ref):
    event = _managed(ref)
    if request.method == "POST":
        org = db_session.scalar(sa.select(Organization).where(Organization.ref == request.form.get("org", "")))
        reg = services.registration_of(event, org) if org else None
        if reg is None:
            abort(404)
        try:
            services.check_in(current_user, reg, present=request.form.get("present") == "1")
        except services.EventError as e:
            flash(str(e), "danger")
        return redirect(url_for("events.checkin", ref=ref, q=request.args.get("q", "")) + f"#r-{org.ref}")
    q = (request.args.get("q") or "").strip()
    regs = [r for r in services.registrations(event, live_only=True) if not q or q in r.org.name]
    return render_template("events/checkin.html", event=event, registrations=regs, q=q)


@bp.route("/<ref>/meetings/<int:meeting_id>/outcome", methods=["GET", "POST"])
@role_required(OrgKind.BUREAU, *INSTITUTION_KINDS)
def outcome(ref, meeting_id):
    event = _event(ref)
    meeting = db_session.get(Meeting, meeting_id)
    if meeting is None or meeting.event_id != event.id or not can_view(current_user, meeting):
        abort(404)
    if not can_edit(current_user, meeting):
        abort(403)
    form = OutcomeForm(obj=None)
    form.set_offers(services.offers_for_meeting(meeting))
    if request.method == "GET" and meeting.offer is not None:
        form.offer_ref.data = meeting.offer.ref
    if request.method == "GET" and meeting.has_outcome:
        form.held.data = bool(meeting.is_held)
        form.intent_amount.data, form.signed_amount.data = meeting.intent_amount, meeting.signed_amount
        form.disbursed_amount.data, form.demand_ref.data = meeting.disbursed_amount, meeting.demand_ref
        form.note.data = meeting.outcome_note
    if form.validate_on_submit():
        try:
            services.record_outcome(current_user, meeting, held=form.held.data,
                                    intent_amount=form.intent_amount.data, signed_amount=form.signed_amount.data,
                                    disbursed_amount=form.disbursed_amount.data, demand_ref=form.demand_ref.data,
                                    note=form.note.data, offer_ref=form.offer_ref.data)
        except services.EventError as e:
            form.intent_amount.errors = [str(e)]
        else:
            flash("洽谈结果已登记。", "success")
            return redirect(url_for("events.detail", ref=ref))
    return render_template("events/outcome.html", event=event, meeting=meeting, form=form,
                           times=services.agenda_times(event))


@bp.route("/<ref>/report")
@role_required(OrgKind.BUREAU)
def report(ref):
    event = _managed(ref)
    return render_template("events/report.html", event=event, report=services.event_report(event))

