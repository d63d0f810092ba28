"""The workflow of a definition drawn as SVG on the server: no JavaScript, no external tool.

States are boxes in layers: the initial state on top, then each state in the layer of its
shortest distance from it (breadth-first, transitions in document order), states that cannot be
reached in a last layer. Inside a layer the states are ordered by the mean position of their
predecessors above (one barycentre pass), which keeps most arrows from crossing. A transition to
the next layer is a straight arrow; every other one (back, sideways, skipping layers, to itself)
runs in its own lane on the right, through the gaps between layers, so no arrow crosses a box.

Drafts are drawn too, so nothing here trusts the definition: unknown states are left out and
counted in the description. All text goes through ElementTree, which escapes it.
"""

from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ET  # noqa: S405 — building XML only, nothing is parsed
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from salter.catalog.forms import text

SVG_NS = "http://www.w3.org/2000/svg"

BOX_W = 184
BOX_H = 60
COL_GAP = 80
ROW_GAP = 150
MARGIN = 24
LANE_GAP = 18
FONT = 13
LABEL_FONT = 12
CHAR_W = 0.6  # average glyph width in ems, to size boxes and label backgrounds
LABEL_CHARS = 16
STATE_CHARS = 22


@dataclass(frozen=True)
class State:
    id: str
    label: str
    final: bool
    waits: bool


@dataclass(frozen=True)
class Edge:
    id: str
    source: str
    target: str
    label: str
    roles: tuple[str, ...]
    index: int  # of the transition in the definition


@dataclass
class Graph:
    """The workflow as drawable parts, whatever shape the (draft) definition is in."""

    states: dict[str, State]
    initial: str | None
    edges: list[Edge]
    skipped: int = 0  # transition ends that name no state
    layers: list[list[str]] = field(default_factory=list)

    def layer_of(self) -> dict[str, int]:
        return {state: i for i, layer in enumerate(self.layers) for state in layer}


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def graph(definition: Any, language: str | None = None) -> Graph:
    """The states and transitions of ``definition`` and their layers."""
    workflow = _mapping(_mapping(definition).get("workflow"))
    states = {
        str(name): State(
            id=str(name),
            label=text(_mapping(info).get("label"), language) or str(name),
            final=_mapping(info).get("final") is True,
            waits=_mapping(info).get("waits_for_applicant") is True,
        )
        for name, info in _mapping(workflow.get("states")).items()
    }
    initial = workflow.get("initial")
    edges: list[Edge] = []
    skipped = 0
    transitions = workflow.get("transitions")
    for i, t in enumerate(transitions if isinstance(transitions, list) else []):
        t = _mapping(t)
        sources = t.get("from")
        sources = [sources] if isinstance(sources, str) else sources
        roles = t.get("roles")
        for source in sources if isinstance(sources, list) else []:
            if source in states and t.get("to") in states:
                edges.append(
                    Edge(
                        id=str(t.get("id", "")),
                        source=str(source),
                        target=str(t["to"]),
                        label=text(t.get("label"), language) or str(t.get("id", "")),
                        roles=tuple(str(r) for r in roles) if isinstance(roles, list) else (),
                        index=i,
                    )
                )
            else:
                skipped += 1
    result = Graph(states, initial if initial in states else None, edges, skipped)
    result.layers = _layers(result)
    return result


def _layers(g: Graph) -> list[list[str]]:
    """Breadth-first layers from the initial state, unreachable states last, each layer
    ordered by the barycentre of its predecessors in the layer above."""
    depth: dict[str, int] = {}
    order: list[str] = []
    if g.initial is not None:
        depth[g.initial] = 0
        order.append(g.initial)
        queue = deque([g.initial])
        while queue:
            state = queue.popleft()
            for edge in g.edges:
                if edge.source == state and edge.target not in depth:
                    depth[edge.target] = depth[state] + 1
                    order.append(edge.target)
                    queue.append(edge.target)
    layers: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for state in order:
        layers[depth[state]].append(state)
    unreachable = [s for s in g.states if s not in depth]
    if unreachable:
        layers.append(unreachable)
    for i in range(1, len(layers)):
        above = {state: x for x, state in enumerate(layers[i - 1])}
        first = {state: x for x, state in enumerate(layers[i])}
        centres = {}
        for state in layers[i]:
            parents = [above[e.source] for e in g.edges if e.target == state and e.source in above]
            mean = sum(parents) / len(parents) if parents else float(len(above))
            centres[state] = (mean, first[state])
        layers[i].sort(key=centres.__getitem__)
    return layers


@dataclass(frozen=True)
class Box:
    x: float
    y: float

    @property
    def cx(self) -> float:
        return self.x + BOX_W / 2

    @property
    def bottom(self) -> float:
        return self.y + BOX_H


def _boxes(g: Graph) -> tuple[dict[str, Box], float]:
    """Top-left corner of each state's box (rows centred), and the width of the widest row."""
    widest = max((len(layer) for layer in g.layers), default=0)
    width = widest * BOX_W + max(widest - 1, 0) * COL_GAP
    boxes: dict[str, Box] = {}
    for row, layer in enumerate(g.layers):
        used = len(layer) * BOX_W + (len(layer) - 1) * COL_GAP
        left = MARGIN + (width - used) / 2
        for col, state in enumerate(layer):
            boxes[state] = Box(
                left + col * (BOX_W + COL_GAP), MARGIN + 28 + row * (BOX_H + ROW_GAP)
            )
    return boxes, width


def _lines(value: str, width: int, most: int) -> list[str]:
    lines = textwrap.wrap(value, width=width, break_long_words=True) or [""]
    if len(lines) > most:
        lines = lines[:most]
        lines[-1] = lines[-1][: width - 1].rstrip() + "…"
    return lines


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _sub(parent: ET.Element, tag: str, content: str | None = None, **attrs: Any) -> ET.Element:
    element = ET.SubElement(
        parent,
        tag,
        {k.rstrip("_").replace("_", "-"): _num(v) if isinstance(v, float | int) else str(v)
         for k, v in attrs.items()},
    )  # fmt: skip
    if content is not None:
        element.text = content
    return element


def _label(
    parent: ET.Element, x: float, y: float, value: str, *, anchor: str = "middle"
) -> tuple[float, float, float, float]:
    """A transition's label on a white background; its rectangle (x, y, w, h)."""
    lines = _lines(value, LABEL_CHARS, 3)
    w = max(len(line) for line in lines) * LABEL_FONT * CHAR_W + 8
    h = len(lines) * (LABEL_FONT + 3) + 4
    left = x - w / 2 if anchor == "middle" else x
    top = y - h / 2
    group = _sub(parent, "g", class_="label")
    _sub(group, "rect", x=left, y=top, width=w, height=h, fill="#ffffff", opacity="0.92")
    label = _sub(group, "text", x=left + w / 2, y=top + LABEL_FONT + 1, text_anchor="middle")
    label.set("font-size", str(LABEL_FONT))
    for i, line in enumerate(lines):
        _sub(label, "tspan", line, x=left + w / 2, dy=0 if i == 0 else LABEL_FONT + 3)
    return left, top, w, h


def _describe(g: Graph) -> str:
    parts = [
        _("Workflow with %(states)d states and %(transitions)d transitions.")
        % {"states": len(g.states), "transitions": len(g.edges)}
    ]
    if g.initial is not None:
        parts.append(_("Initial state: %(state)s.") % {"state": g.states[g.initial].label})
    finals = [s.label for s in g.states.values() if s.final]
    if finals:
        parts.append(_("Final states: %(states)s.") % {"states": ", ".join(finals)})
    for edge in g.edges:
        parts.append(
            _("%(label)s: from %(source)s to %(target)s.")
            % {
                "label": edge.label,
                "source": g.states[edge.source].label,
                "target": g.states[edge.target].label,
            }
        )
    if g.skipped:
        parts.append(
            _("%(count)d transition ends name no state and are not drawn.") % {"count": g.skipped}
        )
    return " ".join(parts)


def svg(definition: Any, *, language: str | None = None, id_prefix: str = "wf") -> str:
    """The workflow of ``definition`` as an accessible SVG document (``role="img"`` with a
    ``<title>`` and a ``<desc>`` listing every state and transition in words)."""
    g = graph(definition, language)
    boxes, width = _boxes(g)
    layer = g.layer_of()
    adjacent = [e for e in g.edges if layer[e.target] == layer[e.source] + 1]
    laned = [e for e in g.edges if layer[e.target] != layer[e.source] + 1]
    lanes_left = MARGIN + width + 28
    lanes_right = lanes_left + len(laned) * LANE_GAP
    label_column = lanes_right + 8
    total_w = label_column + (LABEL_CHARS * LABEL_FONT * CHAR_W + 16 if laned else 0) + MARGIN
    total_w = max(total_w, 2 * MARGIN + BOX_W)
    total_h = MARGIN * 2 + 28 + len(g.layers) * (BOX_H + ROW_GAP) - ROW_GAP + 8

    root = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "role": "img",
            "viewBox": f"0 0 {_num(total_w)} {_num(total_h)}",
            "width": _num(total_w),
            "height": _num(total_h),
            "aria-labelledby": f"{id_prefix}-title {id_prefix}-desc",
            "class": "workflow-diagram",
            "font-family": "system-ui, sans-serif",
        },
    )
    _sub(root, "title", _("Workflow diagram"), id=f"{id_prefix}-title")
    _sub(root, "desc", _describe(g), id=f"{id_prefix}-desc")
    defs = _sub(root, "defs")
    marker = _sub(
        defs,
        "marker",
        id=f"{id_prefix}-arrow",
        viewBox="0 0 10 10",
        refX=9,
        refY=5,
        markerWidth=8,
        markerHeight=8,
        orient="auto-start-reverse",
    )
    _sub(marker, "path", d="M 0 0 L 10 5 L 0 10 z", fill="#1b1f24")
    arrow = f"url(#{id_prefix}-arrow)"

    edges = _sub(root, "g", class_="transitions", fill="none", stroke="#1b1f24")
    labels: list[tuple[ET.Element, float, float, str, str]] = []
    by_pair: dict[tuple[str, str], int] = {}
    for edge in adjacent:
        a, b = boxes[edge.source], boxes[edge.target]
        k = by_pair.get((edge.source, edge.target), 0)
        by_pair[(edge.source, edge.target)] = k + 1
        shift = k * 14
        x1, y1, x2, y2 = a.cx + shift, a.bottom, b.cx + shift, b.y
        line = _sub(edges, "path", d=f"M {_num(x1)} {_num(y1)} L {_num(x2)} {_num(y2)}")
        line.set("marker-end", arrow)
        line.set("stroke-width", "1.5")
        labels.append((line, (x1 + x2) / 2, (y1 + y2) / 2 + k * 24, edge.label, "middle"))
    placed: list[tuple[float, float]] = []
    for k, edge in enumerate(laned):
        a, b = boxes[edge.source], boxes[edge.target]
        lane = lanes_left + k * LANE_GAP
        dx = (k % 5 - 2) * 8
        below = a.bottom + 14 + (k % 6) * 6
        above = b.y - 14 - (k % 6) * 6
        points = [
            (a.cx + dx + BOX_W / 4, a.bottom),
            (a.cx + dx + BOX_W / 4, below),
            (lane, below),
            (lane, above),
            (b.cx + dx + BOX_W / 4, above),
            (b.cx + dx + BOX_W / 4, b.y),
        ]
        d = "M " + " L ".join(f"{_num(x)} {_num(y)}" for x, y in points)
        path = _sub(edges, "path", d=d, stroke_dasharray="6 3")
        path.set("marker-end", arrow)
        path.set("stroke-width", "1.5")
        y = (below + above) / 2
        while any(abs(y - other) < 3 * (LABEL_FONT + 3) + 8 for other in [p[1] for p in placed]):
            y += LABEL_FONT + 6
        placed.append((lane, y))
        labels.append((path, label_column, y, f"{edge.label}", "start"))
        _sub(edges, "path", d=f"M {_num(lane)} {_num(y)} L {_num(label_column)} {_num(y)}",
             stroke_dasharray="2 2")  # fmt: skip

    nodes = _sub(root, "g", class_="states")
    for state in g.states.values():
        box = boxes[state.id]
        group = _sub(nodes, "g", class_="state" + (" final" if state.final else ""))
        _sub(group, "title", f"{state.label} ({state.id})")
        outline = _sub(
            group, "rect", x=box.x, y=box.y, width=BOX_W, height=BOX_H, rx=8, fill="#f2f4f7"
        )
        outline.set("stroke", "#0b4f8a")
        outline.set("stroke-width", "3" if state.id == g.initial else "1.5")
        if state.waits:
            outline.set("stroke-dasharray", "6 3")
        if state.final:  # a double border: final states are not told apart by colour alone
            _sub(group, "rect", x=box.x + 5, y=box.y + 5, width=BOX_W - 10, height=BOX_H - 10,
                 rx=5, fill="none", stroke="#0b4f8a", stroke_width=1.5)  # fmt: skip
        lines = _lines(state.label, STATE_CHARS, 2)
        top = box.y + BOX_H / 2 - (len(lines) - 1) * (FONT + 2) / 2 + FONT / 3
        caption = _sub(group, "text", x=box.cx, y=top, text_anchor="middle", fill="#1b1f24")
        caption.set("font-size", str(FONT))
        for i, row in enumerate(lines):
            _sub(caption, "tspan", row, x=box.cx, dy=0 if i == 0 else FONT + 2)
    if g.initial is not None:  # a filled dot with an arrow into the initial state
        box = boxes[g.initial]
        start = _sub(root, "g", class_="start")
        _sub(start, "circle", cx=box.cx, cy=MARGIN, r=7, fill="#1b1f24")
        into = _sub(
            start,
            "path",
            d=f"M {_num(box.cx)} {MARGIN + 7} L {_num(box.cx)} {_num(box.y)}",
            stroke="#1b1f24",
            stroke_width=1.5,
        )
        into.set("marker-end", arrow)
        _sub(start, "text", _("start"), x=box.cx + 14, y=MARGIN + 5, font_size=LABEL_FONT)
    texts = _sub(root, "g", class_="transition-labels", fill="#1b1f24")
    for _path, x, y, value, anchor in labels:
        _label(texts, x, y, value, anchor=anchor)
    return ET.tostring(root, encoding="unicode")
