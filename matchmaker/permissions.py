"""Who may see and change what: a role decorator for views and object-level policies.

Views call `role_required(...)` for whole pages and `get_visible_or_404` / `can_edit` for
objects. An object outside the user's scope answers 404 (its existence is not disclosed); a page
of the wrong role answers 403.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

import sqlalchemy as sa
from flask import abort, flash, redirect, url_for
from flask_login import current_user

from models import Organization, OrgKind, User, db_session


@dataclass(frozen=True)
class OrgActor:
    """An organisation acting without a human author (an API token, a command for an institution).

    It passes for a member of the org in the policies and the reveal rule; `id` is None, so rows it
    creates have no human author and audit entries carry the org.
    """

    org: Organization
    id: None = None
    role: str = "member"
    is_authenticated: bool = True
    is_anonymous: bool = False
    is_active: bool = True
    is_admin: bool = False

    @property
    def org_id(self) -> int:
        return self.org.id

    @property
    def kind(self):
        return self.org.kind


_view_policies: dict[type, Callable] = {}
_edit_policies: dict[type, Callable] = {}


def policy(model: type, *, view: Callable, edit: Callable) -> None:
    """Register who may view and who may edit objects of `model` (each domain registers its own)."""
    _view_policies[model] = view
    _edit_policies[model] = edit


def can_view(user, obj) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(_view_policies[type(obj)](user, obj))


def can_edit(user, obj) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(_edit_policies[type(obj)](user, obj))


def role_required(*kinds: OrgKind, admin: bool = False, approved: bool = True):
    """Restrict a view to users of organisations of `kinds` (403 otherwise).

    `approved`: the organisation must have passed review; a pending applicant is sent home,
    where it sees its review state. `admin`: only the organisation's administrators.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager_unauthorized()
            if kinds and current_user.org.kind not in kinds:
                abort(403)
            if admin and not current_user.is_admin:
                abort(403)
            if approved and not current_user.org.is_approved:
                flash("您的机构尚未通过审核，暂不能使用此功能。", "warning")
                return redirect(url_for("home.index"))
            return view(*args, **kwargs)

        return wrapped

    return decorator


def login_manager_unauthorized():
    from matchmaker.extensions import login_manager

    return login_manager.unauthorized()


def bureau_covers(user, district: str | None) -> bool:
    """A bureau user covers the whole city (no district) or exactly one district."""
    org = user.org
    if org.kind != OrgKind.BUREAU or not org.is_approved:
        return False
    return org.district is None or org.district == district


def in_bureau_district(q, user):
    """Narrow a query joined to the enterprise's Organization to what this bureau user covers."""
    return q if user.org.district is None else q.where(Organization.district == user.org.district)


def get_visible_or_404(model: type, ref: str, user=None):
    """Load `model` by its external ref; 404 when absent or outside the user's scope."""
    obj = db_session.scalar(sa.select(model).where(model.ref == ref))
    if obj is None or not can_view(user or current_user, obj):
        abort(404)
    return obj


# --- organisations and users -------------------------------------------------------------


def _org_view(user, org: Organization) -> bool:
    if user.org_id == org.id:
        return True
    if user.org.kind == OrgKind.BUREAU:
        # A district bureau reviews the enterprises of its district; institutions and bureaus
        # are the city's business, but every bureau may see approved institutions.
        if org.kind == OrgKind.ENTERPRISE:
            return bureau_covers(user, org.district)
        return user.org.is_city_bureau or org.is_approved
    # Institutions and enterprises see approved institutions (the product supermarket).
    return org.is_institution and org.is_approved


def _org_edit(user, org: Organization) -> bool:
    if user.org_id == org.id:
        return user.is_admin
    if user.org.kind != OrgKind.BUREAU:
        return False
    if org.kind == OrgKind.ENTERPRISE:
        return bureau_covers(user, org.district)
    return user.org.is_city_bureau


def _user_view(user, other: User) -> bool:
    return other.org_id == user.org_id or _org_edit(user, other.org)


def _user_edit(user, other: User) -> bool:
    return (other.org_id == user.org_id and user.is_admin) or (
        user.org.is_city_bureau and user.org.is_approved
    )


policy(Organization, view=_org_view, edit=_org_edit)
policy(User, view=_user_view, edit=_user_edit)
