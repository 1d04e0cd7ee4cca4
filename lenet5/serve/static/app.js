// lenet5 serve: draw with mouse, pen or finger (pointer events); the answer updates while drawing.
// One request in flight at a time: strokes made meanwhile are sent when it returns, so the
// page never queues stale drawings. body[data-busy] and body[data-updates] tell tests when it is idle.
"use strict";

const LAYERS = [
  ["C1", "6 maps, 28x28"],
  ["S2", "6 maps, 14x14"],
  ["C3", "16 maps, 10x10"],
  ["S4", "16 maps, 5x5"],
];
const STROKE = 20; // pen width in canvas pixels (280 wide): about an MNIST stroke once fitted into 20x20

const $ = (id) => document.getElementById(id);
const pad = $("pad");
const ctx = pad.getContext("2d");
const state = { drawing: false, last: null, inked: false, busy: false, dirty: false, generation: 0, updates: 0, latencies: [] };
window.lenet5 = state; // for the console and the browser tests: latencies holds the last 200 updates' ms

function blank() {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, pad.width, pad.height);
  state.inked = false;
  state.generation += 1; // answers to earlier drawings are dropped
  $("digit").textContent = "\u00a0";
  $("confidence").textContent = "";
  setStatus("Draw a digit in the box.");
}

function point(event) {
  const box = pad.getBoundingClientRect();
  return [(event.clientX - box.left) * (pad.width / box.width), (event.clientY - box.top) * (pad.height / box.height)];
}

function line(from, to) {
  ctx.strokeStyle = "#000";
  ctx.lineWidth = STROKE;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.beginPath();
  ctx.moveTo(from[0], from[1]);
  ctx.lineTo(to[0], to[1]);
  ctx.stroke();
  state.inked = true;
  update();
}

pad.addEventListener("pointerdown", (event) => {
  event.preventDefault();
  try { pad.setPointerCapture(event.pointerId); } catch { /* a synthetic pointer has nothing to capture */ }
  state.drawing = true;
  state.last = point(event);
  line(state.last, state.last);
});
pad.addEventListener("pointermove", (event) => {
  if (!state.drawing) return;
  const here = point(event);
  line(state.last, here);
  state.last = here;
});
for (const type of ["pointerup", "pointercancel"]) {
  pad.addEventListener(type, () => { state.drawing = false; });
}
$("clear").addEventListener("click", blank);
$("model").addEventListener("change", update);

function update() {
  if (!state.inked) return;
  if (state.busy) { state.dirty = true; return; }
  send();
}

function setBusy(busy) {
  state.busy = busy;
  document.body.dataset.busy = busy ? "1" : "0";
}

async function send() {
  setBusy(true);
  state.dirty = false;
  const generation = state.generation;
  const started = performance.now();
  try {
    const blob = await new Promise((resolve) => pad.toBlob(resolve, "image/png"));
    const form = new FormData();
    form.append("file", blob, "canvas.png");
    const { ok, body } = await post(`/api/predict?maps=1${modelQuery()}`, form);
    if (generation === state.generation) {
      if (ok) {
        showAnswer(body);
        const ms = performance.now() - started;
        $("latency").textContent = `read in ${Math.round(ms)} ms`;
        state.latencies = [...state.latencies.slice(-199), ms];
      } else {
        setStatus(body.error, true);
      }
    }
  } catch (error) {
    setStatus(`no answer from the server (${error})`, true);
  }
  state.updates += 1;
  document.body.dataset.updates = String(state.updates);
  if (state.dirty && state.inked) send();
  else setBusy(false);
}

function modelQuery() {
  const name = $("model").value; // empty until /api/models has answered: the server's default
  return name ? `&model=${encodeURIComponent(name)}` : "";
}

async function post(url, form) {
  const response = await fetch(url, { method: "POST", body: form });
  let body;
  try { body = await response.json(); } catch { body = { error: `HTTP ${response.status}` }; }
  return { ok: response.ok, body };
}

function setStatus(text, error = false) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", error);
}

function showAnswer(body) {
  $("digit").textContent = String(body.digit);
  $("confidence").textContent = `confidence ${body.confidence.toFixed(2)} (margin to the runner-up)`;
  setStatus(`model ${body.model}`);
  showBars(body);
  $("seen").src = body.seen;
  for (const [layer] of LAYERS) $(`map-${layer}`).src = body.maps[layer].image;
}

function showBars(body) {
  const probabilities = body.probabilities;
  const values = probabilities || body.scores;
  $("bars-title").textContent = probabilities ? "probability per digit" : "RBF penalty per digit (smaller wins)";
  const top = Math.max(...values.map(Math.abs)) || 1;
  values.forEach((value, digit) => {
    const row = $(`bar-${digit}`);
    row.classList.toggle("win", digit === body.digit);
    row.querySelector(".fill").style.width = `${(100 * Math.abs(value)) / top}%`;
    row.querySelector(".value").textContent = probabilities ? `${(100 * value).toFixed(1)}%` : value.toFixed(1);
  });
}

function buildBars() {
  const bars = $("bars");
  for (let digit = 0; digit < 10; digit++) {
    const row = document.createElement("div");
    row.className = "bar";
    row.id = `bar-${digit}`;
    row.innerHTML = `<span>${digit}</span><span class="track"><span class="fill" style="display:block"></span></span><span class="value"></span>`;
    bars.appendChild(row);
  }
}

function buildMaps() {
  for (const [layer, text] of LAYERS) {
    const block = document.createElement("figure");
    block.className = "layer";
    const title = document.createElement("figcaption");
    title.textContent = `${layer}: ${text}`;
    const image = document.createElement("img"); // one picture per layer: its maps side by side
    image.id = `map-${layer}`;
    image.alt = `the ${text.split(",")[0]} of ${layer}`;
    block.append(title, image);
    $("maps").appendChild(block);
  }
}

async function loadModels() {
  const response = await fetch("/api/models");
  const body = await response.json();
  const select = $("model");
  for (const model of body.models) {
    const option = document.createElement("option");
    option.value = model.name;
    const error = model.test_error == null ? "" : `, ${(100 * model.test_error).toFixed(2)}% MNIST error`;
    option.textContent = `${model.name} (${model.head}${error})`;
    option.selected = model.name === body.default;
    select.appendChild(option);
  }
}

// --- a photo of one digit, or of a whole amount ----------------------------------------------

$("file").addEventListener("change", async () => {
  const file = $("file").files[0];
  if (!file) return;
  const amount = document.querySelector("input[name=mode]:checked").value === "amount";
  const result = $("photo-result");
  result.textContent = "reading...";
  result.classList.remove("error");
  document.body.dataset.photo = "busy";
  const picture = await showPhoto(file);
  const form = new FormData();
  form.append("file", file, file.name);
  try {
    const { ok, body } = await post(amount ? "/api/read" : `/api/predict?maps=1${modelQuery()}`, form);
    if (!ok) {
      result.textContent = body.error;
      result.classList.add("error");
    } else if (amount) {
      result.textContent = `It reads ${body.number} (confidence ${body.confidence.toFixed(2)}${takenOut(body)})`;
      if (picture) markDigits(picture, body.digits);
    } else {
      result.textContent = `It reads ${body.digit} (confidence ${body.confidence.toFixed(2)}${takenOut(body)})`;
      showAnswer(body); // the bars and maps above now show the photo's digit
    }
  } catch (error) {
    result.textContent = `no answer from the server (${error})`;
    result.classList.add("error");
  }
  document.body.dataset.photo = "done";
});

// ", lines taken out": the printed marks the server took out of the picture before reading it
function takenOut(body) {
  return (body.taken_out || []).map((mark) => `, ${mark} taken out`).join("");
}

async function showPhoto(file) {
  const canvas = $("photo");
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, 560 / bitmap.width, 360 / bitmap.height);
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    return { canvas, scale };
  } catch {
    canvas.width = canvas.height = 0; // the browser cannot show it; the server says why it cannot read it
    return null;
  }
}

function markDigits({ canvas, scale }, digits) {
  const draw = canvas.getContext("2d");
  draw.lineWidth = 2;
  draw.strokeStyle = draw.fillStyle = "#d9480f";
  draw.font = "bold 16px system-ui, sans-serif";
  for (const d of digits) {
    const x = d.x0 * scale;
    const width = (d.x1 - d.x0) * scale;
    draw.strokeRect(x, 1, width, canvas.height - 2);
    draw.fillText(String(d.digit), x + 3, 17);
  }
}

buildBars();
buildMaps();
blank();
loadModels();
