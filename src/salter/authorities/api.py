from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from salter.authorities import queries
from salter.authorities.models import Authority

router = Router(tags=["authorities"])


class UnitOut(Schema):
    code: str
    name: str
    name_en: str


class AuthorityOut(Schema):
    code: str
    name: str
    name_en: str
    kind: str
    parent: str | None


class AuthorityDetailOut(AuthorityOut):
    units: list[UnitOut]


def _out(authority: Authority) -> dict[str, object]:
    return {
        "code": authority.code,
        "name": authority.name,
        "name_en": authority.name_en,
        "kind": authority.kind,
        "parent": authority.parent.code if authority.parent else None,
    }


@router.get("", response=list[AuthorityOut], auth=None, summary="List authorities (public)")
def list_authorities(request: HttpRequest) -> list[dict[str, object]]:
    return [_out(a) for a in queries.active_authorities().select_related("parent")]


@router.get(
    "/{code}", response=AuthorityDetailOut, auth=None, summary="One authority with its units"
)
def get_authority(request: HttpRequest, code: str) -> dict[str, object]:
    authority = get_object_or_404(queries.active_authorities().select_related("parent"), code=code)
    units = [{"code": u.code, "name": u.name, "name_en": u.name_en} for u in authority.units.all()]
    return {**_out(authority), "units": units}
