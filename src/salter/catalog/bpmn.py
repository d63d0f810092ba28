"""The workflow of a definition as BPMN 2.0 XML, for modelling tools (bpmn.io, Camunda Modeler).

A pool (participant) holds the process: a start event leading to the initial state, a user task
for each state that is not final, an end event for each final state and a sequence flow for each
transition (one per state it leaves), named by its label. Each role that takes transitions gets a
lane; a state sits in the lane of the first official role (else the applicant) that takes it
onwards, an end event in the lane of the state before it. The diagram interchange section
(BPMNDI) places every node and flow with the same breadth-first layers as the SVG diagram, laid
out left to right, so the file opens with a picture and not only a model.

Built with ElementTree (which escapes every text); ids are NCNames made unique.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 — building XML only, nothing is parsed
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from salter.catalog.diagram import Graph, graph
from salter.identity.models import Role

MODEL = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
APPLICANT = "applicant"

POOL_LABEL = 30  # the band with the pool's name on its left
LANE_LABEL = 30
COLUMN = 190
ROW = 110
TASK_W, TASK_H = 120, 80
EVENT = 36
TOP = 40
LEFT = 40

_NOT_NCNAME = re.compile(r"[^A-Za-z0-9_.-]")


class _Ids:
    """NCNames (letters, digits, ``_ . -``, starting with a letter or ``_``), never twice."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def make(self, prefix: str, *parts: str) -> str:
        base = "_".join([prefix, *(_NOT_NCNAME.sub("_", p) for p in parts if p)])
        candidate, n = base, 2
        while candidate in self.used:
            candidate, n = f"{base}_{n}", n + 1
        self.used.add(candidate)
        return candidate


@dataclass
class _Node:
    id: str
    kind: str  # startEvent, userTask, endEvent
    name: str
    column: int
    lane: str
    x: float = 0
    y: float = 0

    @property
    def size(self) -> tuple[float, float]:
        return (TASK_W, TASK_H) if self.kind == "userTask" else (EVENT, EVENT)

    @property
    def centre(self) -> tuple[float, float]:
        w, h = self.size
        return (self.x + w / 2, self.y + h / 2)


def _role_name(role: str) -> str:
    if role == APPLICANT:
        return str(_("Applicant"))
    return str(Role(role).label) if role in Role.values else role


def _lane_of_states(g: Graph) -> dict[str, str]:
    lanes: dict[str, str] = {}
    for state in g.states:
        roles = [r for e in g.edges if e.source == state for r in e.roles]
        official = [r for r in roles if r != APPLICANT]
        if official or roles:
            lanes[state] = (official or roles)[0]
    for state in g.states:  # end states and dead ends: the lane of the state before them
        if state not in lanes:
            before = [e.source for e in g.edges if e.target == state and e.source in lanes]
            if before:
                lanes[state] = lanes[before[0]]
    return lanes


def _q(prefix: str, tag: str) -> str:
    return f"{prefix}:{tag}"


def _sub(parent: ET.Element, tag: str, **attrs: Any) -> ET.Element:
    return ET.SubElement(parent, tag, {k: str(v) for k, v in attrs.items() if v is not None})


def _num(value: float) -> str:
    return str(int(round(value)))


def bpmn(
    definition: Any,
    *,
    name: str = "",
    target_namespace: str = "urn:salter:service",
    language: str | None = None,
) -> str:
    """``definition``'s workflow as a BPMN 2.0 document (model and diagram), as a string."""
    g = graph(definition, language)
    ids = _Ids()
    lane_of = _lane_of_states(g)
    roles = list(dict.fromkeys(r for e in g.edges for r in e.roles))
    default_lane = roles[0] if roles else ""
    layer = g.layer_of()

    nodes: dict[str, _Node] = {}
    start: _Node | None = None
    if g.initial is not None:
        start = _Node(
            ids.make("StartEvent"), "startEvent", str(_("Case started")), 0,
            lane_of.get(g.initial, default_lane),
        )  # fmt: skip
    sources = {e.source for e in g.edges}
    for state in g.states.values():
        kind = "endEvent" if state.final and state.id not in sources else "userTask"
        nodes[state.id] = _Node(
            ids.make("State", state.id),
            kind,
            state.label,
            layer[state.id] + 1,
            lane_of.get(state.id, default_lane),
        )
    flows: list[tuple[str, str, _Node, _Node]] = []  # id, name, source, target
    if start is not None and g.initial is not None:
        flows.append((ids.make("Flow", "start"), "", start, nodes[g.initial]))
    singles = {e.id for e in g.edges if sum(1 for o in g.edges if o.id == e.id) == 1}
    for edge in g.edges:
        flow_id = (
            ids.make("Flow", edge.id)
            if edge.id in singles
            else ids.make("Flow", edge.id, edge.source)
        )
        flows.append((flow_id, edge.label, nodes[edge.source], nodes[edge.target]))

    every = ([start] if start is not None else []) + list(nodes.values())
    held = {n.lane for n in every}
    lanes = [lane for lane in dict.fromkeys([*roles, *(n.lane for n in every)]) if lane in held]
    lane_ids = {lane: ids.make("Lane", lane or "none") for lane in lanes}
    lane_top, lane_height = _place(every, lanes)
    width = POOL_LABEL + LANE_LABEL + (max((n.column for n in every), default=0) + 1) * COLUMN
    height = sum(lane_height.values()) or ROW

    root = ET.Element(
        _q("bpmn", "definitions"),
        {
            "xmlns:bpmn": MODEL,
            "xmlns:bpmndi": BPMNDI,
            "xmlns:dc": DC,
            "xmlns:di": DI,
            "id": ids.make("Definitions"),
            "targetNamespace": target_namespace,
            "exporter": "Šalter",
            "exporterVersion": "1",
        },
    )
    collaboration = _sub(root, _q("bpmn", "collaboration"), id=ids.make("Collaboration"))
    process_id = ids.make("Process")
    participant = _sub(
        collaboration,
        _q("bpmn", "participant"),
        id=ids.make("Participant"),
        name=name or _("Workflow"),
        processRef=process_id,
    )
    process = _sub(
        root, _q("bpmn", "process"), id=process_id, name=name or None, isExecutable="false"
    )
    if lanes:
        lane_set = _sub(process, _q("bpmn", "laneSet"), id=ids.make("LaneSet"))
        for lane in lanes:
            element = _sub(
                lane_set,
                _q("bpmn", "lane"),
                id=lane_ids[lane],
                name=_role_name(lane) if lane else _("Nobody"),
            )
            for node in every:
                if node.lane == lane:
                    ET.SubElement(element, _q("bpmn", "flowNodeRef")).text = node.id
    for node in every:
        element = _sub(process, _q("bpmn", node.kind), id=node.id, name=node.name)
        for flow_id, _label, _source, target in flows:
            if target is node:
                ET.SubElement(element, _q("bpmn", "incoming")).text = flow_id
        for flow_id, _label, source, _target in flows:
            if source is node:
                ET.SubElement(element, _q("bpmn", "outgoing")).text = flow_id
    for flow_id, label, source, target in flows:
        _sub(
            process,
            _q("bpmn", "sequenceFlow"),
            id=flow_id,
            name=label or None,
            sourceRef=source.id,
            targetRef=target.id,
        )

    diagram = _sub(root, _q("bpmndi", "BPMNDiagram"), id=ids.make("BPMNDiagram"))
    plane = _sub(
        diagram,
        _q("bpmndi", "BPMNPlane"),
        id=ids.make("BPMNPlane"),
        bpmnElement=collaboration.get("id"),
    )
    _shape(ids, plane, str(participant.get("id")), LEFT, TOP, width, height, horizontal=True)
    for lane in lanes:
        _shape(
            ids, plane, lane_ids[lane], LEFT + POOL_LABEL, lane_top[lane],
            width - POOL_LABEL, lane_height[lane], horizontal=True,
        )  # fmt: skip
    for node in every:
        w, h = node.size
        _shape(ids, plane, node.id, node.x, node.y, w, h)
    back = 0
    for flow_id, _label, source, target in flows:
        di_edge = _sub(
            plane, _q("bpmndi", "BPMNEdge"), id=ids.make("Edge", flow_id), bpmnElement=flow_id
        )
        points = _waypoints(source, target, back)
        if target.column <= source.column:
            back += 1
        for x, y in points:
            _sub(di_edge, _q("di", "waypoint"), x=_num(x), y=_num(y))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def _place(nodes: list[_Node], lanes: list[str]) -> tuple[dict[str, float], dict[str, float]]:
    """Set each node's top-left corner: its column left to right, stacked inside its lane."""
    stack: dict[tuple[str, int], int] = {}
    for node in nodes:
        key = (node.lane, node.column)
        stack[key] = stack.get(key, 0) + 1
    rows = {lane: max([n for (l_, _c), n in stack.items() if l_ == lane] or [1]) for lane in lanes}
    lane_top: dict[str, float] = {}
    lane_height: dict[str, float] = {}
    top = float(TOP)
    for lane in lanes:
        lane_top[lane] = top
        lane_height[lane] = rows[lane] * ROW + 20
        top += lane_height[lane]
    seen: dict[tuple[str, int], int] = {}
    for node in nodes:
        key = (node.lane, node.column)
        row = seen.get(key, 0)
        seen[key] = row + 1
        w, h = node.size
        cx = LEFT + POOL_LABEL + LANE_LABEL + node.column * COLUMN + COLUMN / 2
        cy = lane_top[node.lane] + 10 + row * ROW + ROW / 2
        node.x, node.y = cx - w / 2, cy - h / 2
    return lane_top, lane_height


def _shape(
    ids: _Ids,
    plane: ET.Element,
    element: str,
    x: float,
    y: float,
    w: float,
    h: float,
    *,
    horizontal: bool = False,
) -> None:
    shape = _sub(
        plane,
        _q("bpmndi", "BPMNShape"),
        id=ids.make("Shape", element),
        bpmnElement=element,
        isHorizontal="true" if horizontal else None,
    )
    _sub(shape, _q("dc", "Bounds"), x=_num(x), y=_num(y), width=_num(w), height=_num(h))


def _waypoints(source: _Node, target: _Node, back: int) -> list[tuple[float, float]]:
    (sx, sy), (tx, ty) = source.centre, target.centre
    sw, sh = source.size
    tw, th = target.size
    if target.column > source.column:  # forward: right side to left side, orthogonal
        x1, x2 = sx + sw / 2, tx - tw / 2
        if abs(sy - ty) < 1:
            return [(x1, sy), (x2, ty)]
        middle = (x1 + x2) / 2
        return [(x1, sy), (middle, sy), (middle, ty), (x2, ty)]
    # back, sideways or to itself: over the top of both
    above = min(source.y, target.y) - 12 - (back % 4) * 6
    return [(sx, sy - sh / 2), (sx, above), (tx, above), (tx, ty - th / 2)]
