"""SQLAlchemy models of the platform: one module per domain, the session lives in `models.db`."""
from models.audit import AuditEntry, record
from models.codes import OrgKind, OrgStatus, Size, UserRole, label
from models.db import Base, db_session, get_engine, init_engine
from models.organizations import Organization, User, uscc_check_char, valid_uscc
from models.search_outbox import OutboxOp, SearchOutbox, enqueue

__all__ = [
    "Base", "db_session", "init_engine", "get_engine",
    "OrgKind", "OrgStatus", "Size", "UserRole", "label",
    "Organization", "User", "valid_uscc", "uscc_check_char",
    "AuditEntry", "record",
    "SearchOutbox", "OutboxOp", "enqueue",
]
