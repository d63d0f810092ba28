"""No value of a parameter gets a server error: every route of the route table, walked with
hostile values for each parameter it takes, answers below 500.

Who walks: a citizen with a level-2 session (the routes outside ``/official/``), an official
who holds every role with a level-2 session, and the same official with an API token (the
API). What each route takes:

* its path arguments, from the route itself: each one in turn gets a huge number, 0, -1 and a
  word, the others a real object of the scenario;
* for the API, the query and path parameters and the top-level fields of a JSON body that the
  OpenAPI document describes (``salter.core.api.api``, built live so a new parameter counts
  at once);
* for a page, the names its view reads, found in the view's source (and in the same module's
  functions and classes it calls): ``request.GET.get("x")``, ``request.POST["x"]`` and the
  calls of :mod:`salter.core.params` (``params.optional_id(request.GET, "x")``).

Each parameter gets every value of :data:`HOSTILE` in turn, by GET when the view reads it from
the query string and by POST when from a form. A failure names the walker, the route, the
parameter and the value. ``docs/testing.md`` says more.
"""

from __future__ import annotations

import ast
import copy
import inspect
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import Resolver404, resolve

from salter.cases.tests.conftest import NEWBORN_FORM
from salter.catalog.models import ServiceVersion
from salter.core import params
from salter.core.api import api
from salter.core.context import Actor
from salter.documents.models import Document
from salter.exchange.models import EvidenceRequest
from salter.exchange.tests.tracker_helpers import World, token, world
from salter.identity import loa
from salter.identity import services as identity
from salter.identity.models import ApiToken, Role, User
from salter.registers import sealing
from salter.registers import services as registers
from salter.registers.api import api as registers_api
from salter.registers.catalogue import QUERIES
from tests.test_personal_data_routes import _filed, _letter, _order
from tests.test_route_authentication import ROUTES

pytestmark = pytest.mark.django_db

# label → value. "%00" is the NUL character (what ?x=%00 decodes to).
HOSTILE: dict[str, str] = {
    "huge": "99999999999999999999",
    "-1": "-1",
    "0": "0",
    "abc": "abc",
    "empty": "",
    "%00": "\x00",
    "2026-13-45": "2026-13-45",
    "1e309": "1e309",
    "NaN": "NaN",
    "sql": "' OR 1=1--",
    "5000 chars": "x" * 5000,
}
HOSTILE_PATH: dict[str, str] = {"huge": "99999999999999999999", "0": "0", "-1": "-1", "abc": "abc"}
HUGE = 99999999999999999999
JSON = "application/json"
PARENT_JMBG = str(NEWBORN_FORM["parent_jmbg"])

# Routes a walker leaves to a client of its own: they end the session it walks with.
ENDS_THE_SESSION = {"identity:logout"}
ARG = re.compile(r"<(?:(\w+):)?(\w+)>")


# --- what a page's view reads -------------------------------------------------------------------

PARSERS = {name for name in params.__all__ if name[0].islower()}


@dataclass
class Reads:
    """The names a view reads from the query string (``get``) and from a form (``post``)."""

    get: set[str] = field(default_factory=set)
    post: set[str] = field(default_factory=set)

    def add(self, source: str, names: set[str]) -> None:
        (self.get if source == "GET" else self.post).update(names)


@cache
def _module_tree(module: ModuleType) -> tuple[ast.Module, dict[str, ast.AST], dict[str, set[str]]]:
    """The module's syntax tree, its top-level functions and classes by name, and its
    top-level tuples of strings (the FIELDS a form reads in a loop)."""
    tree = ast.parse(inspect.getsource(module))
    definitions: dict[str, ast.AST] = {}
    constants: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            definitions[node.name] = node
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple | ast.List):
            strings = {
                e.value
                for e in node.value.elts
                if isinstance(e, ast.Constant) and isinstance(e.value, str)
            }
            for target in node.targets:
                if isinstance(target, ast.Name) and strings:
                    constants[target.id] = strings
    return tree, definitions, constants


def _source_of(node: ast.AST) -> str | None:
    """``GET`` or ``POST`` when ``node`` is ``<anything>.GET`` / ``.POST``."""
    if isinstance(node, ast.Attribute) and node.attr in {"GET", "POST"}:
        return node.attr
    return None


def _names(node: ast.AST, loops: dict[str, set[str]]) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.Name):
        return loops.get(node.id, set())
    return set()


def _scan(node: ast.AST, module: ModuleType, reads: Reads, seen: set[str]) -> None:
    _tree, definitions, constants = _module_tree(module)
    loops: dict[str, set[str]] = {}  # a loop variable over a module's tuple of names
    for sub in ast.walk(node):
        if isinstance(sub, ast.comprehension | ast.For) and isinstance(sub.iter, ast.Name):
            if isinstance(sub.target, ast.Name) and sub.iter.id in constants:
                loops[sub.target.id] = constants[sub.iter.id]
    for sub in ast.walk(node):
        if isinstance(sub, ast.Subscript) and (source := _source_of(sub.value)):
            reads.add(source, _names(sub.slice, loops))
        if not isinstance(sub, ast.Call):
            continue
        func = sub.func
        # request.GET.get("x"), request.POST.get("x", "")
        if isinstance(func, ast.Attribute) and func.attr == "get" and sub.args:
            if source := _source_of(func.value):
                reads.add(source, _names(sub.args[0], loops))
        # params.optional_id(request.GET, "x"), cursor(request.GET, "before", …)
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if called in PARSERS and len(sub.args) >= 2 and (source := _source_of(sub.args[0])):
            reads.add(source, _names(sub.args[1], loops))
        # a function or class of the same module that the view calls: what it reads counts
        if called in definitions and called not in seen:
            seen.add(called)
            _scan(definitions[called], module, reads, seen)


@cache
def view_reads(view: Callable[..., Any]) -> Reads:
    """What a page's view reads; nothing for a view outside Šalter."""
    reads = Reads()
    target = getattr(view, "view_class", None) or inspect.unwrap(view)
    module = inspect.getmodule(target)
    if module is None or not module.__name__.startswith("salter."):
        return reads
    _tree, definitions, _constants = _module_tree(module)
    node = definitions.get(getattr(target, "__name__", ""))
    if node is not None:
        _scan(node, module, reads, {node.name} if hasattr(node, "name") else set())
    return reads


# --- what an API operation takes ----------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    method: str
    query: tuple[str, ...]  # query parameters
    body: tuple[tuple[str, bool], ...]  # top-level fields of the JSON body, and if integer
    form: bool  # the body is multipart/form-data
    register_query: str = ""  # a register's query: its code (x-query) …
    inputs: tuple[str, ...] = ()  # … and its inputs (x-inputs), inside the envelope's "input"


def _operations(schema: dict[str, Any]) -> dict[str, list[Operation]]:
    """OpenAPI path → its operations."""
    components = schema.get("components", {}).get("schemas", {})

    def resolved(found: dict[str, Any]) -> dict[str, Any]:
        ref = found.get("$ref", "")
        return components.get(ref.rsplit("/", 1)[-1], {}) if ref else found

    table: dict[str, list[Operation]] = {}
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            query = tuple(p["name"] for p in operation.get("parameters", []) if p["in"] == "query")
            content: dict[str, Any] = operation.get("requestBody", {}).get("content", {})
            media: dict[str, Any] = next(iter(content.values()), {})
            body_schema: dict[str, Any] = media.get("schema", {})
            properties = resolved(body_schema).get("properties", {})
            body = tuple(
                (name, "integer" in json.dumps(resolved(prop))) for name, prop in properties.items()
            )
            form = "multipart/form-data" in content
            inputs = tuple(f["name"] for f in operation.get("x-inputs", []))
            found = Operation(method, query, body, form, operation.get("x-query", ""), inputs)
            table.setdefault(path, []).append(found)
    return table


@cache
def api_operations() -> dict[str, list[Operation]]:
    return {
        **_operations(api.get_openapi_schema()),
        **_operations(registers_api.get_openapi_schema()),
    }


def openapi_path(route: str) -> str:
    """``/api/v1/cases/<case_id>`` → ``/api/v1/cases/{case_id}``."""
    return ARG.sub(lambda m: "{" + m.group(2) + "}", route)


# --- the scenario and the walkers ---------------------------------------------------------------


@dataclass
class Walker:
    label: str
    make: Callable[[], Client]  # the walker's client; a fresh one for ENDS_THE_SESSION
    pages: str  # which pages it walks: "" none, "/" all, "citizen" those outside /official/
    api: bool  # the platform's API
    registers: dict[str, str] = field(default_factory=dict)  # headers for /registers/
    failures: list[str] = field(default_factory=list)
    requests: int = 0
    walked: set[str] = field(default_factory=set)  # the API's paths walked

    def __post_init__(self) -> None:
        self.client = self.make()

    def send(self, method: str, url: str, name: str, param: str, label: str, **kw: Any) -> int:
        client = self.make() if name in ENDS_THE_SESSION else self.client
        if name.startswith("registers:"):
            kw["headers"] = self.registers
        response = getattr(client, method)(url, **kw)
        self.requests += 1
        if response.status_code >= 500:
            self.failures.append(
                f"{self.label}: {name} {method.upper()} {url[:120]} "
                f"[{param} = {label}] → {response.status_code}"
            )
        return int(response.status_code)

    def walks(self, name: str, route: str) -> bool:
        if route.startswith("/static/"):
            return False
        if name.startswith("registers:"):
            return bool(self.registers)
        if name.startswith("api:"):
            return self.api
        return self.pages == "/" or (self.pages == "citizen" and not route.startswith("/official/"))


def _client(headers: dict[str, str] | None = None) -> Client:
    """A client that answers a view's exception as the server does: with a 500."""
    return Client(
        raise_request_exception=False, headers={"accept-language": "en", **(headers or {})}
    )


def _session(user: User) -> Client:
    """``user``'s browser after a second factor (level of assurance 2)."""
    client = _client()
    client.force_login(user)
    session = client.session
    session[loa.SESSION_KEY] = loa.TWO_FACTOR
    session.save()
    return client


def _chief(w: World) -> User:
    """The clerk of the scenario, given every role in the unit and the platform's admin."""
    system = Actor.system("command")
    for role in Role.values:
        identity.add_official(
            system,
            email=w.clerk.email,
            full_name=w.clerk.full_name,
            unit=w.unit,
            role=role,
            password=None,
        )
    User.objects.filter(pk=w.clerk.pk).update(is_platform_admin=True)
    return User.objects.get(pk=w.clerk.pk)


def _arguments(w: World, chief: User) -> dict[str, str]:
    """A real object for each path argument the routes name (a missing one reads "1")."""
    document = _filed(w)
    letter = _letter(w, files=True)
    order = _order(w)
    version = ServiceVersion.objects.select_related("service").get(pk=w.case.service_version_id)
    evidence = EvidenceRequest.objects.filter(case=w.case).first()
    found = {
        "case_id": w.case.pk,
        "document_id": document.pk,
        "message_id": letter.pk,
        "order_id": order.pk,
        "service_id": version.service_id,
        "number": version.number,
        "evidence_id": evidence.pk if evidence else 1,
        "token_id": ApiToken.objects.filter(user=chief).values_list("pk", flat=True).first() or 1,
        "authority": w.authority.code,
        "code": version.service.code,
        "transition_id": "start_review",
        "seq": 1,
        "fmt": "pdf",
    }
    assert Document.objects.filter(pk=document.pk).exists()
    return {name: str(value) for name, value in found.items()}


def _concrete(route: str, arguments: dict[str, str], hostile: tuple[str, str] | None = None) -> str:
    def one(m: re.Match[str]) -> str:
        if hostile is not None and m.group(2) == hostile[0]:
            return hostile[1]
        return arguments.get(m.group(2), "1" if m.group(1) in {"id", "int"} else "sample")

    return ARG.sub(one, route.lstrip("^").rstrip("$").replace("\\Z", ""))


def _bodies(w: World, arguments: dict[str, str]) -> dict[str, dict[str, Any]]:
    """A body each API operation takes as valid: the walk changes one field of it at a time,
    so that a hostile value gets as far as the handler."""
    return {
        "post /api/v1/cases": {
            "service": f"{w.authority.code}/{arguments['code']}",
            "data": NEWBORN_FORM,
            "idempotency_key": "hostile-walker-1",
        },
        "post /api/v1/mailbox/messages": {
            "authority": w.authority.code,
            "subject": "Допуна захтева",
            "body": "Шаљем допуну.",
        },
        "post /api/v1/mailbox/consents": {"authority": w.authority.code},
        "post /api/v1/mailbox/deliveries/{delivery_id}/refuse": {"reason": "Није за мене."},
    }


def _envelope(operation: Operation, authority: str) -> dict[str, Any]:
    """A request a register answers (docs/exchange.md), but for the value walked."""
    return {
        "request_id": str(uuid.uuid4()),
        "query": operation.register_query,
        "input": dict.fromkeys(operation.inputs, PARENT_JMBG),
        "client": {"authority": authority, "system": "hostile walker"},
        "official": {"id": 1, "name": "Драган Референтовић"},
        "case": None,
        "purpose": "провера",
        "legal_basis": "ЗУП, члан 103",
        "sent_at": "2026-03-31T10:00:00+02:00",
    }


def _with(base: dict[str, Any], field_name: str, value: Any) -> dict[str, Any]:
    body = copy.deepcopy(base)
    if field_name.startswith("input."):
        body["input"][field_name.removeprefix("input.")] = value
    else:
        body[field_name] = value
    return body


def _walk_api(
    walker: Walker, name: str, route: str, arguments: dict[str, str], bodies: dict[str, Any]
) -> None:
    path = openapi_path(route)
    if path in walker.walked:  # two names of one path (GET and POST /mailbox/consents)
        return
    walker.walked.add(path)
    for operation in api_operations().get(path, []):
        method = operation.method
        base: dict[str, Any] = bodies.get(f"{method} {path}", {})
        if operation.register_query:
            base = _envelope(operation, bodies["authority"])
        least: dict[str, Any] = {}  # the body sent with a hostile path or query
        if operation.form:
            least = {"data": base}
        elif operation.body:
            least = {"data": json.dumps(base), "content_type": "application/json"}
        for arg in {m.group(2) for m in ARG.finditer(route)}:
            for label, value in HOSTILE_PATH.items():
                url = _concrete(route, arguments, (arg, value))
                walker.send(method, url, name, arg, label, **least)
        url = _concrete(route, arguments)
        for param in operation.query:
            for label, value in HOSTILE.items():
                query = f"{url}?{urlencode({param: value})}"
                walker.send(method, query, name, f"?{param}", label, **least)
        fields = [*operation.body, *((f"input.{n}", False) for n in operation.inputs)]
        for prop, integer in fields:
            values: dict[str, Any] = dict(HOSTILE)
            if integer:
                values.update({"huge (a number)": HUGE, "-1 (a number)": -1, "0 (a number)": 0})
            for label, value in values.items():
                body = _with(base, prop, value)
                if operation.form:
                    walker.send(method, url, name, prop, label, data=body)
                else:
                    data = json.dumps(body)
                    walker.send(method, url, name, prop, label, data=data, content_type=JSON)


def _walk_page(walker: Walker, name: str, route: str, arguments: dict[str, str]) -> None:
    url = _concrete(route, arguments)
    try:
        match = resolve(url)
    except Resolver404:  # an argument of the scenario does not fit the route
        pytest.fail(f"{name}: {url} resolves to no view")
    answered = {m: walker.send(m, url, name, "-", "none") for m in ("get", "post")}
    taken = [m for m, status in answered.items() if status != 405]
    first = taken[:1]  # the path and the query string: by the first method the route takes
    for arg in {m.group(2) for m in ARG.finditer(route)}:
        for label, value in HOSTILE_PATH.items():
            for method in first:
                walker.send(method, _concrete(route, arguments, (arg, value)), name, arg, label)
    reads = view_reads(match.func)
    for param in sorted(reads.get):
        for label, value in HOSTILE.items():
            for method in first:
                walker.send(method, f"{url}?{urlencode({param: value})}", name, f"?{param}", label)
    if "post" in taken:
        for param in sorted(reads.post):
            for label, value in HOSTILE.items():
                walker.send("post", url, name, param, label, data={param: value})


def test_no_parameter_gets_a_server_error(
    monkeypatch: pytest.MonkeyPatch, system: Actor, authority: Any, unit: Any, citizen: User
) -> None:
    w = world(system, authority, unit, citizen)
    chief = _chief(w)
    headers = token(chief)
    arguments = _arguments(w, chief)
    bodies: dict[str, Any] = {**_bodies(w, arguments), "authority": w.authority.code}
    # A register seals each answer with a CMS signature and a timestamp (80 ms): what is
    # walked here is how it reads the request, not the seal.
    monkeypatch.setattr(sealing, "seal", lambda register_code, text: "")
    _client_row, secret = registers.issue_client(
        name="walker", authority=w.authority.code, queries=list(QUERIES)
    )
    # The API answers a session as it answers a token once the caller is known: the citizen
    # walks it with a session, the official with a token. The registers take their own token.
    walkers = [
        Walker("citizen", lambda: _session(w.citizen), pages="citizen", api=True),
        Walker("official", lambda: _session(chief), pages="/", api=False),
        Walker(
            "official's token",
            lambda: _client(headers),
            pages="",
            api=True,
            registers={"Authorization": f"Bearer {secret}"},
        ),
    ]
    for walker in walkers:
        for name, route in ROUTES:
            if not walker.walks(name, route):
                continue
            if name.startswith(("api:", "registers:")):
                _walk_api(walker, name, route, arguments, bodies)
            else:
                _walk_page(walker, name, route, arguments)
    failures = [f for walker in walkers for f in walker.failures]
    sent = sum(walker.requests for walker in walkers)
    assert not failures, f"{len(failures)} of {sent} requests got a server error:\n" + "\n".join(
        failures
    )
