"""Project pages: the enterprise's projects and progress; the bureau's ledger, follow-ups and Excel export."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from matchmaker.auth.sessions import fresh_login_required
from matchmaker.demands.subsidy import equipment_subsidy
from matchmaker.pagination import page_arg
from matchmaker.permissions import can_edit, get_visible_or_404, role_required
from matchmaker.projects import ledger, services
from matchmaker.projects.forms import FollowUpForm, MajorForm, ProgressForm, ProjectForm
from models import OrgKind, ProgressUpdate, Purpose, TechProject, db_session

bp = Blueprint("projects", __name__, url_prefix="/projects")


@bp.route("/")
@role_required(OrgKind.ENTERPRISE)
def mine():
    return render_template("projects/mine.html", projects=services.projects_of(current_user.org))


@bp.route("/new", methods=["GET", "POST"])
@role_required(OrgKind.ENTERPRISE)
def new():
    form = ProjectForm()
    if form.validate_on_submit():
        project = services.create_project(current_user, form.values())
        flash(f"已登记项目「{project.name}」。", "success")
        return redirect(url_for("projects.detail", ref=project.ref))
    return render_template("projects/form.html", form=form, project=None)


@bp.route("/<ref>/edit", methods=["GET", "POST"])
@role_required(OrgKind.ENTERPRISE)
def edit(ref):
    project = get_visible_or_404(TechProject, ref)
    if not can_edit(current_user, project):
        abort(404)
    form = ProjectForm(obj=project)
    if form.validate_on_submit():
        services.update_project(current_user, project, form.values())
        flash("项目已保存。", "success")
        return redirect(url_for("projects.detail", ref=project.ref))
    return render_template("projects/form.html", form=form, project=project)


@bp.route("/<ref>", methods=["GET", "POST"])
@login_required
def detail(ref):
    project = get_visible_or_404(TechProject, ref)
    form = ProgressForm()
    if request.method == "POST":
        if not can_edit(current_user, project):
            abort(403)
        if form.validate_on_submit():
            services.add_progress(current_user, project, percent=form.percent.data, done=form.done.data,
                                  problems=form.problems.data or None)
            flash("进度已填报。", "success")
            return redirect(url_for("projects.detail", ref=project.ref))
    policy = current_app.extensions["city"].policy
    return render_template(
        "projects/detail.html", project=project, form=form, follow_form=FollowUpForm(), major_form=MajorForm(),
        can_edit=can_edit(current_user, project), is_bureau=current_user.org.kind == OrgKind.BUREAU,
        subsidy=equipment_subsidy(project.equipment_investment, project.category, policy),
        financing=services.financing_by_project([project.id])[project.id],
    )


@bp.route("/<ref>/follow-up", methods=["POST"])
@role_required(OrgKind.BUREAU)
def follow_up(ref):
    project = get_visible_or_404(TechProject, ref)
    form = FollowUpForm()
    update = db_session.get(ProgressUpdate, int(form.update_id.data)) if (form.update_id.data or "").isdigit() else None
    if not form.validate_on_submit() or update is None or update.project_id != project.id:
        abort(400)
    try:
        services.follow_up(current_user, update, note=form.note.data, resolve=form.resolve.data)
        flash("问题已标记为解决。" if form.resolve.data else "跟踪情况已记录。", "success")
    except services.ProjectError as e:
        flash(str(e), "danger")
    return redirect(url_for("projects.detail", ref=project.ref) + f"#update-{update.id}")


@bp.route("/<ref>/major", methods=["POST"])
@role_required(OrgKind.BUREAU)
def major(ref):
    project = get_visible_or_404(TechProject, ref)
    form = MajorForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.set_major(current_user, project, form.is_major.data == "1")
        flash("已调整重大项目标记。", "success")
    except services.ProjectError as e:
        flash(str(e), "danger")
    return redirect(url_for("projects.detail", ref=project.ref))


@bp.route("/ledger")
@role_required(OrgKind.BUREAU)
def ledger_page():
    filters = services.LedgerFilters.from_args(request.args)
    page = page_arg()
    rows, total = services.ledger_page(current_user, filters, page)
    return render_template(
        "projects/ledger.html", rows=rows, total=total, page=page, per_page=30, filters=filters,
        financing=services.financing_by_project([p.id for p in rows]),
        progress_labels=services.PROGRESS_LABELS, categories=list(Purpose),
    )


@bp.route("/ledger.xlsx")
@role_required(OrgKind.BUREAU)
@fresh_login_required
def ledger_export():
    filters = services.LedgerFilters.from_args(request.args)
    data = ledger.workbook(current_user, filters)
    return send_file(data, as_attachment=True, download_name="技改项目台账.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
