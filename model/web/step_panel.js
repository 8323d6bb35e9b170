// The step panel, drawn in the browser: gr.HTML's js_on_load (element, props, watch) in app.py.
//
// props.value is handlers.browser_view() as JSON text: the heatmap (in pieces and in words) and the coverage chart
// as plotly figures built by model/plots.py, and the step panel's data (handlers.panel_data: the /translate answer,
// docs/page.md, with each step's story). This script draws the two figures into the plot elements that gr.Plot
// made at page load, once per translation, and the panel. Every step's numbers arrive once per translation, so
// moving the step slider, or switching the heatmap between pieces and words, redraws here with no server round
// trip. The panel also keeps the heatmap's "selected step" outline (plots.step_highlight) on the chosen step, and a
// click on a heatmap row chooses that step. Text that comes from the user or the model goes in as textContent only
// (the figures' labels are escaped by plots.py, and plotly draws them as SVG text).

const HEATMAP = "#attention-plot";
const COVERAGE = "#coverage-plot";
const MERGE = "#merge input[type=checkbox]"; // "Merge pieces into words"
const SELECTED_STEP = "selected step"; // plots.SELECTED_STEP: the heatmap shape that outlines a row
const CELL = 6; // px per number in a vector strip
const POSITIVE = "249,115,22"; // orange, as the heatmap
const NEGATIVE = "59,130,246"; // blue

let step = 0;
let view = null; // props.value parsed, once per translation
let data = null; // view.panel: what the panel draws (null: nothing translated)

function make(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function percent(value) {
  return value >= 0.01 ? `${(100 * value).toFixed(0)}%` : `${(100 * value).toFixed(1)}%`;
}

function range(values, digits) {
  return `${Math.min(...values).toFixed(digits)} to ${Math.max(...values).toFixed(digits)}`;
}

// --- the fixed frame: step chooser, story, five cards, the API answer -------------------------------------

const root = element.querySelector(".sp") || element;
const chooser = make("div", "sp-chooser");
chooser.id = "step";
const heading = make("div", "sp-heading");
const label = make("span", "sp-label", "Output step ");
const controls = make("div", "sp-controls");
const previous = make("button", "sp-nudge", "‹");
const slider = make("input", "sp-slider");
const next = make("button", "sp-nudge", "›");
const position = make("output", "sp-position");
slider.type = "range";
slider.min = "1";
slider.step = "1";
slider.setAttribute("aria-label", "Output step");
previous.setAttribute("aria-label", "Previous step");
next.setAttribute("aria-label", "Next step");
heading.append(label, position);
controls.append(previous, slider, next);
chooser.append(heading, controls);
const search = make("div", "sp-search");
const unit = make("div", "sp-unit");
const story = make("p", "sp-story");
story.id = "step-story";
const cards = make("div", "sp-cards");
const answer = make("details", "sp-answer");
const answerText = make("pre", "sp-json");
answer.append(make("summary", null, "API answer (JSON): what Client(url).predict(text, api_name='/translate') returns"));
answer.append(answerText);
root.replaceChildren(chooser, search, unit, story, cards, answer);

function card(title, note, wide = false) {
  const box = make("section", wide ? "sp-card sp-wide" : "sp-card");
  box.append(make("h4", "sp-title", title));
  if (note) box.append(make("div", "sp-note", note));
  cards.append(box);
  return box;
}

// --- pieces of a card --------------------------------------------------------------------------------------

function chip(text) {
  return make("span", "sp-chip", text);
}

// A vector as rows of small squares: orange positive, blue negative, stronger colour for a larger |value|.
// Painted once every card is in place (paintStrips), so that each canvas is measured at its final width.
const strips = [];

function strip(box, name, values) {
  const caption = make("div", "sp-caption");
  caption.append(make("span", "sp-name", name), make("span", "sp-size", ` ${values.length} numbers, ${range(values, 2)}`));
  const canvas = make("canvas", "sp-strip");
  box.append(caption, canvas);
  strips.push({ canvas, name, values });
}

// Every width is read before any canvas is resized: a read after a resize would lay the page out again.
function paintStrips() {
  const widths = strips.map(({ canvas }) => canvas.clientWidth);
  strips.splice(0).forEach(({ canvas, name, values }, index) => paint(canvas, name, values, widths[index]));
}

function paint(canvas, name, values, measured) {
  const width = Math.max(measured || 600, 120);
  const columns = Math.max(1, Math.min(values.length, Math.floor(width / CELL)));
  const rows = Math.ceil(values.length / columns);
  const scale = window.devicePixelRatio || 1;
  canvas.width = columns * CELL * scale;
  canvas.height = rows * CELL * scale;
  canvas.style.width = `${columns * CELL}px`;
  canvas.style.height = `${rows * CELL}px`;
  const context = canvas.getContext("2d");
  context.scale(scale, scale);
  values.forEach((value, index) => {
    const strength = Math.sqrt(Math.min(1, Math.abs(value))); // sqrt: values of 0.1-0.3 stay visible
    context.fillStyle = `rgba(${value >= 0 ? POSITIVE : NEGATIVE},${0.06 + 0.94 * strength})`;
    context.fillRect((index % columns) * CELL, Math.floor(index / columns) * CELL, CELL - 1, CELL - 1);
  });
  canvas.addEventListener("mousemove", (event) => {
    const box = canvas.getBoundingClientRect();
    const index = Math.floor((event.clientY - box.top) / CELL) * columns + Math.floor((event.clientX - box.left) / CELL);
    canvas.title = index < values.length ? `${name}[${index}] = ${values[index].toFixed(4)}` : "";
  });
}

// A horizontal bar in a table cell: from the middle for signed values, from the left for weights.
function bar(value, limit, signed, colour) {
  const cell = make("td", signed ? "sp-bar sp-signed" : "sp-bar");
  const fill = make("span", "sp-fill");
  const share = Math.min(1, Math.abs(value) / (limit || 1));
  fill.style.width = `${(signed ? 50 : 100) * share}%`;
  if (signed) fill.style[value >= 0 ? "left" : "right"] = "50%";
  fill.style.background = `rgb(${colour || (value >= 0 ? POSITIVE : NEGATIVE)})`;
  cell.append(fill);
  return cell;
}

function row(cells) {
  const line = make("tr");
  cells.forEach((cell) => line.append(typeof cell === "object" ? cell : make("td", null, cell)));
  return line;
}

// --- the five cards of one step ----------------------------------------------------------------------------

function decoderCard(detail, index) {
  const box = card("1 · Decoder state", "The piece written one step before goes in; the LSTM updates its state h.");
  const fed = make("div", "sp-line");
  fed.append(make("span", null, index === 0 ? "fed the start marker " : "fed "), chip(detail.fed));
  box.append(fed);
  strip(box, "h", detail.state);
}

function attentionCard(data, detail) {
  const result = data.answer;
  const source = result.source_tokens;
  const cosine = detail.similarity !== null && result.temperature !== null;
  const scoreName = cosine ? "score = T × cosine" : `${result.score_function} score`;
  const note = cosine
    ? `Cosine similarity of h with each English piece's key (−1 to 1), times the learned temperature ` +
      `T = ${result.temperature.toFixed(1)}, gives the scores; softmax turns them into weights that sum to 100%.`
    : `The ${result.score_function} score of h against each English piece; softmax turns the scores into weights ` +
      `that sum to 100%.`;
  const box = card("2 · Attention", note, true);
  const table = make("table", "sp-table");
  const head = ["English piece", ...(cosine ? ["cosine", ""] : []), scoreName, "weight", ""];
  table.append(row(head.map((text) => make("th", null, text))));
  const strongest = detail.attention.indexOf(Math.max(...detail.attention));
  const largestScore = Math.max(...detail.scores.map(Math.abs));
  source.forEach((piece, i) => {
    const cells = [make("td", "sp-piece", piece)];
    if (cosine) cells.push(make("td", "sp-number", detail.similarity[i].toFixed(2)), bar(detail.similarity[i], 1, true));
    cells.push(make("td", "sp-number", detail.scores[i].toFixed(cosine ? 1 : 2)));
    cells.push(make("td", "sp-number", percent(detail.attention[i])), bar(detail.attention[i], 1, false));
    const line = row(cells);
    if (i === strongest) line.className = "sp-strongest";
    table.append(line);
  });
  const scroll = make("div", "sp-scroll");
  scroll.append(table);
  box.append(scroll);
  if (source[strongest] === "</s>") {
    box.append(make("div", "sp-note", "Most weight parks on </s>: nothing in the English is new for this piece " +
      "(see “What is </s>?” under the heatmap)."));
  }
}

function contextCard(detail) {
  const box = card("3 · Context", "c = Σ weightᵢ × encoderᵢ: the encoder outputs mixed by the attention weights.");
  strip(box, "c", detail.context);
}

function combinedCard(detail, attends) {
  const note = attends ? "tanh(W·[h; c]): the state and the context combined." : "No attention: tanh(W·h).";
  const box = card(attends ? "4 · Combined" : "2 · Combined", note);
  strip(box, "tanh(W[h; c])", detail.combined);
}

function nextPieceCard(data, detail, index, attends) {
  const result = data.answer;
  const box = card(`${attends ? 5 : 3} · Next piece`, `A fully connected layer scores the ${data.vocabulary.toLocaleString("en")} ` +
    "pieces it can write; softmax makes them probabilities. The top 5:");
  const table = make("table", "sp-table sp-top");
  detail.top.forEach((candidate, rank) => {
    const line = row([make("td", "sp-piece", candidate.token), make("td", "sp-number", percent(candidate.probability)),
      bar(candidate.probability, 1, false, "16,185,129"), make("td", "sp-mark", rank === detail.written_rank ? "✓ written" : "")]);
    if (rank === detail.written_rank) line.className = "sp-strongest";
    table.append(line);
  });
  box.append(table);
  if (detail.written_rank < 0) {
    const line = make("div", "sp-line");
    line.append(make("span", null, "written: "), chip(detail.written), make("span", null, " (not among the top 5)"));
    box.append(line);
  }
  if (detail.beam_note) box.append(make("div", "sp-note sp-beam", detail.beam_note));
  if (index === result.target_tokens.length - 1) {
    const ending = result.stop_reason === "length"
      ? `The length limit (${result.search.max_length} pieces) stopped decoding here, before the model wrote </s>.`
      : "The model wrote </s>, the end-of-sentence marker: the translation is complete.";
    box.append(make("div", "sp-end", ending));
  }
}

// --- drawing a step ----------------------------------------------------------------------------------------

function searchLine(result) {
  const kind = result.search.decoding === "beam" ? `beam search, beam ${result.search.beam_size}` : "greedy search";
  return `Shown: ${kind}, at most ${result.search.max_length} pieces (${result.score_function} attention).`;
}

function draw() {
  cards.replaceChildren();
  strips.length = 0;
  const steps = data ? data.answer.target_tokens.length : 0;
  chooser.hidden = search.hidden = answer.hidden = steps === 0;
  if (steps === 0) {
    story.textContent = "Translate a sentence to step through its decoding.";
    unit.textContent = "";
    return;
  }
  step = Math.min(Math.max(step, 0), steps - 1);
  slider.max = String(steps);
  slider.value = String(step + 1);
  slider.disabled = previous.disabled = next.disabled = steps < 2;
  position.textContent = `${step + 1} of ${steps}: “${data.answer.target_tokens[step]}”`;
  search.textContent = searchLine(data.answer);
  story.textContent = data.stories[step];
  const detail = data.answer.step_details[step];
  const attends = detail.attention !== null;
  decoderCard(detail, step);
  if (attends) {
    attentionCard(data, detail);
    contextCard(detail);
  }
  combinedCard(detail, attends);
  nextPieceCard(data, detail, step, attends);
  paintStrips();
  if (answer.open) answerText.textContent = JSON.stringify(data.answer, null, 1);
  followHeatmap();
}

function choose(index) {
  if (index === step) return;
  step = index;
  draw();
}

// --- the two charts: drawn here, not by gr.Plot ------------------------------------------------------------

// gr.Plot mounts a new plot element for every new figure and draws it there twice; drawing into the element it
// made at page load takes one Plotly.react, which also reuses the plot's SVG structure.
function plotElement(container) {
  return document.querySelector(`${container} [data-testid="plotly"]`);
}

function merged() {
  const box = document.querySelector(MERGE);
  return Boolean(box && box.checked);
}

// -> false while plotly.js or gr.Plot's element is not there yet (just after the page opened): drawCharts
// then tries again.
function drawChart(container, figure) {
  const plot = plotElement(container);
  if (!plot || !window.Plotly) return false;
  if (plot.data !== figure.data) window.Plotly.react(plot, figure.data, figure.layout, figure.config);
  return true;
}

let chartsPending = false;
function drawCharts() {
  if (!view || chartsPending) return;
  const heatmapDrawn = drawChart(HEATMAP, merged() ? view.heatmap_words : view.heatmap_pieces);
  const coverageDrawn = drawChart(COVERAGE, view.coverage);
  if (heatmapDrawn && coverageDrawn) return;
  chartsPending = true;
  setTimeout(() => {
    chartsPending = false;
    drawCharts();
  }, 50);
}

// --- the heatmap: outline the chosen step's row, choose a step by clicking a row ---------------------------

function heatmap() {
  const plot = document.querySelector(`${HEATMAP} .js-plotly-plot`);
  const trace = plot && plot.data && plot.data[0];
  return trace && trace.type === "heatmap" ? plot : null;
}

// Heatmap rows are pieces, or words when "Merge pieces into words" is on: data.word_row maps a step to its word.
// The rows are counted by the y axis's ticks (one per row): z may arrive as a typed array, not a list of rows.
function inWords(plot, data) {
  const ticks = (plot.layout.yaxis && plot.layout.yaxis.tickvals) || [];
  return ticks.length !== data.answer.target_tokens.length;
}

function followHeatmap() {
  const plot = heatmap();
  if (!data || !plot || !window.Plotly) return;
  if (plot.__stepPanelClick !== onHeatmapClick) {
    plot.on("plotly_click", onHeatmapClick);
    plot.__stepPanelClick = onHeatmapClick;
  }
  const words = inWords(plot, data);
  const row = words ? data.word_row[step] : step;
  unit.textContent = words
    ? `Steps count pieces; the heatmap shows words: piece ${step + 1} is part of its row ${row + 1}, ` +
      `“${data.words[row]}”.`
    : "";
  const shapes = (plot.layout && plot.layout.shapes) || [];
  const index = shapes.findIndex((shape) => shape.name === SELECTED_STEP);
  if (index < 0 || (shapes[index].y0 === row - 0.5 && shapes[index].visible !== false)) return;
  moveOutline(plot, index, row);
}

// Plotly.relayout would recalculate the whole heatmap for a moved shape (its y0/y1 are "calc" edits: 100-250 ms
// on a busy 2-core machine); the outline's own SVG path is moved instead, and the figure's layout updated to
// match, so plotly's next redraw (a resize) draws it in the same place. Falls back to relayout if plotly's
// internals are not as expected.
function moveOutline(plot, index, row) {
  const shape = plot.layout.shapes[index];
  const drawn = plot._fullLayout && plot._fullLayout.shapes && plot._fullLayout.shapes[index];
  const path = plot.querySelector(`.shapelayer path[data-index="${index}"]`);
  const xaxis = plot._fullLayout && plot._fullLayout.xaxis;
  const yaxis = plot._fullLayout && plot._fullLayout.yaxis;
  if (!drawn || !path || !xaxis || !yaxis || !xaxis.l2p || !yaxis.l2p || shape.visible === false) {
    window.Plotly.relayout(plot, {
      [`shapes[${index}].y0`]: row - 0.5,
      [`shapes[${index}].y1`]: row + 0.5,
      [`shapes[${index}].visible`]: true,
    });
    return;
  }
  for (const target of [shape, drawn]) {
    target.y0 = row - 0.5;
    target.y1 = row + 0.5;
  }
  const x0 = xaxis._offset + xaxis.l2p(shape.x0);
  const x1 = xaxis._offset + xaxis.l2p(shape.x1);
  const y0 = yaxis._offset + yaxis.l2p(shape.y0);
  const y1 = yaxis._offset + yaxis.l2p(shape.y1);
  path.setAttribute("d", `M${x0},${y0}H${x1}V${y1}H${x0}Z`);
}

function onHeatmapClick(event) {
  const point = event && event.points && event.points[0];
  const plot = heatmap();
  if (!data || !point || !plot) return;
  const row = Math.round(point.y);
  choose(inWords(plot, data) ? Math.max(0, data.word_row.indexOf(row)) : row);
}

// If Gradio draws a plot element afresh (its own first figure, after this script drew), draw this translation's
// figure again; then follow the heatmap (its outline, its click handler).
let pending = false;
function watchCharts() {
  const containers = [HEATMAP, COVERAGE].map((selector) => document.querySelector(selector));
  if (containers.includes(null)) return setTimeout(watchCharts, 200);
  const observer = new MutationObserver(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      drawCharts();
      followHeatmap();
    });
  });
  containers.forEach((container) => observer.observe(container, { childList: true, subtree: true }));
}

// --- events ------------------------------------------------------------------------------------------------

slider.addEventListener("input", () => choose(Number(slider.value) - 1));
previous.addEventListener("click", () => choose(Math.max(0, step - 1)));
next.addEventListener("click", () => choose(step + 1));
answer.addEventListener("toggle", () => {
  if (answer.open && data) answerText.textContent = JSON.stringify(data.answer, null, 1);
});
document.addEventListener("change", (event) => {
  if (!event.target.matches || !event.target.matches(MERGE)) return;
  drawCharts();
  followHeatmap();
});

// --- reading the view, once per translation ----------------------------------------------------------------

// handlers.packed_steps: each step's long vectors arrive as base64 text of little-endian int16, value × 10^4;
// unpacked here to the very numbers of the /translate answer (which rounds them to 4 decimals).
const PACKED_VECTORS = ["state", "context", "combined"];
const PACKING_SCALE = 10000;

function unpack(vector) {
  if (typeof vector !== "string") return vector;
  const text = atob(vector);
  const bytes = new DataView(new ArrayBuffer(text.length));
  for (let i = 0; i < text.length; i++) bytes.setUint8(i, text.charCodeAt(i));
  const values = new Array(text.length / 2);
  for (let i = 0; i < values.length; i++) values[i] = bytes.getInt16(2 * i, true) / PACKING_SCALE;
  return values;
}

function read() {
  view = props.value ? JSON.parse(props.value) : null;
  data = view && view.panel;
  const details = (data && data.answer.step_details) || [];
  details.forEach((detail) => PACKED_VECTORS.forEach((name) => (detail[name] = unpack(detail[name]))));
}

watch("value", () => {
  read();
  step = 0;
  drawCharts();
  draw();
});
watchCharts();
read();
drawCharts();
draw();
