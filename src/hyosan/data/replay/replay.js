/* hyosan replay: draws a school run from the data embedded in this page. No network, no libraries.
 *
 * Frame cost is O(people): every person keeps a cursor on their own trajectory rows, moved forward as
 * time runs (or found again by binary search after a jump back). The building is painted once per floor
 * to an offscreen canvas, and the floors as laid out on screen are cached in a background canvas that is
 * only repainted when the view, a door or the power changes; a frame blits it and draws the dots.
 */
(function () {
  "use strict";

  // Okabe–Ito colours, safe for colour-blind readers.
  const COLOURS = {
    healthy: "#0072B2",
    bitten: "#E69F00",
    zombie: "#D55E00",
    hambie: "#CC79A7",
    dead: "#000000",
    escaped: "#009E73",
    rescued: "#56B4E9",
  };
  const DRAW_ORDER = ["dead", "healthy", "bitten", "hambie", "zombie"]; // later ones on top
  const DOOR_NAMES = ["open", "closed", "locked", "barricaded", "broken"];
  const TILE_COLOURS = {
    wall: "#55524d",
    floor: "#f3efe6",
    dark: "#d3cec4",
    window: "#9cc7e0",
    exit: "#b9e0cb",
    stairs: "#ddd3c2",
    void: null,
  };
  const DOOR_COLOURS = ["#eadbb9", "#8c5a2b", "#6b4220", "#3f2610", "#eadbb9"];
  const SPEEDS = [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
  const GAP = 4; // tiles between floors when all are shown
  const TITLE_ROWS = 3; // tiles above each floor for its name
  const MAX_STEP_S = 0.25; // a frame never advances more than this much real time (after a stall)

  const $ = (id) => document.getElementById(id);
  const data = JSON.parse($("replay-data").textContent);
  if (data.format !== 1) {
    document.body.textContent = "This replay was written by a newer hyosan (format " + data.format + ").";
    return;
  }

  function decode(spec) {
    const text = atob(spec.data);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    const buffer = bytes.buffer;
    switch (spec.dtype) {
      case "uint8": return bytes;
      case "uint16": return new Uint16Array(buffer);
      case "uint32": return new Uint32Array(buffer);
      case "int16": return new Int16Array(buffer);
      case "int32": return new Int32Array(buffer);
      case "float32": return new Float32Array(buffer);
      case "float64": return new Float64Array(buffer);
      default: throw new Error("unknown dtype " + spec.dtype);
    }
  }

  // --- the run ----------------------------------------------------------------------------------------

  const STATES = data.states;
  const ESCAPED = STATES.indexOf("escaped");
  const RESCUED = STATES.indexOf("rescued");
  const world = data.world;
  const FLOORS = world.floors;
  const NF = FLOORS.length;
  const ROWS = world.rows;
  const COLS = world.cols;
  const rooms = world.rooms;
  const roomGrid = decode(world.room_grid);
  const people = data.people;
  const N = people.name.length;
  const tr = {};
  for (const key of ["start", "time", "floor", "row", "col", "state"]) tr[key] = decode(data.tracks[key]);
  const frameEvery = data.frame_every_s || 10;
  const strings = data.strings;
  const ev = data.events;
  const nEvents = ev.time.length;
  const kindOf = ev.kind.map((k) => (k >= 0 ? data.event_kinds[k] : ""));
  const doors = {
    floor: decode(data.doors.floor), row: decode(data.doors.row), col: decode(data.doors.col),
    initial: decode(data.doors.state),
  };
  const doorChanges = {
    time: decode(data.door_changes.time), door: decode(data.door_changes.door), state: decode(data.door_changes.state),
  };
  const series = { time: decode(data.series.time), counts: {} };
  for (const s of STATES) if (data.series.counts[s]) series.counts[s] = decode(data.series.counts[s]);
  const knotT = data.timeline.t;
  const knotU = data.timeline.u;
  const U_MAX = knotU[knotU.length - 1];

  // Each person's events (as actor or as the other party), in time order.
  const eventsOf = Array.from({ length: N }, () => []);
  for (let e = 0; e < nEvents; e++) {
    const a = ev.person[e];
    const b = ev.other[e];
    if (a >= 0 && a < N) eventsOf[a].push(e);
    if (b >= 0 && b < N && b !== a) eventsOf[b].push(e);
  }
  // World events that change the look of the school: power, sealed exits, a waiting rescue.
  const worldEvents = [];
  for (let e = 0; e < nEvents; e++) {
    const k = kindOf[e];
    if (["power_cut", "power_on", "seal", "close_exits", "open_exits", "rescue_arrives", "rescue_leaves"].includes(k)) {
      worldEvents.push(e);
    }
  }

  // Small fixed offsets so that people sharing a tile do not hide each other.
  const jitterX = new Float32Array(N);
  const jitterY = new Float32Array(N);
  for (let p = 0; p < N; p++) {
    jitterX[p] = (((p * 0.6180339887) % 1) - 0.5) * 0.5;
    jitterY[p] = (((p * 0.7548776662) % 1) - 0.5) * 0.5;
  }

  // --- time ---------------------------------------------------------------------------------------------

  let t = 0; // simulated seconds
  let u = 0; // slider position (quiet stretches shrink)
  let playing = false;
  let speed = 60;

  function segment(knots, x) {
    let lo = 0;
    let hi = knots.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (knots[mid] <= x) lo = mid; else hi = mid - 1;
    }
    return Math.max(0, lo);
  }
  function timeAt(pos) {
    if (knotT.length < 2) return pos;
    const i = segment(knotU, pos);
    const du = knotU[i + 1] - knotU[i];
    const dt = knotT[i + 1] - knotT[i];
    return du === dt ? knotT[i] + (pos - knotU[i]) : knotT[i] + ((pos - knotU[i]) * dt) / du;
  }
  function positionAt(time) {
    if (knotT.length < 2) return time;
    const i = segment(knotT, time);
    const du = knotU[i + 1] - knotU[i];
    const dt = knotT[i + 1] - knotT[i];
    return du === dt ? knotU[i] + (time - knotT[i]) : knotU[i] + ((time - knotT[i]) * du) / dt;
  }
  function quietHere() {
    const i = segment(knotT, t);
    const dt = knotT[i + 1] - knotT[i];
    const du = knotU[i + 1] - knotU[i];
    return dt > du * 1.5 ? dt : 0;
  }

  const pad = (n) => String(n).padStart(2, "0");
  function elapsed(s) {
    s = Math.max(0, Math.floor(s + 1e-6));
    return pad(Math.floor(s / 3600)) + ":" + pad(Math.floor((s % 3600) / 60)) + ":" + pad(s % 60);
  }
  function clock(s) {
    if (data.start_clock_s === null || data.start_clock_s === undefined) return "T+" + elapsed(s);
    const total = Math.floor(data.start_clock_s + s + 1e-6);
    const day = Math.floor(total / 86400) + 1;
    const rest = total % 86400;
    return "day " + day + " " + pad(Math.floor(rest / 3600)) + ":" + pad(Math.floor((rest % 3600) / 60)) + ":" + pad(rest % 60);
  }
  function duration(s) {
    return s >= 7200 ? Math.round(s / 3600) + " h" : Math.round(s / 60) + " min";
  }

  // --- where everyone is --------------------------------------------------------------------------------

  const cursor = new Int32Array(N); // index of each person's last row at or before t (their first row before that)
  let cursorTime = -Infinity;
  const posF = new Int32Array(N);
  const posX = new Float32Array(N);
  const posY = new Float32Array(N);
  const stateNow = new Int16Array(N);
  const onMap = new Uint8Array(N);
  const screenX = new Float32Array(N);
  const screenY = new Float32Array(N);
  const shownNow = new Uint8Array(N);
  const counts = new Int32Array(STATES.length);

  function seekCursors(time) {
    const { start, time: rowTime } = tr;
    for (let p = 0; p < N; p++) {
      const a = start[p];
      const b = start[p + 1];
      if (a === b) { cursor[p] = -1; continue; }
      if (rowTime[a] > time) { cursor[p] = a; continue; }
      let lo = a;
      let hi = b - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (rowTime[mid] <= time) lo = mid; else hi = mid - 1;
      }
      cursor[p] = lo;
    }
  }
  function stepCursors(time) {
    const { start, time: rowTime } = tr;
    for (let p = 0; p < N; p++) {
      let i = cursor[p];
      if (i < 0) continue;
      const last = start[p + 1] - 1;
      while (i < last && rowTime[i + 1] <= time) i++;
      cursor[p] = i;
    }
  }
  function place(time) {
    if (time < cursorTime || time - cursorTime > 3600) seekCursors(time); else stepCursors(time);
    cursorTime = time;
    const { start, time: rowTime, floor, row, col, state } = tr;
    counts.fill(0);
    for (let p = 0; p < N; p++) {
      const i = cursor[p];
      if (i < 0) { onMap[p] = 0; stateNow[p] = -1; continue; }
      const s = state[i];
      stateNow[p] = s;
      counts[s]++;
      if (s === ESCAPED || s === RESCUED) { onMap[p] = 0; continue; }
      const f = floor[i];
      let x = col[i];
      let y = row[i];
      const j = i + 1;
      // Rows are sampled every few seconds: glide over the last interval before the next row.
      if (j < start[p + 1] && time >= rowTime[i] && floor[j] === f) {
        const w = Math.min(frameEvery, rowTime[j] - rowTime[i]);
        const k = (time - (rowTime[j] - w)) / w;
        if (k > 0) { x += (col[j] - x) * k; y += (row[j] - y) * k; }
      }
      onMap[p] = 1;
      posF[p] = f;
      posX[p] = x;
      posY[p] = y;
    }
  }

  let doorState = new Uint8Array(doors.initial);
  let doorCursor = 0; // door changes applied so far
  let doorsChanged = [];
  function applyDoors(time) {
    const n = doorChanges.time.length;
    if (doorCursor > 0 && doorChanges.time[doorCursor - 1] > time) {
      doorState = new Uint8Array(doors.initial);
      doorCursor = 0;
      doorsChanged = null; // repaint every door
    }
    while (doorCursor < n && doorChanges.time[doorCursor] <= time) {
      const d = doorChanges.door[doorCursor];
      if (doorState[d] !== doorChanges.state[doorCursor]) {
        doorState[d] = doorChanges.state[doorCursor];
        if (doorsChanged) doorsChanged.push(d);
      }
      doorCursor++;
    }
  }

  function worldStatus(time) {
    let power = true;
    let sealed = false;
    let rescue = "";
    for (const e of worldEvents) {
      if (ev.time[e] > time) break;
      const k = kindOf[e];
      if (k === "power_cut") power = false;
      else if (k === "power_on") power = true;
      else if (k === "seal" || k === "close_exits") sealed = true;
      else if (k === "open_exits") sealed = false;
      else if (k === "rescue_arrives") rescue = ev.room[e] >= 0 ? strings[ev.room[e]] : "the school";
      else if (k === "rescue_leaves") rescue = "";
    }
    return { power, sealed, rescue };
  }

  // --- the building, painted once per floor -------------------------------------------------------------

  // Pixels per tile offscreen: sharp when zoomed in, within a memory budget of about 12 Mpx for all floors.
  const TP = Math.max(4, Math.min(32, Math.floor(4096 / Math.max(1, COLS)),
    Math.floor(Math.sqrt(12e6 / Math.max(1, NF * ROWS * COLS)))));
  const floorCanvas = [];

  function tileKind(code, lit) {
    if (code === 35) return "wall"; // #
    if (code === 46) return lit ? "floor" : "dark"; // .
    if (code === 61) return "window"; // =
    if (code === 62) return "exit"; // >
    if (code >= 48 && code <= 57) return "stairs";
    if (code === 47 || code === 43 || code === 38 || code === 37) return "door";
    return "void";
  }
  function hexRGB(hex) {
    return [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)];
  }
  const TILE_RGB = {};
  for (const k of Object.keys(TILE_COLOURS)) TILE_RGB[k] = TILE_COLOURS[k] ? hexRGB(TILE_COLOURS[k]) : null;

  function paintFloors() {
    for (let f = 0; f < NF; f++) {
      const map = world.maps[f];
      const small = document.createElement("canvas");
      small.width = COLS;
      small.height = ROWS;
      const sctx = small.getContext("2d");
      const img = sctx.createImageData(COLS, ROWS);
      for (let y = 0; y < ROWS; y++) {
        for (let x = 0; x < COLS; x++) {
          const cell = y * COLS + x;
          const room = roomGrid[f * ROWS * COLS + cell] - 1;
          const kind = tileKind(map.charCodeAt(cell), room < 0 || rooms[room].light);
          const rgb = kind === "door" ? TILE_RGB.floor : TILE_RGB[kind];
          if (!rgb) continue;
          img.data.set([rgb[0], rgb[1], rgb[2], 255], cell * 4);
        }
      }
      sctx.putImageData(img, 0, 0);
      const big = document.createElement("canvas");
      big.width = COLS * TP;
      big.height = ROWS * TP;
      const ctx = big.getContext("2d");
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(small, 0, 0, big.width, big.height);
      // Stairs hatching and exits' frames, then room names.
      ctx.lineWidth = Math.max(1, TP / 8);
      for (let y = 0; y < ROWS; y++) {
        for (let x = 0; x < COLS; x++) {
          const code = map.charCodeAt(y * COLS + x);
          if (code >= 48 && code <= 57) {
            ctx.strokeStyle = "rgba(90, 80, 60, 0.45)";
            ctx.beginPath();
            for (let k = 1; k < 4; k++) {
              ctx.moveTo(x * TP, y * TP + (k * TP) / 4);
              ctx.lineTo((x + 1) * TP, y * TP + (k * TP) / 4);
            }
            ctx.stroke();
          } else if (code === 62) {
            ctx.strokeStyle = "#009E73";
            ctx.strokeRect(x * TP + 1, y * TP + 1, TP - 2, TP - 2);
          }
        }
      }
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillStyle = "rgba(60, 60, 60, 0.65)";
      const font = Math.max(7, TP * 0.9);
      ctx.font = font + "px system-ui, sans-serif";
      for (const room of rooms) {
        if (room.floor !== f || room.width < 3) continue;
        ctx.fillText(room.name, room.label_col * TP, room.label_row * TP, room.width * TP - 4);
      }
      floorCanvas.push(big);
    }
    for (let d = 0; d < doorState.length; d++) paintDoor(d);
  }

  function paintDoor(d) {
    const ctx = floorCanvas[doors.floor[d]].getContext("2d");
    const x = doors.col[d] * TP;
    const y = doors.row[d] * TP;
    const s = doorState[d];
    ctx.fillStyle = DOOR_COLOURS[s];
    ctx.fillRect(x, y, TP, TP);
    ctx.lineWidth = Math.max(1, TP / 6);
    if (s === 2) { // locked: a keyhole
      ctx.fillStyle = "#f3efe6";
      ctx.fillRect(x + TP * 0.4, y + TP * 0.3, TP * 0.2, TP * 0.4);
    } else if (s === 3) { // barricaded: crossed planks
      ctx.strokeStyle = "#c9a66b";
      ctx.beginPath();
      ctx.moveTo(x, y); ctx.lineTo(x + TP, y + TP);
      ctx.moveTo(x + TP, y); ctx.lineTo(x, y + TP);
      ctx.stroke();
    } else if (s === 4) { // broken: a splintered slash
      ctx.strokeStyle = "#6b4220";
      ctx.beginPath();
      ctx.moveTo(x + TP * 0.15, y + TP * 0.85); ctx.lineTo(x + TP * 0.5, y + TP * 0.4);
      ctx.lineTo(x + TP * 0.6, y + TP * 0.6); ctx.lineTo(x + TP * 0.85, y + TP * 0.15);
      ctx.stroke();
    }
  }

  // --- view: floors laid out on screen, zoom and pan ----------------------------------------------------

  const canvas = $("map");
  const ctx = canvas.getContext("2d", { alpha: false });
  const background = document.createElement("canvas");
  const bctx = background.getContext("2d", { alpha: false });
  let cssW = 1;
  let cssH = 1;
  let dpr = 1;
  let floorChoice = "all";
  let panels = []; // {f, x, y} in tiles
  let boxW = COLS;
  let boxH = ROWS;
  const view = { s: 1, ox: 0, oy: 0, moved: false };
  let backgroundDirty = true;
  let dirty = true;
  let lastStatus = null;

  // Each floor's extent (its non-void tiles), so that a small floor is not drawn with the padding of a big one.
  const extents = world.maps.map((map) => {
    let r0 = ROWS, r1 = 0, c0 = COLS, c1 = 0;
    for (let y = 0; y < ROWS; y++) {
      for (let x = 0; x < COLS; x++) {
        if (map.charCodeAt(y * COLS + x) === 32) continue;
        r0 = Math.min(r0, y); r1 = Math.max(r1, y + 1); c0 = Math.min(c0, x); c1 = Math.max(c1, x + 1);
      }
    }
    return r1 > r0 ? { r0, c0, h: r1 - r0, w: c1 - c0 } : { r0: 0, c0: 0, h: ROWS, w: COLS };
  });

  function layout() {
    const shown = floorChoice === "all" ? [...Array(NF).keys()] : [Number(floorChoice)];
    let best = null;
    for (let nc = 1; nc <= shown.length; nc++) {
      const nr = Math.ceil(shown.length / nc);
      const colW = new Array(nc).fill(0);
      const rowH = new Array(nr).fill(0);
      shown.forEach((f, k) => {
        colW[k % nc] = Math.max(colW[k % nc], extents[f].w);
        rowH[Math.floor(k / nc)] = Math.max(rowH[Math.floor(k / nc)], extents[f].h + TITLE_ROWS);
      });
      const w = colW.reduce((a, b) => a + b, 0) + (nc - 1) * GAP;
      const h = rowH.reduce((a, b) => a + b, 0) + (nr - 1) * GAP;
      const s = Math.min(cssW / w, cssH / h);
      if (best === null || s > best.s) best = { s, nc, w, h, colW, rowH };
    }
    const colX = [0];
    for (const cw of best.colW) colX.push(colX[colX.length - 1] + cw + GAP);
    const rowY = [0];
    for (const rh of best.rowH) rowY.push(rowY[rowY.length - 1] + rh + GAP);
    // A panel's (x, y) is where tile (r0, c0) of its floor goes, in tiles.
    panels = shown.map((f, k) => ({
      f,
      x: colX[k % best.nc] - extents[f].c0,
      y: rowY[Math.floor(k / best.nc)] + TITLE_ROWS - extents[f].r0,
    }));
    boxW = best.w;
    boxH = best.h;
  }
  function fit() {
    layout();
    view.s = Math.min(cssW / boxW, cssH / boxH) * 0.98;
    view.ox = (cssW - boxW * view.s) / 2;
    view.oy = (cssH - boxH * view.s) / 2;
    view.moved = false;
    backgroundDirty = true;
    dirty = true;
  }
  function resize() {
    const rect = canvas.getBoundingClientRect();
    cssW = Math.max(1, rect.width);
    cssH = Math.max(1, rect.height);
    dpr = window.devicePixelRatio || 1;
    canvas.width = background.width = Math.round(cssW * dpr);
    canvas.height = background.height = Math.round(cssH * dpr);
    if (view.moved) { layout(); backgroundDirty = true; dirty = true; } else fit();
    sizeTimeline();
  }

  function paintBackground(status) {
    bctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    bctx.fillStyle = "#fbfaf7";
    bctx.fillRect(0, 0, cssW, cssH);
    const s = view.s;
    bctx.imageSmoothingEnabled = s < TP;
    bctx.textAlign = "left";
    bctx.textBaseline = "bottom";
    bctx.font = "600 " + Math.max(11, Math.min(18, s * 2)) + "px system-ui, sans-serif";
    for (const panel of panels) {
      const e = extents[panel.f];
      const x = view.ox + (panel.x + e.c0) * s;
      const y = view.oy + (panel.y + e.r0) * s;
      bctx.drawImage(floorCanvas[panel.f], e.c0 * TP, e.r0 * TP, e.w * TP, e.h * TP, x, y, e.w * s, e.h * s);
      if (!status.power) {
        bctx.fillStyle = "rgba(10, 15, 40, 0.3)";
        bctx.fillRect(x, y, e.w * s, e.h * s);
      }
      bctx.fillStyle = "#333";
      bctx.fillText(FLOORS[panel.f], x, y - s * 0.4);
    }
  }

  function radius() {
    return Math.max(1.6, Math.min(7, view.s * 0.38));
  }

  function toScreen() {
    const s = view.s;
    const where = new Int32Array(NF).fill(-1);
    panels.forEach((panel, k) => { where[panel.f] = k; });
    for (let p = 0; p < N; p++) {
      if (!onMap[p] || where[posF[p]] < 0) { shownNow[p] = 0; continue; }
      const panel = panels[where[posF[p]]];
      screenX[p] = view.ox + (panel.x + posX[p] + 0.5 + jitterX[p]) * s;
      screenY[p] = view.oy + (panel.y + posY[p] + 0.5 + jitterY[p]) * s;
      shownNow[p] = 1;
    }
  }

  let selected = null;

  function drawDots() {
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(background, 0, 0);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const r = radius();
    const round = r >= 2.5;
    for (const name of DRAW_ORDER) {
      const code = STATES.indexOf(name);
      const rr = name === "dead" ? r * 0.8 : r;
      ctx.fillStyle = COLOURS[name];
      ctx.beginPath();
      for (let p = 0; p < N; p++) {
        if (!shownNow[p] || stateNow[p] !== code) continue;
        if (round) {
          ctx.moveTo(screenX[p] + rr, screenY[p]);
          ctx.arc(screenX[p], screenY[p], rr, 0, 2 * Math.PI);
        } else {
          ctx.rect(screenX[p] - rr, screenY[p] - rr, 2 * rr, 2 * rr);
        }
      }
      ctx.fill();
    }
    // The story's named characters wear a thin dark ring, so they can be found in a crowd.
    if (people.named && r >= 2) {
      ctx.lineWidth = 1;
      ctx.strokeStyle = "#111";
      ctx.beginPath();
      for (let p = 0; p < N; p++) {
        if (!shownNow[p] || !people.named[p]) continue;
        ctx.moveTo(screenX[p] + r + 1.5, screenY[p]);
        ctx.arc(screenX[p], screenY[p], r + 1.5, 0, 2 * Math.PI);
      }
      ctx.stroke();
    }
    if (selected !== null && shownNow[selected]) {
      const x = screenX[selected];
      const y = screenY[selected];
      ctx.lineWidth = 3;
      ctx.strokeStyle = "#fff";
      ctx.beginPath();
      ctx.arc(x, y, r + 4, 0, 2 * Math.PI);
      ctx.stroke();
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = "#111";
      ctx.stroke();
    }
  }

  function personAt(clientX, clientY) {
    const rect = canvas.getBoundingClientRect();
    const mx = clientX - rect.left;
    const my = clientY - rect.top;
    const reach = Math.max(8, radius() + 4);
    let best = null;
    let bestD = reach * reach;
    for (let p = 0; p < N; p++) {
      if (!shownNow[p]) continue;
      const dx = screenX[p] - mx;
      const dy = screenY[p] - my;
      const d = dx * dx + dy * dy;
      if (d <= bestD) { bestD = d; best = p; }
    }
    return best;
  }

  // --- page furniture: counts, clock, status, person panel ----------------------------------------------

  const countCells = {};
  function buildCounts() {
    const list = $("counts");
    for (const name of STATES) {
      const li = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = COLOURS[name] || "#999";
      const label = document.createElement("span");
      label.textContent = name;
      const n = document.createElement("span");
      n.className = "n";
      n.id = "count-" + name;
      n.textContent = "0";
      li.append(swatch, label, n);
      list.append(li);
      countCells[name] = n;
    }
    const legend = $("tile-legend");
    const tiles = [
      ["wall", TILE_COLOURS.wall], ["floor", TILE_COLOURS.floor], ["unlit room", TILE_COLOURS.dark],
      ["window", TILE_COLOURS.window], ["stairs", TILE_COLOURS.stairs], ["exit", TILE_COLOURS.exit],
      ["open door", DOOR_COLOURS[0]], ["closed door", DOOR_COLOURS[1]], ["locked door", DOOR_COLOURS[2]],
      ["barricaded door", DOOR_COLOURS[3]],
    ];
    for (const [name, colour] of tiles) {
      const li = document.createElement("li");
      const box = document.createElement("span");
      box.className = "tile";
      box.style.background = colour;
      li.append(box, document.createTextNode(name));
      legend.append(li);
    }
  }

  function setText(el, text) {
    if (el.textContent !== text) el.textContent = text;
  }

  function updateFurniture(status) {
    setText($("clock"), clock(t));
    setText($("elapsed"), elapsed(t) + " elapsed");
    STATES.forEach((name, k) => setText(countCells[name], String(counts[k])));
    const key = status.power + "|" + status.sealed + "|" + status.rescue;
    if (key !== lastStatus) {
      lastStatus = key;
      const box = $("status");
      box.textContent = "";
      const chips = [];
      if (!status.power) chips.push("power cut");
      if (status.sealed) chips.push("exits sealed");
      if (status.rescue) chips.push("rescue waiting in " + status.rescue);
      for (const text of chips) {
        const chip = document.createElement("span");
        chip.textContent = text;
        box.append(chip);
      }
    }
    const quiet = quietHere();
    const notice = $("notice");
    notice.hidden = !quiet || !playing;
    if (quiet) setText(notice, "quiet stretch of " + duration(quiet) + ": playing fast");
    const slider = $("slider");
    if (document.activeElement !== slider || playing) slider.value = String(u);
    slider.setAttribute("aria-valuetext", clock(t));
    updatePanel();
  }

  const TIE_WORDS = {
    friend: ["friend of", "friend of"],
    best_friend: ["best friend of", "best friend of"],
    crush: ["has a crush on", "is the crush of"],
    rival: ["rival of", "rival of"],
    bully: ["bullies", "bullied by"],
    sibling: ["sibling of", "sibling of"],
    parent: ["parent of", "child of"],
    teacher: ["teaches", "taught by"],
  };
  function tiesOf(p) {
    const lines = [];
    const seen = new Set();
    const ties = data.ties;
    for (let k = 0; k < ties.person.length; k++) {
      let text = null;
      const kind = ties.kind[k];
      const words = TIE_WORDS[kind] || [kind.replace(/_/g, " ") + " of", kind.replace(/_/g, " ") + " of"];
      if (ties.person[k] === p && ties.other[k] < N) text = words[0] + " " + people.name[ties.other[k]];
      else if (ties.other[k] === p && ties.person[k] < N) text = words[1] + " " + people.name[ties.person[k]];
      if (text && !seen.has(text)) { seen.add(text); lines.push(text); }
    }
    return lines;
  }

  function nameOf(id) {
    return id >= 0 && id < N ? people.name[id] : "someone";
  }
  function placeOf(e) {
    if (ev.room[e] >= 0) return "in " + strings[ev.room[e]];
    if (ev.floor[e] >= 0) return "on " + FLOORS[ev.floor[e]];
    return "";
  }
  // One short sentence of person p's story for event e (p is its actor or the other party).
  function sentence(e, p) {
    const kind = kindOf[e];
    const actor = ev.person[e] === p;
    const other = nameOf(actor ? ev.other[e] : ev.person[e]);
    const where = placeOf(e);
    const note = ev.note[e] >= 0 ? strings[ev.note[e]] : "";
    const at = (text) => (where ? text + " " + where : text);
    switch (kind) {
      case "patient_zero": return at("bitten: patient zero") + (note ? ". " + note : "");
      case "bite": return actor ? at("bitten by " + other) : at("bit " + other);
      case "turn": return at("turned into a zombie");
      case "hambie": return at("became a hambie (infected, yet still themselves)");
      case "kill": return actor ? at("stopped " + other + " for good") : at("stopped for good by " + other);
      case "door_open": return at("opened a door");
      case "door_close": return at("shut a door");
      case "barricade": return at("barricaded a door");
      case "breach": return at("broke through a door");
      case "escape": return at("escaped from the school");
      case "rescue": return at("was rescued");
      case "scream": return at("screamed");
      case "panic": return at("panicked and bolted");
      case "freeze": return at("froze in terror");
      case "grief": return actor ? "grieves for " + other : other + " grieves for them";
      case "hambie_found": return actor ? "found out as a hambie by " + other : at("found out that " + other + " is a hambie");
      case "hambie_vote": {
        const verdict = { keep: "keep", restrain: "tie up", expel: "drive out" }[note] || note;
        return actor ? "the group voted to " + verdict + " them" : "the group voted to " + verdict + " " + other;
      }
      case "hold_door": return at("held the door shut");
      case "abandon": return actor ? "left " + other + "'s group" : other + " left the group";
      case "wait": return actor ? at("waited for " + other) : at(other + " waited for them");
      default: return at(kind.replace(/_/g, " "));
    }
  }
  function storyUntil(p, time) {
    const list = eventsOf[p];
    let n = 0;
    while (n < list.length && ev.time[list[n]] <= time) n++;
    return n;
  }

  let panelKey = "";
  function updatePanel() {
    const panel = $("person-panel");
    if (selected === null) {
      if (!panel.hidden) panel.hidden = true;
      panelKey = "";
      return;
    }
    const p = selected;
    const nStory = storyUntil(p, t);
    const key = p + "|" + cursor[p] + "|" + nStory;
    if (key === panelKey) return;
    const fresh = !panelKey.startsWith(p + "|");
    const grew = !fresh && nStory > Number(panelKey.split("|")[2]);
    panelKey = key;
    panel.hidden = false;
    setText($("person-name"), people.name[p]);
    const role = people.role[p] || "—";
    setText($("person-role"), role.charAt(0).toUpperCase() + role.slice(1));
    setText($("person-class"), people.class[p] || "—");
    $("person-name").classList.toggle("named", Boolean(people.named && people.named[p]));
    const s = stateNow[p];
    const stateCell = $("person-state");
    stateCell.textContent = "";
    if (s >= 0) {
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = COLOURS[STATES[s]] || "#999";
      stateCell.append(swatch, document.createTextNode(" " + STATES[s]));
    } else {
      stateCell.textContent = "unknown";
    }
    stateCell.dataset.state = s >= 0 ? STATES[s] : "";
    let where = "—";
    if (s === ESCAPED) where = "out of the school";
    else if (s === RESCUED) where = "taken away by the rescue";
    else if (cursor[p] >= 0) {
      const i = cursor[p];
      const f = tr.floor[i];
      const room = roomGrid[(f * ROWS + tr.row[i]) * COLS + tr.col[i]] - 1;
      const name = room >= 0 ? rooms[room].name : "";
      where = !name ? FLOORS[f] : name.includes(FLOORS[f]) ? name : name + " (" + FLOORS[f] + ")";
    }
    setText($("person-where"), where);
    const fate = people.fate[p];
    let fateText = fate ? fate.replace("_", " ") : "—";
    if (fate && people.fate_time_s[p] !== null) fateText += " at " + elapsed(people.fate_time_s[p]);
    if (fate && people.fate_room[p]) fateText += ", " + people.fate_room[p];
    setText($("person-fate"), fateText);
    if (fresh) {
      const tiesList = $("person-ties");
      tiesList.textContent = "";
      const ties = tiesOf(p);
      for (const text of ties.length ? ties : ["no known ties"]) {
        const li = document.createElement("li");
        li.textContent = text;
        tiesList.append(li);
      }
    }
    const story = $("person-story");
    story.textContent = "";
    const list = eventsOf[p];
    for (let k = 0; k < nStory; k++) {
      const e = list[k];
      const text = sentence(e, p);
      if (!text) continue;
      const li = document.createElement("li");
      const stamp = document.createElement("span");
      stamp.className = "t";
      stamp.textContent = elapsed(ev.time[e]);
      li.append(stamp, document.createTextNode(text));
      story.append(li);
    }
    if (!story.childElementCount) {
      const li = document.createElement("li");
      li.textContent = "nothing yet";
      story.append(li);
    }
    if (grew) $("side").scrollTop = $("side").scrollHeight; // follow the story as it is told
  }

  // User actions redraw at once rather than at the next frame: what the page says is what was asked.
  function select(p) {
    selected = p === null || p === undefined || p < 0 || p >= N ? null : p;
    panelKey = "";
    refresh();
  }

  // --- timeline under the slider -------------------------------------------------------------------------

  const timeline = $("timeline");
  const tctx = timeline.getContext("2d");
  const timelineCache = document.createElement("canvas");
  let tlW = 1;
  const TL_H = 56;

  function sizeTimeline() {
    const rect = timeline.getBoundingClientRect();
    tlW = Math.max(1, Math.round(rect.width));
    timeline.width = timelineCache.width = Math.round(tlW * dpr);
    timeline.height = timelineCache.height = Math.round(TL_H * dpr);
    paintTimeline();
    placeMarkers();
  }

  function paintTimeline() {
    const c = timelineCache.getContext("2d");
    c.setTransform(dpr, 0, 0, dpr, 0, 0);
    c.fillStyle = "#ffffff";
    c.fillRect(0, 0, tlW, TL_H);
    const stack = ["dead", "zombie", "hambie", "bitten", "healthy", "rescued", "escaped"].filter((s) => series.counts[s]);
    const top = 14;
    const h = TL_H - top;
    const nRec = series.time.length;
    if (nRec && N) {
      for (let x = 0; x < tlW; x++) {
        const time = timeAt(((x + 0.5) / tlW) * U_MAX);
        let lo = 0;
        let hi = nRec - 1;
        if (series.time[0] > time) continue;
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1;
          if (series.time[mid] <= time) lo = mid; else hi = mid - 1;
        }
        let y = TL_H;
        for (const s of stack) {
          const dh = (series.counts[s][lo] / N) * h;
          c.fillStyle = COLOURS[s];
          c.fillRect(x, y - dh, 1, dh);
          y -= dh;
        }
      }
    }
    // Quiet stretches: hatched, with their length.
    c.font = "11px system-ui, sans-serif";
    c.textAlign = "center";
    c.textBaseline = "middle";
    for (let i = 0; i + 1 < knotT.length; i++) {
      const dt = knotT[i + 1] - knotT[i];
      const du = knotU[i + 1] - knotU[i];
      if (dt <= du * 1.5) continue;
      const x0 = (knotU[i] / U_MAX) * tlW;
      const x1 = (knotU[i + 1] / U_MAX) * tlW;
      c.fillStyle = "rgba(255, 255, 255, 0.55)";
      c.fillRect(x0, top, x1 - x0, h);
      c.strokeStyle = "rgba(0, 0, 0, 0.25)";
      c.beginPath();
      for (let x = x0 - h; x < x1; x += 6) {
        c.moveTo(Math.max(x0, x), top + Math.max(0, x0 - x));
        c.lineTo(Math.min(x1, x + h), top + h - Math.max(0, x + h - x1));
      }
      c.stroke();
      if (x1 - x0 > 50) {
        c.fillStyle = "#333";
        c.fillText("quiet " + duration(dt), (x0 + x1) / 2, top + h / 2);
      }
    }
    c.strokeStyle = "rgba(0, 0, 0, 0.35)";
    c.lineWidth = 1;
    c.beginPath();
    for (const m of data.markers) {
      const x = Math.round((positionAt(m.time) / U_MAX) * tlW) + 0.5;
      c.moveTo(x, 12);
      c.lineTo(x, TL_H);
    }
    c.stroke();
  }

  function placeMarkers() {
    const box = $("markers");
    box.textContent = "";
    for (const m of data.markers) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "marker marker-" + m.kind;
      b.style.left = (positionAt(m.time) / U_MAX) * 100 + "%";
      b.title = elapsed(m.time) + " " + m.label;
      b.setAttribute("aria-label", b.title);
      b.dataset.time = String(m.time);
      b.addEventListener("click", () => { seek(m.time); });
      box.append(b);
    }
  }

  function drawTimeline() {
    tctx.setTransform(1, 0, 0, 1, 0, 0);
    tctx.drawImage(timelineCache, 0, 0);
    tctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const x = Math.round((u / U_MAX) * tlW) + 0.5;
    tctx.strokeStyle = "#111";
    tctx.lineWidth = 2;
    tctx.beginPath();
    tctx.moveTo(x, 0);
    tctx.lineTo(x, TL_H);
    tctx.stroke();
  }

  // --- the loop -----------------------------------------------------------------------------------------

  const intervals = new Float64Array(240);
  let nIntervals = 0;
  let lastFrame = null;
  let lastPower = null;
  const drawCosts = new Float64Array(240); // milliseconds spent drawing each of the last frames
  let nDrawn = 0;

  function refresh() {
    applyDoors(t);
    const status = worldStatus(t);
    if (doorsChanged === null) {
      for (let d = 0; d < doorState.length; d++) paintDoor(d);
      backgroundDirty = true;
    } else if (doorsChanged.length) {
      for (const d of doorsChanged) paintDoor(d);
      backgroundDirty = true;
    }
    doorsChanged = [];
    if (status.power !== lastPower) { lastPower = status.power; backgroundDirty = true; }
    if (backgroundDirty) { paintBackground(status); backgroundDirty = false; }
    place(t);
    toScreen();
    drawDots();
    drawTimeline();
    updateFurniture(status);
    dirty = false;
  }

  function frame(now) {
    requestAnimationFrame(frame);
    if (lastFrame !== null) {
      const step = Math.min(MAX_STEP_S, (now - lastFrame) / 1000);
      if (playing) {
        intervals[nIntervals % intervals.length] = now - lastFrame;
        nIntervals++;
        u = Math.min(U_MAX, u + speed * step);
        t = timeAt(u);
        dirty = true;
        if (u >= U_MAX) pause();
      }
    }
    lastFrame = now;
    if (dirty || backgroundDirty) {
      const started = performance.now();
      refresh();
      drawCosts[nDrawn % drawCosts.length] = performance.now() - started;
      nDrawn++;
    }
    if (playing && nIntervals % 15 === 0) setText($("fps"), fps().toFixed(0) + " fps");
  }

  function fps() {
    const n = Math.min(nIntervals, 60);
    if (!n) return 0;
    let sum = 0;
    for (let k = 1; k <= n; k++) sum += intervals[(nIntervals - k) % intervals.length];
    return (1000 * n) / sum;
  }

  function recent(ring, count) {
    const n = Math.min(count, ring.length);
    const out = [];
    for (let k = n; k >= 1; k--) out.push(ring[(count - k) % ring.length]);
    return out;
  }

  function seek(time) {
    t = Math.max(0, Math.min(timeAt(U_MAX), Number(time)));
    u = positionAt(t);
    refresh();
  }
  function play() {
    if (u >= U_MAX) seek(0);
    playing = true;
    lastFrame = null;
    const button = $("play");
    button.textContent = "Pause";
    button.setAttribute("aria-pressed", "true");
  }
  function pause() {
    playing = false;
    const button = $("play");
    button.textContent = "Play";
    button.setAttribute("aria-pressed", "false");
    setText($("fps"), "");
    dirty = true;
  }
  function setSpeed(x) {
    speed = Math.max(0.1, Number(x));
    const sel = $("speed");
    if (Number(sel.value) !== speed) {
      if (![...sel.options].some((o) => Number(o.value) === speed)) {
        const o = document.createElement("option");
        o.value = String(speed);
        o.textContent = speed + "×";
        sel.append(o);
      }
      sel.value = String(speed);
    }
  }
  function setFloor(choice) {
    floorChoice = choice === "all" || choice === undefined ? "all" : String(Number(choice));
    $("floor").value = floorChoice;
    fit();
    refresh();
  }

  // --- controls -----------------------------------------------------------------------------------------

  function wireControls() {
    const speedSelect = $("speed");
    for (const x of SPEEDS) {
      const o = document.createElement("option");
      o.value = String(x);
      o.textContent = x + "×";
      speedSelect.append(o);
    }
    speedSelect.value = String(speed);
    speedSelect.addEventListener("change", () => setSpeed(speedSelect.value));
    const floorSelect = $("floor");
    const all = document.createElement("option");
    all.value = "all";
    all.textContent = "All floors";
    floorSelect.append(all);
    FLOORS.forEach((name, f) => {
      const o = document.createElement("option");
      o.value = String(f);
      o.textContent = name;
      floorSelect.append(o);
    });
    floorSelect.value = "all";
    floorSelect.addEventListener("change", () => setFloor(floorSelect.value));
    $("play").addEventListener("click", () => (playing ? pause() : play()));
    $("fit").addEventListener("click", () => { fit(); refresh(); });
    const slider = $("slider");
    slider.max = String(Math.ceil(U_MAX));
    slider.addEventListener("input", () => {
      u = Math.min(U_MAX, Number(slider.value));
      t = timeAt(u);
      refresh(); // at once, not at the next frame: what the slider says is what is shown
    });
    timeline.addEventListener("pointerdown", (event) => {
      const rect = timeline.getBoundingClientRect();
      u = Math.max(0, Math.min(U_MAX, ((event.clientX - rect.left) / rect.width) * U_MAX));
      t = timeAt(u);
      refresh();
    });
    timeline.addEventListener("mousemove", (event) => {
      const rect = timeline.getBoundingClientRect();
      const at = timeAt(Math.max(0, Math.min(U_MAX, ((event.clientX - rect.left) / rect.width) * U_MAX)));
      timeline.title = clock(at) + " (" + elapsed(at) + " elapsed)";
    });
    $("person-close").addEventListener("click", () => select(null));
    const names = $("people-list");
    const byName = new Map();
    const order = [...people.name.keys()];
    if (people.named) order.sort((a, b) => Number(people.named[b]) - Number(people.named[a]) || a - b);
    for (const p of order) {
      const name = people.name[p];
      byName.set(name.toLowerCase(), p);
      const o = document.createElement("option");
      o.value = name;
      if (people.named && people.named[p]) o.label = name + " · " + (people.role[p] || "") + " (named)";
      names.append(o);
    }
    $("find").addEventListener("change", (event) => {
      const p = byName.get(event.target.value.trim().toLowerCase());
      if (p === undefined) return;
      select(p);
      const i = cursor[p];
      if (floorChoice !== "all" && i >= 0 && String(tr.floor[i]) !== floorChoice) setFloor(tr.floor[i]);
    });

    // Pointer: click selects, drag pans, wheel zooms, double-click fits.
    let down = null;
    canvas.addEventListener("pointerdown", (event) => {
      down = { x: event.clientX, y: event.clientY, ox: view.ox, oy: view.oy, drag: false };
      canvas.setPointerCapture(event.pointerId);
    });
    canvas.addEventListener("pointermove", (event) => {
      if (down) {
        const dx = event.clientX - down.x;
        const dy = event.clientY - down.y;
        if (down.drag || Math.abs(dx) + Math.abs(dy) > 4) {
          down.drag = true;
          view.ox = down.ox + dx;
          view.oy = down.oy + dy;
          view.moved = true;
          backgroundDirty = true;
          dirty = true;
        }
        return;
      }
      const p = personAt(event.clientX, event.clientY);
      const hover = $("hover");
      if (p === null) { hover.hidden = true; return; }
      const rect = canvas.getBoundingClientRect();
      hover.hidden = false;
      hover.textContent = people.name[p] + " · " + (stateNow[p] >= 0 ? STATES[stateNow[p]] : "");
      hover.style.left = event.clientX - rect.left + "px";
      hover.style.top = event.clientY - rect.top + "px";
    });
    canvas.addEventListener("pointerup", (event) => {
      if (down && !down.drag) {
        const p = personAt(event.clientX, event.clientY);
        if (p !== null) select(p);
      }
      down = null;
    });
    canvas.addEventListener("pointerleave", () => { $("hover").hidden = true; });
    canvas.addEventListener("wheel", (event) => {
      event.preventDefault();
      const rect = canvas.getBoundingClientRect();
      const mx = event.clientX - rect.left;
      const my = event.clientY - rect.top;
      const k = Math.exp(-event.deltaY * 0.0015);
      const s = Math.max(0.2, Math.min(60, view.s * k));
      view.ox = mx - ((mx - view.ox) * s) / view.s;
      view.oy = my - ((my - view.oy) * s) / view.s;
      view.s = s;
      view.moved = true;
      backgroundDirty = true;
      dirty = true;
    }, { passive: false });
    canvas.addEventListener("dblclick", () => { fit(); refresh(); });
    document.addEventListener("keydown", (event) => {
      const tag = event.target.tagName;
      if (tag === "INPUT" && event.target.type !== "range") return;
      if (tag === "SELECT") return;
      if (event.key === " " && tag !== "BUTTON") {
        event.preventDefault();
        playing ? pause() : play();
      } else if ((event.key === "ArrowLeft" || event.key === "ArrowRight") && tag !== "INPUT") {
        event.preventDefault();
        seek(t + (event.key === "ArrowLeft" ? -1 : 1) * (event.shiftKey ? 60 : 10));
      } else if (event.key === "Escape") {
        select(null);
      }
    });
    new ResizeObserver(resize).observe($("stage"));
  }

  // --- start ------------------------------------------------------------------------------------------

  buildCounts();
  paintFloors();
  wireControls();
  resize();
  seek(0);
  refresh();
  requestAnimationFrame(frame);

  // A small read-only hook for tests and benchmarks; screen positions are in client (CSS) pixels.
  window.hyosanReplay = Object.freeze({
    time: () => t,
    duration: () => timeAt(U_MAX),
    setTime: (time) => { seek(time); return t; },
    sliderPosition: (time) => positionAt(Number(time)),
    play: () => { play(); },
    pause: () => { pause(); refresh(); },
    playing: () => playing,
    setSpeed: (x) => { setSpeed(x); return speed; },
    setFloor: (choice) => { setFloor(choice); },
    counts: () => {
      if (dirty) refresh();
      const out = {};
      STATES.forEach((name, k) => { out[name] = counts[k]; });
      return out;
    },
    stateOf: (p) => { if (dirty) refresh(); return stateNow[p] >= 0 ? STATES[stateNow[p]] : null; },
    screenPosition: (p) => {
      if (dirty || backgroundDirty) refresh();
      const rect = canvas.getBoundingClientRect();
      return { x: rect.left + screenX[p], y: rect.top + screenY[p], visible: Boolean(shownNow[p]) };
    },
    personAt: (x, y) => { if (dirty) refresh(); return personAt(x, y); },
    select: (p) => { select(p); },
    selected: () => selected,
    fps,
    frameIntervals: () => recent(intervals, nIntervals),
    drawCosts: () => recent(drawCosts, nDrawn),
  });
  document.body.dataset.ready = "true";
})();
