"""Credentials of the research-base programme's logins (baseline's zone contacts and trainees): an
initial secret sent again by SMS, which is also the reset of a forgotten password (routes only translate)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from enrollment.entrypoints.api.deps import ProgrammeAccountsDep
from jijiao_kit.auth import CurrentPrincipal

router = APIRouter(prefix="/v1", tags=["programme accounts"])
#: baseline's ids (hex)
IdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")]
RESPONSES: dict[int | str, dict[str, str]] = {
    404: {"description": "account_not_found: no such login in the caller's reach"},
    429: {"description": "rate_limited: at most 3 a hour per login; see Retry-After"},
}


@router.post(
    "/batches/{batch_id}/zones/{zone_id}/trainees/{trainee_id}/credentials",
    status_code=status.HTTP_202_ACCEPTED,
    responses=RESPONSES,
)
async def reissue_trainee_credentials(
    batch_id: IdPath,
    zone_id: IdPath,
    trainee_id: IdPath,
    principal: CurrentPrincipal,
    programme: ProgrammeAccountsDep,
) -> Response:
    """The centre or the zone's contact has a trainee's initial secret sent again by SMS (a new one:
    the earlier one, or the password the trainee set, stops working; the next sign-in must change it)."""
    await programme.reissue_trainee(principal, batch_id, zone_id, trainee_id)
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post("/zones/{zone_id}/credentials", status_code=status.HTTP_202_ACCEPTED, responses=RESPONSES)
async def reissue_zone_contact_credentials(
    zone_id: IdPath, principal: CurrentPrincipal, programme: ProgrammeAccountsDep
) -> Response:
    """The centre has a zone contact's initial secret sent again by SMS (a new one), while the
    contact has not set a password yet."""
    await programme.reissue_zone_contact(principal, zone_id)
    return Response(status_code=status.HTTP_202_ACCEPTED)
