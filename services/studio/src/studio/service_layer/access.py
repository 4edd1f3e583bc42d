"""Object-level access to studios, in one place.

Who is host, assistant, member or online student of a studio is the studio service's own data (the studio
document and the admitted applications), checked on every call against the caller's CE number in the
token. Admins see by scope: the city admin every studio, a district admin the studios of their district.
Anything out of scope is answered as not found, so no answer tells that it exists.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from jijiao_contracts.enums import Role
from jijiao_kit.auth import Principal
from studio.domain.problems import problem

Doc = dict[str, Any]


class Standing(StrEnum):
    HOST = "host"
    ASSISTANT = "assistant"
    MEMBER = "member"
    STUDENT = "student"
    ADMIN = "admin"
    NONE = "none"


def is_admin_of(principal: Principal, studio: Doc) -> bool:
    if principal.has_role(Role.CITY_ADMIN):
        return True
    return (
        principal.has_role(Role.DISTRICT_ADMIN)
        and bool(studio.get("district"))
        and (principal.district == studio.get("district"))
    )


def standing(principal: Principal, studio: Doc, membership: Doc | None) -> Standing:
    """The caller's standing in the studio; ``membership`` is the caller's admitted application there."""
    ce = principal.ce_number
    if ce and principal.has_role(Role.TEACHER):
        if studio.get("host_ce_number") == ce:
            return Standing.HOST
        if (
            membership is not None
            and membership.get("ce_number") == ce
            and membership.get("studio_id") == studio["_id"]
        ):
            if membership.get("role") == "student":
                return Standing.STUDENT
            return Standing.ASSISTANT if membership.get("assistant") else Standing.MEMBER
    if is_admin_of(principal, studio):
        return Standing.ADMIN
    return Standing.NONE


def not_found(studio_id: str) -> Exception:
    return problem("studio_not_found", f"Studio {studio_id} not found.")


def require_visible(
    principal: Principal, studio: Doc, membership: Doc | None, *, open_for_application: bool = False
) -> Standing:
    who = standing(principal, studio, membership)
    if who is Standing.NONE and not (open_for_application and principal.has_role(Role.TEACHER)):
        raise not_found(studio["_id"])
    return who


def require_host(principal: Principal, studio: Doc, membership: Doc | None) -> None:
    who = require_visible(principal, studio, membership)
    if who is not Standing.HOST:
        raise problem("not_host", f"Only the host of studio {studio['_id']} may do this.")


def require_reviewer(principal: Principal, studio: Doc, membership: Doc | None) -> Standing:
    """Host or assistant (assistants help review content and activities)."""
    who = require_visible(principal, studio, membership)
    if who not in (Standing.HOST, Standing.ASSISTANT):
        raise problem("not_host", f"Only the host or an assistant of studio {studio['_id']} may do this.")
    return who


def require_city_admin(principal: Principal) -> None:
    if not principal.has_role(Role.CITY_ADMIN):
        from jijiao_kit.errors import Forbidden

        raise Forbidden("Only the city admin may do this.", code="forbidden", title="无权进行此操作")


PARTICIPANTS_ONLINE = frozenset({Standing.HOST, Standing.ASSISTANT, Standing.MEMBER, Standing.STUDENT})
PARTICIPANTS_OFFLINE = frozenset({Standing.HOST, Standing.ASSISTANT, Standing.MEMBER})
