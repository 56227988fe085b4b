"""ORM models: one file per aggregate, all on one metadata (``Base.metadata``).

Every tenant-scoped table carries ``district_code`` (GB/T 2260). Relationships are ``lazy="raise"``:
load what you need explicitly in the repository.
"""

from zhifa.models.base import Base
from zhifa.models.catalog import (
    BenchmarkVersion,
    CheckItem,
    CheckItemVersion,
    Checklist,
    ChecklistVersion,
    DiscretionPolicyVersion,
    LegalDocument,
    Power,
    PowerVersion,
    Provision,
    SubjectType,
)
from zhifa.models.catalog_stamp import CatalogStamp
from zhifa.models.complaints import (
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
    ComplaintExtension,
    ComplaintMedia,
    ComplaintSettings,
    SlaAlert,
    SlaProfile,
    WorkdayOverride,
)
from zhifa.models.dispatch import OfficerLive, PositionFix
from zhifa.models.documents import (
    Document,
    DocumentNumber,
    DocumentNumberSeries,
    DocumentSettings,
    DocumentSignature,
    NumberBlock,
)
from zhifa.models.inspections import (
    Blob,
    CaseLead,
    CheckIn,
    Evidence,
    Inspection,
    InspectionAmendment,
    InspectionAnswer,
    InspectionTask,
    SubmissionRecord,
)
from zhifa.models.integrations import Integration, OutboxMessage
from zhifa.models.ledger import (
    LedgerCheckpoint,
    LedgerCosignature,
    LedgerEvent,
    LedgerHead,
    LedgerNode,
)
from zhifa.models.org import Department, District, Grid, Officer, Unit
from zhifa.models.security import ApiToken, LoginAttempt, WebSession
from zhifa.models.subjects import Subject

__all__ = [
    "Complaint",
    "ComplaintCategory",
    "ComplaintEvent",
    "ComplaintExtension",
    "ComplaintMedia",
    "ComplaintSettings",
    "Integration",
    "OfficerLive",
    "OutboxMessage",
    "PositionFix",
    "SlaAlert",
    "SlaProfile",
    "WorkdayOverride",
    "Blob",
    "CaseLead",
    "CheckIn",
    "Document",
    "DocumentNumber",
    "DocumentNumberSeries",
    "DocumentSettings",
    "DocumentSignature",
    "Evidence",
    "Inspection",
    "InspectionAmendment",
    "InspectionAnswer",
    "InspectionTask",
    "NumberBlock",
    "Subject",
    "SubmissionRecord",
    "ApiToken",
    "Base",
    "BenchmarkVersion",
    "CatalogStamp",
    "CheckItem",
    "CheckItemVersion",
    "Checklist",
    "ChecklistVersion",
    "DiscretionPolicyVersion",
    "LegalDocument",
    "Power",
    "PowerVersion",
    "Provision",
    "SubjectType",
    "Department",
    "District",
    "Grid",
    "LedgerCheckpoint",
    "LedgerCosignature",
    "LedgerEvent",
    "LedgerHead",
    "LedgerNode",
    "LoginAttempt",
    "Officer",
    "Unit",
    "WebSession",
]
