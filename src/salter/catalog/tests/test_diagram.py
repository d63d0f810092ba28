"""The workflow drawn as SVG on the server."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET  # noqa: S405 — parsing our own output
from typing import Any

import pytest

from salter.catalog import diagram, editor, pilots

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 — our own output


@pytest.mark.parametrize("pilot", pilots.ALL, ids=lambda p: p.code)
def test_every_state_and_transition_is_drawn_and_described(pilot: pilots.Pilot) -> None:
    definition = pilot.definition()
    root = parse(diagram.svg(definition, language="en"))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "wf-title wf-desc"
    assert root.find(f"{SVG}title").text == "Workflow diagram"  # type: ignore[union-attr]
    desc = root.find(f"{SVG}desc").text or ""  # type: ignore[union-attr]
    states = definition["workflow"]["states"]
    drawn = root.findall(f".//{SVG}g[@class]")
    boxes = [g for g in drawn if g.get("class") in {"state", "state final"}]
    assert len(boxes) == len(states)
    assert len([g for g in boxes if g.get("class") == "state final"]) == len(
        [s for s in states.values() if s.get("final")]
    )
    edges = sum(len(editor.sources(t)) for t in definition["workflow"]["transitions"])
    arrows = root.findall(f"{SVG}g[@class='transitions']/{SVG}path[@marker-end]")
    assert len(arrows) == edges
    for state in states.values():
        assert state["label"]["en"] in desc
    for t in definition["workflow"]["transitions"]:
        assert t["label"]["en"] in desc


def test_layers_start_at_the_initial_state_and_unreachable_states_come_last() -> None:
    definition = editor.starter_definition()
    definition["workflow"]["states"]["limbo"] = {"label": {"sr": "Нигде", "en": "Nowhere"}}
    g = diagram.graph(definition, "en")
    assert g.layers == [["submitted"], ["decided"], ["limbo"]]
    root = parse(diagram.svg(definition, language="en"))
    tops = {
        g.find(f"{SVG}title").text: float(g.find(f"{SVG}rect").get("y"))  # type: ignore[union-attr,arg-type]
        for g in root.iter(f"{SVG}g")
        if g.get("class") in {"state", "state final"}
    }
    assert tops["Application submitted (submitted)"] < tops["Decided (decided)"]
    assert tops["Decided (decided)"] < tops["Nowhere (limbo)"]


def test_the_drawing_is_deterministic() -> None:
    definition = pilots.NEWBORN_AID.definition()
    assert diagram.svg(definition) == diagram.svg(copy.deepcopy(definition))


def test_every_text_is_escaped() -> None:
    definition = editor.starter_definition()
    evil = '<script>alert("x")</script> & "quotes"'
    definition["workflow"]["states"]["submitted"]["label"] = {"sr": evil, "en": evil}
    definition["workflow"]["transitions"][0]["label"] = {"sr": evil, "en": evil}
    svg = diagram.svg(definition, language="en", id_prefix='a"b')
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    root = parse(svg)  # still well-formed
    assert root.get("aria-labelledby") == 'a"b-title a"b-desc'
    assert "<script>" in (root.find(f"{SVG}desc").text or "")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "broken",
    [
        {},
        [],
        {"workflow": []},
        {"workflow": {"states": [], "transitions": {}}},
        {"workflow": {"initial": "x", "states": {"a": "b"}, "transitions": [1, {"from": 3}]}},
        {
            "workflow": {
                "initial": "a",
                "states": {"a": {}},
                "transitions": [{"id": "t", "from": ["a", "ghost"], "to": "a", "label": 7}],
            }
        },
    ],
)
def test_a_draft_in_any_shape_is_drawn(broken: Any) -> None:
    root = parse(diagram.svg(broken))
    assert root.get("role") == "img"
