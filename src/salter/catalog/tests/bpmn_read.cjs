// Reads a BPMN 2.0 file with bpmn-moddle (the reader behind bpmn.io and Camunda Modeler)
// and prints what it found: the root element, the warnings, and the diagram's elements.
const fs = require("fs");
const { BpmnModdle } = require("bpmn-moddle");

async function main() {
  const xml = fs.readFileSync(process.argv[2], "utf8");
  const moddle = new BpmnModdle();
  const { rootElement, warnings } = await moddle.fromXML(xml, "bpmn:Definitions");
  const process_ = rootElement.rootElements.find((e) => e.$type === "bpmn:Process");
  const plane = rootElement.diagrams[0].plane;
  console.log(JSON.stringify({
    root: rootElement.$type,
    warnings: warnings.map((w) => w.message),
    flowElements: process_.flowElements.map((e) => e.$type),
    planeElement: plane.bpmnElement && plane.bpmnElement.id,
    shapes: plane.planeElement.filter((e) => e.$type === "bpmndi:BPMNShape").map((e) => e.bpmnElement && e.bpmnElement.id),
    edges: plane.planeElement.filter((e) => e.$type === "bpmndi:BPMNEdge").map((e) => e.bpmnElement && e.bpmnElement.id),
  }));
}

main().catch((error) => { console.error(error.message); process.exit(1); });
