"""On-site enforcement documents (执法文书): the numbering rule, gap-free numbers and number blocks,
composition of each document from the submitted inspection, A4 PDF rendering with embedded CJK
fonts, signatures, issue exactly once, and public verification by QR code.

Invariants (see each module): numbers are gap-free and never reused per district, type and year;
a document's PDF is rendered once, kept in the blob store and its SHA-256 recorded in the ledger
event ``document.issued``; the public ``/verify/{public_id}`` page proves that event against the
latest signed checkpoint and tells whether an uploaded file is byte-identical to the issued one.
"""
