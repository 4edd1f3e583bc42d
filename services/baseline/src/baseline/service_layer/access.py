"""Object-level access of baseline, in one place.

- The centre (课程教材中心实验区管理办公室, role ``base_admin``) sees and runs everything.
- A zone contact (``zone_contact``) sees only their zone: the token's ``scopes.zone_id``.
- A trainee (``trainee``) sees only themself and their batch: ``scopes.trainee_id``/``batch_id``/``zone_id``.

Objects out of the caller's scope are reported as not found (404), never as forbidden, so an answer
never tells whether another zone's object exists."""

from __future__ import annotations

from dataclasses import dataclass

from jijiao_contracts.enums import Role
from jijiao_kit.auth import Principal
from jijiao_kit.errors import AppError, Forbidden


def is_centre(principal: Principal) -> bool:
    return principal.has_role(Role.BASE_ADMIN)


def require_centre(principal: Principal) -> None:
    if not is_centre(principal):
        raise Forbidden("Only the centre runs this.", code="centre_only", title="仅限中心管理员操作")


def zone_of(principal: Principal) -> str | None:
    """The zone a zone contact or a trainee belongs to (None for others)."""
    if principal.has_role(Role.ZONE_CONTACT, Role.TRAINEE):
        zone = principal.scopes.get("zone_id")
        return str(zone) if zone else None
    return None


def can_see_zone(principal: Principal, zone_id: str) -> bool:
    """The centre, or the zone's own contact (a trainee reads their zone's name through their batch)."""
    return is_centre(principal) or (principal.has_role(Role.ZONE_CONTACT) and zone_of(principal) == zone_id)


def require_zone(principal: Principal, zone_id: str, missing: AppError) -> None:
    if not can_see_zone(principal, zone_id):
        raise missing


def acting_zone(principal: Principal) -> str:
    """The zone a zone contact acts for (demands, personnel)."""
    zone = zone_of(principal) if principal.has_role(Role.ZONE_CONTACT) else None
    if not zone:
        raise Forbidden("Only a zone contact does this.", code="zone_contact_only", title="仅限实验区联系人操作")
    return zone


@dataclass(frozen=True)
class TraineeRef:
    trainee_id: str
    batch_id: str
    zone_id: str


def acting_trainee(principal: Principal) -> TraineeRef:
    scopes = principal.scopes
    if not principal.has_role(Role.TRAINEE) or not all(scopes.get(k) for k in ("trainee_id", "batch_id", "zone_id")):
        raise Forbidden("Only a trainee does this.", code="trainee_only", title="仅限研修人员操作")
    return TraineeRef(str(scopes["trainee_id"]), str(scopes["batch_id"]), str(scopes["zone_id"]))


def can_see_trainee(principal: Principal, *, trainee_id: str, zone_id: str) -> bool:
    if is_centre(principal):
        return True
    if principal.has_role(Role.ZONE_CONTACT) and zone_of(principal) == zone_id:
        return True
    return principal.has_role(Role.TRAINEE) and principal.scopes.get("trainee_id") == trainee_id


def can_see_batch(principal: Principal, *, batch_id: str) -> bool:
    """The centre and zone contacts see every batch (the published schedule: dates, base, stage, zones
    left; a zone contact only their own allocation in it); a trainee only theirs."""
    if is_centre(principal) or principal.has_role(Role.ZONE_CONTACT):
        return True
    return principal.has_role(Role.TRAINEE) and principal.scopes.get("batch_id") == batch_id
