"""Moving stored personal identifiers to the current key (``salter rotate_pii_keys``).

Every model field that stores identifiers encrypted — :class:`~salter.core.pii.EncryptedTextField`
and :class:`~salter.core.pii.PersonalJSONField` — is found by type, so a new one is rotated
without being listed here. An encrypted field ``x`` with a sibling ``x_hash`` has its keyed
hash recomputed too. The stored values are read and written as raw column values, so a row is
rewritten only when something in it is not yet under the current key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import connection, models, transaction

from salter.core import pii


@dataclass
class Result:
    label: str
    total: int = 0
    stale: int = 0


def encrypted_fields() -> Iterator[tuple[type[models.Model], list[Any]]]:
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        fields = [
            f
            for f in model._meta.concrete_fields
            if isinstance(f, pii.EncryptedTextField | pii.PersonalJSONField)
        ]
        if fields:
            yield model, fields


def _raw_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _is_current(field: models.Field[Any, Any], raw: Any) -> bool:
    if raw is None or raw == "":
        return True
    if isinstance(field, pii.PersonalJSONField):
        return pii.tree_is_current(_raw_json(raw))
    return pii.key_of(raw) == pii.current().id


def _fresh(field: models.Field[Any, Any], raw: Any) -> Any:
    if isinstance(field, pii.PersonalJSONField):
        return json.dumps(pii.seal_tree(pii.open_tree(_raw_json(raw))), ensure_ascii=False)
    return pii.encrypt(pii.decrypt(raw))


def rotate_model(
    model: type[models.Model], fields: list[Any], *, batch: int, dry_run: bool
) -> Result:
    meta = model._meta
    result = Result(label=meta.label)
    names = {f.name for f in meta.concrete_fields}
    hashed: dict[str, str] = {
        f.name: str(meta.get_field(f"{f.name}_hash").column)  # type: ignore[union-attr]
        for f in fields
        if f"{f.name}_hash" in names
    }
    quote = connection.ops.quote_name
    pk_column = str(meta.pk.column)
    table = str(meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    cast = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    last: Any = None
    while True:
        where, params = ("", []) if last is None else (f" WHERE {quote(pk_column)} > %s", [last])
        with transaction.atomic(), connection.cursor() as cursor:
            select = (
                f"SELECT {quote(pk_column)}, {columns} FROM {quote(table)}{where} "  # noqa: S608 — names from the models
                f"ORDER BY {quote(pk_column)} LIMIT %s"
            )
            cursor.execute(select, [*params, batch])
            rows = cursor.fetchall()
            for pk, *raws in rows:
                result.total += 1
                stale = [(f, raw) for f, raw in zip(fields, raws, strict=True)]
                stale = [(f, raw) for f, raw in stale if not _is_current(f, raw)]
                if not stale:
                    continue
                result.stale += 1
                if dry_run:
                    continue
                sets: list[str] = []
                values: list[Any] = []
                for field, raw in stale:
                    json_field = isinstance(field, pii.PersonalJSONField)
                    sets.append(f"{quote(field.column)} = {cast if json_field else '%s'}")
                    values.append(_fresh(field, raw))
                    if field.name in hashed:
                        sets.append(f"{quote(hashed[field.name])} = %s")
                        values.append(pii.blind(pii.decrypt(raw)))
                update = (
                    f"UPDATE {quote(table)} SET {', '.join(sets)} WHERE {quote(pk_column)} = %s"  # noqa: S608, E501 — names from the models
                )
                cursor.execute(update, [*values, pk])
        if len(rows) < batch:
            return result
        last = rows[-1][0]


def rotate_all(*, batch: int = 500, dry_run: bool = False) -> list[Result]:
    return [
        rotate_model(model, fields, batch=batch, dry_run=dry_run)
        for model, fields in encrypted_fields()
    ]
