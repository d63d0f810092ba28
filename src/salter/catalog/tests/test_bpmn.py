"""The workflow exported as BPMN 2.0 XML, model and diagram."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET  # noqa: S405 — parsing our own output
from pathlib import Path
from typing import Any

import pytest
from conftest import missing_tool

from salter.catalog import bpmn, editor, pilots

M = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
DI = "{http://www.omg.org/spec/BPMN/20100524/DI}"
DC = "{http://www.omg.org/spec/DD/20100524/DC}"
DDI = "{http://www.omg.org/spec/DD/20100524/DI}"
NCNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
FLOW_NODES = ("startEvent", "userTask", "endEvent")


def parse(xml: str) -> ET.Element:
    return ET.fromstring(xml.encode())  # noqa: S314 — our own output


@pytest.mark.parametrize("pilot", pilots.ALL, ids=lambda p: p.code)
def test_every_state_and_transition_with_a_shape_and_an_edge(pilot: pilots.Pilot) -> None:
    definition = pilot.definition()
    xml = bpmn.bpmn(definition, name=pilot.name_en, language="en")
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = parse(xml)
    assert root.tag == f"{M}definitions" and root.get("targetNamespace")

    ids = [e.get("id") for e in root.iter() if e.get("id") is not None]
    assert len(ids) == len(set(ids)), "ids are unique"
    assert all(NCNAME.match(str(i)) for i in ids), ids

    process = root.find(f"{M}process")
    assert process is not None
    states = definition["workflow"]["states"]
    tasks = {e.get("name") for e in process.findall(f"{M}userTask")}
    ends = {e.get("name") for e in process.findall(f"{M}endEvent")}
    for state in states.values():
        assert state["label"]["en"] in (ends if state.get("final") else tasks)
    assert len(process.findall(f"{M}startEvent")) == 1

    nodes = {e.get("id") for tag in FLOW_NODES for e in process.findall(f"{M}{tag}")}
    flows = process.findall(f"{M}sequenceFlow")
    names = {f.get("name") for f in flows}
    for t in definition["workflow"]["transitions"]:
        assert t["label"]["en"] in names
    expected = sum(len(editor.sources(t)) for t in definition["workflow"]["transitions"])
    assert len(flows) == expected + 1  # and the start event's
    for flow in flows:
        assert flow.get("sourceRef") in nodes and flow.get("targetRef") in nodes
        source = process.find(f"*[@id='{flow.get('sourceRef')}']")
        assert source is not None
        assert flow.get("id") in [o.text for o in source.findall(f"{M}outgoing")]

    lanes = process.findall(f"{M}laneSet/{M}lane")
    in_lanes = [str(r.text) for lane in lanes for r in lane.findall(f"{M}flowNodeRef")]
    assert sorted(in_lanes) == sorted(str(n) for n in nodes)  # every node in exactly one lane

    plane = root.find(f"{DI}BPMNDiagram/{DI}BPMNPlane")
    assert plane is not None
    collaboration = root.find(f"{M}collaboration")
    assert collaboration is not None and plane.get("bpmnElement") == collaboration.get("id")
    shapes = {s.get("bpmnElement"): s for s in plane.findall(f"{DI}BPMNShape")}
    edges = {e.get("bpmnElement"): e for e in plane.findall(f"{DI}BPMNEdge")}
    for node in nodes | {lane.get("id") for lane in lanes}:
        bounds = shapes[node].find(f"{DC}Bounds")
        assert bounds is not None and float(bounds.get("width", 0)) > 0
    for flow in flows:
        assert len(edges[flow.get("id")].findall(f"{DDI}waypoint")) >= 2


def test_role_lanes_are_named() -> None:
    root = parse(bpmn.bpmn(pilots.OVERTIME.definition()))
    lanes = {lane.get("id"): lane.get("name") for lane in root.iter(f"{M}lane")}
    assert set(lanes) == {"Lane_head_of_unit", "Lane_applicant", "Lane_approver"}
    assert lanes["Lane_applicant"] == "Applicant"


def test_names_are_escaped_and_ids_made_valid() -> None:
    definition = editor.starter_definition()
    definition["workflow"]["states"]["submitted"]["label"]["en"] = 'A & <B> "C"'
    definition["workflow"]["transitions"][0]["id"] = "9 bad id"
    root = parse(bpmn.bpmn(definition, name="<x>", language="en"))
    assert root.find(f"{M}process[@name='<x>']") is not None
    assert any(e.get("name") == 'A & <B> "C"' for e in root.iter(f"{M}userTask"))
    assert all(NCNAME.match(str(e.get("id"))) for e in root.iter() if e.get("id"))


@pytest.mark.parametrize("broken", [{}, {"workflow": {"states": {"a": {}}}}, [1, 2]])
def test_a_draft_in_any_shape_gives_a_document(broken: Any) -> None:
    assert parse(bpmn.bpmn(broken)).tag == f"{M}definitions"


ROOT = Path(__file__).resolve().parents[4]
READER = Path(__file__).with_name("bpmn_read.cjs")


@pytest.mark.parametrize("pilot", pilots.ALL, ids=lambda p: p.code)
def test_bpmn_io_reads_the_export_without_a_warning(pilot: pilots.Pilot, tmp_path: Path) -> None:
    """bpmn-moddle — the reader of bpmn.io and Camunda Modeler, installed by ``npm ci`` —
    reads the file with no warning, and every flow element has its shape or edge."""
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "bpmn-moddle").is_dir():
        missing_tool("needs Node.js and `npm ci` (make install) for bpmn-moddle")
    exported = tmp_path / f"{pilot.code}.bpmn"
    exported.write_text(bpmn.bpmn(pilot.definition(), name=pilot.name_en), encoding="utf-8")
    done = subprocess.run(  # noqa: S603 — our own script on our own file
        [node, str(READER), str(exported)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    read = json.loads(done.stdout)
    assert read["root"] == "bpmn:Definitions" and read["warnings"] == []
    kinds = set(read["flowElements"])
    assert {"bpmn:StartEvent", "bpmn:UserTask", "bpmn:EndEvent", "bpmn:SequenceFlow"} <= kinds
    assert None not in read["shapes"] and None not in read["edges"]
    flows = read["flowElements"].count("bpmn:SequenceFlow")
    assert len(read["edges"]) == flows
