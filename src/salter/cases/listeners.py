"""The case engine's seam: it announces what happened, and asks who must hold a step.

The engine knows no app above it. Apps that take part in a case — the registry of documents,
fees, the e-mailbox, the data exchange, and every capability still to come — register here in
their ``AppConfig.ready()``; the engine calls :func:`announce` and :func:`holds` and never
imports them. (Chosen after Saleor's plugin manager and Wagtail's hooks: one explicit,
ordered registry, typed payloads, no Django signals whose receivers and order are implicit.
See ``docs/architecture.md``.)

Four things can be registered:

* **Handlers** of an announcement (:class:`Submitted`, :class:`Moved`, :class:`Renumbered`) with
  an ``order``. They run in order inside the step's transaction, after the engine has written
  the case, its timeline event and its task; a handler that must refuse the step raises
  :class:`~salter.cases.errors.CaseError` and the whole step rolls back. A handler with ``keys``
  runs only when the service's definition (or the step's transition) uses one of them — an
  unused capability costs nothing. Work that leaves the database (e-mail, a register, an outside
  system) goes through :func:`after_commit` or an outbox, so nothing leaves for a step that
  rolled back.
* **Gates**: for a transition key (``requires_evidence``), a function that says why the case
  must wait before the step may be taken ("" when it may go on).
* **Automatic events** (``paid``, ``delivered``): what an app may tell the engine through
  :func:`salter.cases.services.take_automatic_step`; a transition with ``"auto": <event>``
  is taken by the platform when it happens.
* **Timeline texts**: how an app's own kind of timeline event is named on a page.

The case's pages and API, in the cases app too, ask the same registry for what other apps add
to them: **page sections** (the acts, deliveries, fees shown on a case page), **read
loggers** (the personal-data access log records each official's read of a case), **steps that
need a fresh second factor** (a step that signs), and **routes** under a case's address (a
document of the case).

Keys a definition may use that the engine itself reads are in :data:`ENGINE_KEYS`; every other
key must be claimed by some app, else the system check ``salter.cases.E001`` fails
(:mod:`salter.cases.checks`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from django.db import transaction
from django.http import HttpRequest
from django.urls import URLPattern

from salter.cases.models import Case, CaseEvent
from salter.core.context import Actor

# Keys of a definition and of its transitions that the engine reads itself.
ENGINE_KEYS = frozenset(
    {"$schema", "form", "workflow", "deadline", "calculations", "confidentiality"}
)
ENGINE_TRANSITION_KEYS = frozenset(
    {
        "id",
        "from",
        "to",
        "label",
        "roles",
        "input",
        "requires_fields",
        "guard",
        "auto",
        "timer",
        "approval",
        "opinion",
        "ui",
    }
)


@dataclass(frozen=True)
class _AboutCase:
    """What every announcement carries: who acted, on which case (locked, already written)."""

    actor: Actor
    case: Case

    @property
    def definition(self) -> Mapping[str, Any]:
        return self.case.service_version.definition


@dataclass(frozen=True)
class _NotAStep(_AboutCase):
    @property
    def transition(self) -> Mapping[str, Any]:
        return {}


@dataclass(frozen=True)
class Submitted(_NotAStep):
    """An application was registered as ``case`` (number, timeline, task already written)."""


@dataclass(frozen=True)
class Moved(_AboutCase):
    """``case`` moved from ``source`` to ``to`` by ``transition`` (``{}`` for the built-in
    withdrawal). ``closed``: ``to`` is a final state. ``confirmation``: the signer's fresh
    second factor, for a step that signs (:class:`salter.identity.fresh.Confirmation`)."""

    transition: Mapping[str, Any]
    source: str
    to: str
    closed: bool
    confirmation: Any = None

    @property
    def transition_id(self) -> str:
        return str(self.transition.get("id", ""))


@dataclass(frozen=True)
class Renumbered(_NotAStep):
    """``case`` was carried into a new registry year: it now has its new number; these are the
    number, year and serial it had."""

    registry_number: str
    year: int
    number: int


Announcement = Submitted | Moved | Renumbered
A = TypeVar("A", Submitted, Moved, Renumbered)
Handler = Callable[[Any], None]
Gate = Callable[[Case], str]
Describer = Callable[[Mapping[str, Any]], str]


@dataclass(frozen=True)
class _Registered:
    fn: Handler
    order: int
    keys: frozenset[str]
    app: str


Section = Callable[[Case, bool], Any]  # (case, shown to an official) → the section's data
Reader = Callable[[HttpRequest, Case], None]
Confirms = Callable[[Mapping[str, Any]], bool]


@dataclass
class Registry:
    handlers: dict[type, list[_Registered]] = field(default_factory=dict)
    gates: dict[str, Gate] = field(default_factory=dict)
    automatic: dict[str, str] = field(default_factory=dict)  # event → app
    texts: dict[str, Describer] = field(default_factory=dict)  # CaseEvent.Kind → describer
    claimed: dict[str, str] = field(default_factory=dict)  # definition key → app
    # page ("applicant"/"official") → name in the page's context → what fills it
    sections: dict[str, dict[str, Section]] = field(default_factory=dict)
    readers: list[Reader] = field(default_factory=list)
    confirming: list[Confirms] = field(default_factory=list)
    routes: dict[str, list[URLPattern]] = field(default_factory=dict)  # applicant/official

    def claim(self, app: str, keys: Iterable[str]) -> None:
        for key in keys:
            if key in ENGINE_KEYS or key in ENGINE_TRANSITION_KEYS:
                raise ValueError(f"{app} cannot claim {key!r}: the case engine reads it")
            owner = self.claimed.setdefault(key, app)
            if owner != app:
                raise ValueError(f"{app} cannot claim {key!r}: {owner} handles it")


registry = Registry()


def on(
    kind: type[A], *, app: str, order: int, keys: Iterable[str] = ()
) -> Callable[[Callable[[A], None]], Callable[[A], None]]:
    """Register a handler of ``kind`` (run in ascending ``order``; ties in registration
    order). With ``keys``, it runs only when the definition or the transition uses one."""
    wanted = frozenset(keys)

    def register(fn: Callable[[A], None]) -> Callable[[A], None]:
        registry.claim(app, wanted)
        handlers = registry.handlers.setdefault(kind, [])
        handlers.append(_Registered(fn, order, wanted, app))
        handlers.sort(key=lambda h: h.order)
        return fn

    return register


def gate(key: str, *, app: str) -> Callable[[Gate], Gate]:
    """Register the gate of a transition key: ``fn(case)`` says why the step must wait."""

    def register(fn: Gate) -> Gate:
        registry.claim(app, [key])
        registry.gates[key] = fn
        return fn

    return register


def handles(app: str, *keys: str) -> None:
    """Claim definition keys that an app reads in its own use cases, with no handler here
    (``documents``: the acts a step may issue; ``delivery``: its legal basis)."""
    registry.claim(app, keys)


def automatic(event: str, *, app: str) -> None:
    """Declare an event ``app`` tells the engine of (a transition's ``auto`` value)."""
    owner = registry.automatic.setdefault(event, app)
    if owner != app:
        raise ValueError(f"{app} cannot declare {event!r}: {owner} does")


def describe(kind: str) -> Callable[[Describer], Describer]:
    """Register how a timeline event of ``kind`` is named (its payload → a short text)."""

    def register(fn: Describer) -> Describer:
        registry.texts[kind] = fn
        return fn

    return register


def section(
    name: str, *, app: str, pages: Iterable[str] = ("applicant", "official")
) -> Callable[[Section], Section]:
    """Register a section of the case pages: ``fn(case, official)`` gives the data the page's
    template shows under ``name`` (one query or none; nothing when the case has none)."""

    def register(fn: Section) -> Section:
        for page in pages:
            on_page = registry.sections.setdefault(page, {})
            if name in on_page:
                raise ValueError(f"{app} cannot add the section {name!r}: it exists")
            on_page[name] = fn
        return fn

    return register


def reader(fn: Reader) -> Reader:
    """Register what must happen when an official or an API client reads a case (the
    personal-data access log records it)."""
    registry.readers.append(fn)
    return fn


def confirms(fn: Confirms) -> Confirms:
    """Register a rule saying whether a transition needs the taker's fresh second factor."""
    registry.confirming.append(fn)
    return fn


def route(side: str, pattern: URLPattern) -> None:
    """Add a page under a case's address: ``side`` "applicant" (``/cases/…``, namespace
    ``cases``) or "official" (``/official/cases/…``); registered before the URLs load."""
    registry.routes.setdefault(side, []).append(pattern)


# --- what the pages ask ----------------------------------------------------------------------


def page_sections(case: Case, *, official: bool) -> dict[str, Any]:
    """What the apps add to a case's page, by name (the page's template shows them)."""
    page = registry.sections.get("official" if official else "applicant", {})
    return {name: fn(case, official) for name, fn in page.items()}


def read(request: HttpRequest, case: Case) -> None:
    """``request``'s caller read ``case`` (an official's page, the API)."""
    for fn in registry.readers:
        fn(request, case)


def needs_confirmation(transition: Mapping[str, Any]) -> bool:
    return any(fn(transition) for fn in registry.confirming)


def routes(side: str) -> list[URLPattern]:
    return list(registry.routes.get(side, ()))


# --- what the engine calls ---------------------------------------------------------------------


def _uses(announcement: Announcement, keys: frozenset[str]) -> bool:
    if not keys:
        return True
    transition, definition = announcement.transition, announcement.definition
    return any(key in transition or key in definition for key in keys)


def announce(announcement: Announcement) -> None:
    """Run the handlers of ``announcement`` in order, inside the caller's transaction."""
    for handler in registry.handlers.get(type(announcement), ()):
        if _uses(announcement, handler.keys):
            handler.fn(announcement)


def holds(case: Case, transition: Mapping[str, Any]) -> str:
    """Why ``transition`` must wait on ``case`` (the first gate that says so), or ""."""
    for key, check in registry.gates.items():
        if transition.get(key):
            why = check(case)
            if why:
                return why
    return ""


def is_automatic(event: str) -> bool:
    return event in registry.automatic


def text_of(event: CaseEvent) -> str | None:
    """The registered text of an app's timeline event, or None when no app names its kind."""
    describer = registry.texts.get(event.kind)
    return describer(event.payload) if describer is not None else None


def after_commit(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run ``fn`` once the step's transaction has committed (never for one rolled back): for
    effects that leave the database."""
    transaction.on_commit(partial(fn, *args, **kwargs))


def unhandled_keys(definition: Mapping[str, Any]) -> list[str]:
    """The keys of ``definition`` and of its transitions, and the ``auto`` events, that
    neither the engine nor any registered app handles: ``["deliver", "auto:paid"]``."""
    missing: list[str] = []
    for key in definition:
        if key not in ENGINE_KEYS and key not in registry.claimed:
            missing.append(key)
    for transition in definition.get("workflow", {}).get("transitions", ()):
        for key in transition:
            if key not in ENGINE_TRANSITION_KEYS and key not in registry.claimed:
                missing.append(key)
        auto = transition.get("auto")
        if auto and auto not in registry.automatic:
            missing.append(f"auto:{auto}")
    return sorted(set(missing))
