"""The ledger's public JSON API (``/api/v1/ledger``): checkpoints, entries, proofs, cosignatures.

Every route here is public on purpose (no permission dependency): a witness, a court or a citizen
must be able to check the log without an account, and nothing served is secret (entries hold
digests of secrets, never the secrets). The routes only read, except ``POST cosignatures``, which
keeps a witness's cosignature only if it verifies against a configured witness key.

Invariants: a bad parameter is a 404 (no such entry, checkpoint or tree size yet) or a 422 (the
numbers contradict each other), never a 500. Entries beyond the latest checkpoint are served
(they are committed); proofs may use any tree size up to the log's current size.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, PlainTextResponse, Response

from zhifa.errors import Conflict, InvalidInput, NotFound
from zhifa.ledger import checkpoints, note, store
from zhifa.ledger.schemas import (
    CheckpointRead,
    ConsistencyProofRead,
    CosignatureIn,
    CosignatureRead,
    EntryRead,
    InclusionProofRead,
    b64,
)
from zhifa.models.ledger import LedgerCheckpoint
from zhifa.org.auth import DbSession

router = APIRouter(prefix="/api/v1/ledger", tags=["ledger"])

TEXT = "text/plain; charset=utf-8"
Format = Annotated[Literal["text", "json"], Query(description="text: the signed note; json")]
NOTE_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {TEXT: {}, "application/json": {"schema": CheckpointRead.model_json_schema()}}}
}


def checkpoint_read(session: Session, row: LedgerCheckpoint) -> CheckpointRead:
    """The checkpoint's fields, taken from its signed body, with the witnesses' cosignatures."""
    body, _ = note.parse_note(row.note)
    parsed = note.Checkpoint.parse_body(body)
    cosigned = [
        CosignatureRead(witness=c.witness, timestamp=c.timestamp, line=c.line)
        for c in checkpoints.cosignatures(session, row.size)
    ]
    return CheckpointRead(
        origin=parsed.origin,
        size=parsed.size,
        root=b64(parsed.root),
        note=checkpoints.published_note(session, row),
        cosignatures=cosigned,
    )


def _note_response(session: Session, row: LedgerCheckpoint, fmt: str) -> Response:
    if fmt == "json":
        return JSONResponse(checkpoint_read(session, row).model_dump())
    return PlainTextResponse(checkpoints.published_note(session, row), media_type=TEXT)


@router.get("/checkpoint", response_class=PlainTextResponse, responses=NOTE_RESPONSES)
def get_checkpoint(session: DbSession, format: Format = "text") -> Response:
    """The latest signed checkpoint with the witnesses' cosignature lines (C2SP signed note)."""
    row = checkpoints.latest(session)
    if row is None:
        raise NotFound("No checkpoint has been signed yet.")
    return _note_response(session, row, format)


@router.get("/checkpoints/{size}", response_class=PlainTextResponse, responses=NOTE_RESPONSES)
def get_checkpoint_at(
    session: DbSession, size: Annotated[int, Path(ge=1)], format: Format = "text"
) -> Response:
    """The signed checkpoint of an earlier size, with its cosignatures."""
    row = checkpoints.at_size(session, size)
    if row is None:
        raise NotFound("There is no checkpoint of size {size}.", size=size)
    return _note_response(session, row, format)


@router.get("/entries/{index}", response_model=EntryRead)
def get_entry(session: DbSession, index: Annotated[int, Path(ge=0)]) -> EntryRead:
    """One entry: its exact bytes, leaf hash, the subject's previous hash and the decoded body."""
    row = store.entry(session, index)
    if row is None:
        raise NotFound("The log has no entry {index}.", index=index)
    body = bytes(row.body)
    return EntryRead(
        index=row.seq,
        body=b64(body),
        leaf_hash=b64(bytes(row.leaf_hash)),
        prev_hash=b64(bytes(row.prev_hash)) if row.prev_hash is not None else None,
        envelope=json.loads(body),
    )


def _check_tree_size(session: Session, tree_size: int) -> None:
    current = store.size(session)
    if tree_size > current:
        raise NotFound(
            "The log has {current} entries; there is no tree of size {tree_size} yet.",
            current=current,
            tree_size=tree_size,
        )


@router.get("/proof/inclusion", response_model=InclusionProofRead)
def get_inclusion_proof(
    session: DbSession,
    index: Annotated[int, Query(ge=0)],
    tree_size: Annotated[int, Query(ge=1)],
) -> InclusionProofRead:
    """The RFC 9162 inclusion proof of entry ``index`` in the tree of ``tree_size`` entries."""
    if index >= tree_size:
        raise InvalidInput(
            "Entry {index} is not in a tree of {tree_size} entries.",
            index=index,
            tree_size=tree_size,
        )
    _check_tree_size(session, tree_size)
    return InclusionProofRead(
        index=index,
        tree_size=tree_size,
        leaf_hash=b64(store.read_node(session, 0, index)),
        root=b64(store.root(session, tree_size)),
        proof=[b64(h) for h in store.inclusion_proof(session, index, tree_size)],
    )


@router.get("/proof/consistency", response_model=ConsistencyProofRead)
def get_consistency_proof(
    session: DbSession,
    first: Annotated[int, Query(ge=1)],
    second: Annotated[int, Query(ge=1)],
) -> ConsistencyProofRead:
    """The RFC 9162 proof that the tree of ``second`` entries extends the one of ``first``."""
    if first > second:
        raise InvalidInput(
            "The first size ({first}) is larger than the second ({second}).",
            first=first,
            second=second,
        )
    _check_tree_size(session, second)
    proof = store.consistency_proof(session, first, second)
    return ConsistencyProofRead(first=first, second=second, proof=[b64(h) for h in proof])


@router.get("/verifier-key", response_class=PlainTextResponse)
def get_verifier_key(request: Request) -> PlainTextResponse:
    """The log's verifier key (C2SP note format), which checks every checkpoint's signature."""
    keys = checkpoints.load_keys(request.app.state.settings)
    if keys is None:
        raise NotFound("The log has no signing key yet: run `zhifa ledger keygen`.")
    return PlainTextResponse(keys.verifier_key, media_type=TEXT)


@router.post("/cosignatures", response_model=CosignatureRead, status_code=201)
def add_cosignature(request: Request, session: DbSession, body: CosignatureIn) -> CosignatureRead:
    """A witness hands back its cosignature of one of our checkpoints (tlog-cosignature/v1)."""
    settings = request.app.state.settings
    try:
        row = checkpoints.add_cosignature(session, settings, size=body.size, line=body.line)
    except IntegrityError:
        # Another request kept the same witness's cosignature between our check and our insert.
        session.rollback()
        raise Conflict("This witness has already cosigned size {size}.", size=body.size) from None
    return CosignatureRead(witness=row.witness, timestamp=row.timestamp, line=row.line)
