// A directed graph drawn in columns ("layers"): the service map (services -> hosts and databases) and
// the API flow graph (routes -> the routes called next) both use it.

import { asButton, svg } from "./dom.js";

const COLUMN_GAP = 120;
const ROW_HEIGHT = 54;
const NODE_HEIGHT = 34;
const CHAR_WIDTH = 7.2;
const MARGIN = 24;

function nodeWidth(node) {
  return Math.max(90, Math.min(300, node.label.length * CHAR_WIDTH + 24));
}

function place(nodes) {
  const layers = new Map();
  for (const node of nodes) {
    if (!layers.has(node.layer)) layers.set(node.layer, []);
    layers.get(node.layer).push(node);
  }
  const order = [...layers.keys()].sort((a, b) => a - b);
  const widths = order.map((layer) => Math.max(...layers.get(layer).map(nodeWidth)));
  const tallest = Math.max(...order.map((layer) => layers.get(layer).length));
  const height = MARGIN * 2 + tallest * ROW_HEIGHT;
  const positions = new Map();
  let x = MARGIN;
  order.forEach((layer, column) => {
    const column_nodes = layers.get(layer);
    const top = (height - column_nodes.length * ROW_HEIGHT) / 2;
    column_nodes.forEach((node, row) => {
      positions.set(node.id, { x, y: top + row * ROW_HEIGHT + (ROW_HEIGHT - NODE_HEIGHT) / 2, width: nodeWidth(node) });
    });
    x += widths[column] + COLUMN_GAP;
  });
  return { positions, width: x - COLUMN_GAP + MARGIN + 60, height };
}

function edgePath(from, to) {
  const startY = from.y + NODE_HEIGHT / 2;
  const endY = to.y + NODE_HEIGHT / 2;
  if (to.x > from.x) {
    const startX = from.x + from.width;
    const bend = (to.x - startX) / 2;
    return `M${startX},${startY} C${startX + bend},${startY} ${to.x - bend},${endY} ${to.x},${endY}`;
  }
  // same column or backwards: leave from the right side and come back into the target's right side
  const startX = from.x + from.width;
  const endX = to.x + to.width;
  const reach = Math.max(startX, endX) + 50;
  return `M${startX},${startY} C${reach},${startY} ${reach},${endY} ${endX},${endY}`;
}

// nodes: [{id, label, layer, kind, title}], edges: [{from, to, weight, label}]; onSelect(node) on click.
export function layeredGraph({ nodes, edges, title, description, onSelect }) {
  const { positions, width, height } = place(nodes);
  const heaviest = Math.max(1, ...edges.map((edge) => edge.weight || 1));
  const chart = svg("svg", {
    class: "graph",
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "group",
    "aria-label": title,
  });
  chart.append(
    svg("title", { text: title }),
    svg("desc", { text: description || "" }),
    svg(
      "defs",
      {},
      svg(
        "marker",
        { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 9, markerHeight: 9, markerUnits: "userSpaceOnUse", orient: "auto" },
        svg("path", { d: "M0,0 L10,5 L0,10 z", class: "arrow-head" }),
      ),
    ),
  );
  for (const edge of edges) {
    const from = positions.get(edge.from);
    const to = positions.get(edge.to);
    if (!from || !to) continue;
    const strokeWidth = 1 + 5 * Math.log1p(edge.weight || 1) / Math.log1p(heaviest);
    const forward = to.x > from.x;
    chart.append(
      svg(
        "path",
        { class: forward ? "edge" : "edge edge-back", d: edgePath(from, to), "stroke-width": strokeWidth.toFixed(1), "marker-end": "url(#arrow)" },
        svg("title", { text: edge.label || `${edge.from} -> ${edge.to}` }),
      ),
    );
  }
  for (const node of nodes) {
    const at = positions.get(node.id);
    const group = svg(
      "g",
      { class: `node node-${node.kind || "default"}`, transform: `translate(${at.x},${at.y})`, "data-id": node.id },
      svg("rect", { width: at.width, height: NODE_HEIGHT, rx: 6 }),
      svg("text", { x: at.width / 2, y: NODE_HEIGHT / 2 + 4, "text-anchor": "middle", text: node.label }),
      svg("title", { text: node.title || node.label }),
    );
    if (onSelect) asButton(group, node.title || node.label, () => onSelect(node));
    chart.append(group);
  }
  return chart;
}
