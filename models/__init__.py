"""SQLAlchemy models of the platform: one module per domain, the session lives in `models.db`."""
from models.api_tokens import ApiToken, IdempotencyKey
from models.attachments import ATTACHMENT_KIND_LABELS, KINDS_BY_OWNER, Attachment, AttachmentKind, AttachmentOwner
from models.audit import AuditEntry, AuditLogIsAppendOnly, record
from models.codes import Collateral, DemandStatus, FinancingType, OrgKind, OrgStatus, Purpose, Size, UserRole, label
from models.console import ConsoleSummary
from models.db import Base, db_session, get_engine, init_engine
from models.demands import Demand, DemandDisclosure, DemandHistory, DemandIntendedBank, PushBatch, PushBatchItem
from models.events import (
    EVENT_TRANSITIONS,
    Event,
    EventKind,
    EventRegistration,
    EventStatus,
    Meeting,
    MeetingRequest,
    RegistrationStatus,
    RequestStatus,
)
from models.jobs import JobRun, MailStatus, OutgoingMail, RunStatus
from models.notices import Notice, NoticeAttachment, NoticeKind
from models.notifications import Notification, SavedSearch
from models.offers import ACTIVE_STATUSES, Deal, Disbursement, Offer, OfferOrigin, OfferStatus
from models.organizations import Organization, User, uscc_check_char, valid_uscc
from models.products import Product, ProductKind, ProductStatus
from models.projects import ProblemFollowUp, ProgressUpdate, TechProject
from models.search_outbox import OutboxOp, SearchOutbox, enqueue
from models.webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint

__all__ = [
    "Base", "db_session", "init_engine", "get_engine",
    "OrgKind", "OrgStatus", "Size", "UserRole", "label",
    "Organization", "User", "valid_uscc", "uscc_check_char",
    "AuditEntry", "record", "ApiToken", "IdempotencyKey", "WebhookEndpoint", "WebhookDelivery", "DeliveryStatus",
    "Purpose", "FinancingType", "Collateral", "DemandStatus",
    "TechProject", "ProgressUpdate", "ProblemFollowUp",
    "Demand", "DemandHistory", "DemandDisclosure", "DemandIntendedBank", "PushBatch", "PushBatchItem",
    "Event", "EventKind", "EventStatus", "EVENT_TRANSITIONS", "EventRegistration", "RegistrationStatus",
    "MeetingRequest", "RequestStatus", "Meeting",
    "Product", "ProductKind", "ProductStatus", "Notification", "SavedSearch",
    "SearchOutbox", "OutboxOp", "enqueue",
    "Offer", "OfferOrigin", "OfferStatus", "ACTIVE_STATUSES", "Deal", "Disbursement",
    "Notice", "NoticeAttachment", "NoticeKind",
    "Attachment", "AttachmentKind", "AttachmentOwner", "ATTACHMENT_KIND_LABELS", "KINDS_BY_OWNER", "AuditLogIsAppendOnly",
    "JobRun", "RunStatus", "OutgoingMail", "MailStatus",
    "ConsoleSummary",
]
