// Parvis blur tool: before an image is sent, the person marks areas (faces, signs, anything)
// on a canvas and they are destroyed in the browser: pixelated with large blocks, then blurred
// over each block, so the original cannot be recovered. The canvas is re-encoded (which also
// drops every byte of metadata) and replaces the file in the form's <input type=file>: only the
// blurred image is ever sent, and nothing about the areas. Nothing is detected automatically.
//
// Progressive enhancement: the button and the dialog come from a <template> in the compose
// form (translated there); without this script the form posts the image unchanged.
"use strict";

(() => {
  if (window.parvisBlurLoaded) return; // the script tag may appear once per compose form
  window.parvisBlurLoaded = true;

  const MAX_SIDE = 4096; // the server keeps at most 3840 pixels a side
  const DISPLAY_SIDE = 1600; // the canvas shown while marking
  const MIN_AREA = 8; // a drag shorter than this (image pixels) is a click, not an area

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("form[data-compose]").forEach((form) => {
      const template = form.querySelector("template.blur-tool");
      if (!template || typeof HTMLDialogElement !== "function" || !window.DataTransfer) return;
      const dialog = template.content.querySelector("dialog").cloneNode(true);
      form.appendChild(dialog);
      const tool = new BlurTool(dialog);
      form.querySelectorAll("fieldset.image-slot").forEach((slot) => {
        const input = slot.querySelector("input[type=file]");
        if (!input) return;
        const button = template.content.querySelector("button.blur-open").cloneNode(true);
        button.hidden = true;
        slot.insertBefore(button, input.nextSibling);
        button.addEventListener("click", () => tool.open(input, button));
        input.addEventListener("change", () => offerIfDecodable(input, button));
      });
    });
  });

  // The button shows only for an image this browser can draw (not HEIC in most browsers).
  function offerIfDecodable(input, button) {
    const file = input.files && input.files[0];
    button.hidden = true;
    if (!file || !file.type.startsWith("image/")) return;
    loadImage(file).then(
      ({ image, url }) => { URL.revokeObjectURL(url); image.src = ""; button.hidden = false; },
      () => { button.hidden = true; }
    );
  }

  function loadImage(file) {
    return new Promise((resolve, reject) => {
      const url = URL.createObjectURL(file);
      const image = new Image();
      image.onload = () => resolve({ image, url });
      image.onerror = () => { URL.revokeObjectURL(url); reject(new Error("undecodable")); };
      image.src = url;
    });
  }

  // Destroys a rectangle of a canvas: mean colour per block, then a box blur as wide as a
  // block over the rectangle, twice. Blocks are max(16, longer side / 20) pixels.
  function destroy(ctx, area, width, height) {
    const x = Math.max(0, Math.floor(area.x));
    const y = Math.max(0, Math.floor(area.y));
    const w = Math.min(width, Math.ceil(area.x + area.w)) - x;
    const h = Math.min(height, Math.ceil(area.y + area.h)) - y;
    if (w < 1 || h < 1) return;
    const block = Math.max(16, Math.round(Math.max(width, height) / 20));
    const data = ctx.getImageData(x, y, w, h);
    pixelate(data.data, w, h, block);
    for (let pass = 0; pass < 2; pass++) {
      boxBlur(data.data, w, h, Math.ceil(block / 2), true);
      boxBlur(data.data, w, h, Math.ceil(block / 2), false);
    }
    ctx.putImageData(data, x, y);
  }

  function pixelate(px, w, h, block) {
    for (let by = 0; by < h; by += block) {
      for (let bx = 0; bx < w; bx += block) {
        const ex = Math.min(w, bx + block), ey = Math.min(h, by + block);
        const sum = [0, 0, 0, 0];
        for (let yy = by; yy < ey; yy++) {
          for (let xx = bx; xx < ex; xx++) {
            const i = (yy * w + xx) * 4;
            sum[0] += px[i]; sum[1] += px[i + 1]; sum[2] += px[i + 2]; sum[3] += px[i + 3];
          }
        }
        const n = (ex - bx) * (ey - by);
        const mean = sum.map((s) => Math.round(s / n));
        for (let yy = by; yy < ey; yy++) {
          for (let xx = bx; xx < ex; xx++) {
            const i = (yy * w + xx) * 4;
            px[i] = mean[0]; px[i + 1] = mean[1]; px[i + 2] = mean[2]; px[i + 3] = mean[3];
          }
        }
      }
    }
  }

  // A running-sum box blur along rows (horizontal) or columns, edges clamped: the rectangle's
  // own pixels only, so nothing from outside is smeared in and nothing inside leaks out.
  function boxBlur(px, w, h, radius, horizontal) {
    const lines = horizontal ? h : w, length = horizontal ? w : h;
    const line = new Float64Array(length * 4);
    const at = (l, k) => (horizontal ? (l * w + k) : (k * w + l)) * 4;
    const span = 2 * radius + 1;
    for (let l = 0; l < lines; l++) {
      for (let k = 0; k < length; k++) {
        const i = at(l, k);
        for (let c = 0; c < 4; c++) line[k * 4 + c] = px[i + c];
      }
      const sum = [0, 0, 0, 0];
      const clamp = (k) => Math.min(length - 1, Math.max(0, k));
      for (let k = -radius; k <= radius; k++) {
        for (let c = 0; c < 4; c++) sum[c] += line[clamp(k) * 4 + c];
      }
      for (let k = 0; k < length; k++) {
        const i = at(l, k);
        for (let c = 0; c < 4; c++) {
          px[i + c] = Math.round(sum[c] / span);
          sum[c] += line[clamp(k + radius + 1) * 4 + c] - line[clamp(k - radius) * 4 + c];
        }
      }
    }
  }

  class BlurTool {
    constructor(dialog) {
      this.dialog = dialog;
      this.canvas = dialog.querySelector("canvas");
      this.list = dialog.querySelector("ol.blur-areas");
      this.status = dialog.querySelector(".blur-status");
      this.areas = [];
      this.selected = -1;
      this.drag = null;
      const on = (value, handler) =>
        dialog.querySelector(`button[value=${value}]`).addEventListener("click", handler);
      on("add", () => this.addCentred());
      on("undo", () => this.remove(this.areas.length - 1));
      on("apply", () => this.apply());
      on("cancel", () => this.dialog.close());
      dialog.addEventListener("close", () => this.release());
      this.canvas.addEventListener("pointerdown", (e) => this.pointerDown(e));
      this.canvas.addEventListener("pointermove", (e) => this.pointerMove(e));
      this.canvas.addEventListener("pointerup", (e) => this.pointerUp(e));
      this.canvas.addEventListener("pointercancel", () => { this.drag = null; this.draw(); });
      this.canvas.addEventListener("keydown", (e) => this.key(e));
    }

    open(input, button) {
      const file = input.files && input.files[0];
      if (!file) return;
      loadImage(file).then(({ image, url }) => {
        this.input = input;
        this.button = button;
        this.file = file;
        this.image = image;
        this.url = url;
        const scale = Math.min(1, DISPLAY_SIDE / Math.max(image.naturalWidth, image.naturalHeight));
        this.scale = scale;
        this.canvas.width = Math.max(1, Math.round(image.naturalWidth * scale));
        this.canvas.height = Math.max(1, Math.round(image.naturalHeight * scale));
        this.areas = [];
        this.selected = -1;
        this.say(this.dialog.dataset.none);
        this.render();
        this.dialog.showModal();
        this.canvas.focus();
      }, () => {
        button.hidden = true;
      });
    }

    release() {
      if (this.url) URL.revokeObjectURL(this.url);
      this.url = null;
      this.image = null;
      if (this.button) this.button.focus();
    }

    // --- drawing: the preview shows each area already destroyed, as it will be sent ---------

    draw() {
      const ctx = this.canvas.getContext("2d");
      const { width, height } = this.canvas;
      ctx.drawImage(this.image, 0, 0, width, height);
      const all = this.drag && this.drag.mode === "new" ? [...this.areas, this.drag.area] : this.areas;
      all.forEach((a) => destroy(ctx, this.toCanvas(a), width, height));
      all.forEach((a, i) => {
        const r = this.toCanvas(a);
        const chosen = i === this.selected;
        ctx.lineWidth = chosen ? 4 : 2;
        ctx.strokeStyle = "#ffffff";
        ctx.strokeRect(r.x, r.y, r.w, r.h);
        ctx.setLineDash(chosen ? [] : [6, 4]);
        ctx.lineWidth = chosen ? 2 : 1;
        ctx.strokeStyle = "#1f5fbf";
        ctx.strokeRect(r.x, r.y, r.w, r.h);
        ctx.setLineDash([]);
        if (chosen) {
          ctx.fillStyle = "#1f5fbf";
          ctx.fillRect(r.x + r.w - 8, r.y + r.h - 8, 16, 16);
        }
      });
    }

    render() {
      this.draw();
      this.list.replaceChildren(...this.areas.map((_, i) => this.listItem(i)));
      this.list.hidden = this.areas.length === 0;
    }

    listItem(i) {
      const d = this.dialog.dataset;
      const li = document.createElement("li");
      const pick = document.createElement("button");
      pick.type = "button";
      pick.textContent = d.area.replace("{n}", String(i + 1));
      pick.setAttribute("aria-pressed", String(i === this.selected));
      pick.addEventListener("click", () => { this.select(i); this.canvas.focus(); });
      const drop = document.createElement("button");
      drop.type = "button";
      drop.className = "danger";
      drop.textContent = d.remove.replace("{n}", String(i + 1));
      drop.addEventListener("click", () => this.remove(i));
      li.append(pick, " ", drop);
      return li;
    }

    toCanvas(a) {
      const s = this.scale;
      return { x: a.x * s, y: a.y * s, w: a.w * s, h: a.h * s };
    }

    say(text) {
      this.status.textContent = text;
    }

    announce() {
      const d = this.dialog.dataset;
      const n = this.areas.length;
      if (n === 0) { this.say(d.none); return; }
      const count = (n === 1 ? d.one : d.many).replace("{n}", String(n));
      this.say(count);
    }

    // --- editing -------------------------------------------------------------------------------

    select(i) {
      this.selected = i;
      this.render();
    }

    remove(i) {
      if (i < 0 || i >= this.areas.length) return;
      this.areas.splice(i, 1);
      this.selected = Math.min(this.selected, this.areas.length - 1);
      if (this.selected === -1 && this.areas.length) this.selected = this.areas.length - 1;
      this.render();
      this.announce();
    }

    add(area) {
      this.areas.push(this.clamp(area));
      this.selected = this.areas.length - 1;
      this.render();
      this.announce();
    }

    addCentred() {
      const W = this.image.naturalWidth, H = this.image.naturalHeight;
      const side = Math.round(Math.min(W, H) / 4);
      this.add({ x: Math.round((W - side) / 2), y: Math.round((H - side) / 2), w: side, h: side });
      this.canvas.focus();
    }

    clamp(a) {
      const W = this.image.naturalWidth, H = this.image.naturalHeight;
      const w = Math.max(1, Math.min(W, Math.round(a.w)));
      const h = Math.max(1, Math.min(H, Math.round(a.h)));
      return {
        x: Math.max(0, Math.min(W - w, Math.round(a.x))),
        y: Math.max(0, Math.min(H - h, Math.round(a.y))),
        w,
        h,
      };
    }

    point(e) {
      const box = this.canvas.getBoundingClientRect();
      return {
        x: ((e.clientX - box.left) / box.width) * this.image.naturalWidth,
        y: ((e.clientY - box.top) / box.height) * this.image.naturalHeight,
      };
    }

    pointerDown(e) {
      if (!this.image || (e.pointerType === "mouse" && e.button !== 0)) return;
      e.preventDefault();
      this.canvas.setPointerCapture(e.pointerId);
      const p = this.point(e);
      const grip = (16 / this.canvas.getBoundingClientRect().width) * this.image.naturalWidth;
      for (let i = this.areas.length - 1; i >= 0; i--) {
        const a = this.areas[i];
        const corner = Math.abs(p.x - (a.x + a.w)) < grip && Math.abs(p.y - (a.y + a.h)) < grip;
        const inside = p.x >= a.x && p.x <= a.x + a.w && p.y >= a.y && p.y <= a.y + a.h;
        if (corner || inside) {
          this.selected = i;
          this.drag = { mode: corner ? "resize" : "move", start: p, from: { ...a } };
          this.render();
          return;
        }
      }
      this.drag = { mode: "new", start: p, area: { x: p.x, y: p.y, w: 0, h: 0 } };
    }

    pointerMove(e) {
      if (!this.drag) return;
      const p = this.point(e);
      const d = this.drag;
      const dx = p.x - d.start.x, dy = p.y - d.start.y;
      if (d.mode === "new") {
        d.area = {
          x: Math.min(p.x, d.start.x), y: Math.min(p.y, d.start.y),
          w: Math.abs(dx), h: Math.abs(dy),
        };
      } else if (d.mode === "move") {
        this.areas[this.selected] = this.clamp({ ...d.from, x: d.from.x + dx, y: d.from.y + dy });
      } else {
        this.areas[this.selected] = this.clamp({
          ...d.from, w: Math.max(MIN_AREA, d.from.w + dx), h: Math.max(MIN_AREA, d.from.h + dy),
        });
      }
      this.draw();
    }

    pointerUp(e) {
      const d = this.drag;
      this.drag = null;
      if (!d) return;
      if (d.mode === "new") {
        this.pointerMove(e);
        if (d.area.w >= MIN_AREA && d.area.h >= MIN_AREA) {
          this.add(d.area);
          return;
        }
      }
      this.render();
    }

    // Arrows move the chosen area, Shift + arrows resize it, Delete removes it.
    key(e) {
      const keys = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
      if ((e.key === "Delete" || e.key === "Backspace") && this.selected >= 0) {
        e.preventDefault();
        this.remove(this.selected);
        return;
      }
      const move = keys[e.key];
      if (!move || this.selected < 0) return;
      e.preventDefault();
      const W = this.image.naturalWidth, H = this.image.naturalHeight;
      const step = Math.max(1, Math.round(Math.max(W, H) / 50));
      const a = this.areas[this.selected];
      const next = e.shiftKey
        ? { ...a, w: Math.max(MIN_AREA, a.w + move[0] * step), h: Math.max(MIN_AREA, a.h + move[1] * step) }
        : { ...a, x: a.x + move[0] * step, y: a.y + move[1] * step };
      this.areas[this.selected] = this.clamp(next);
      this.draw();
      const pct = (v, of) => Math.round((100 * v) / of);
      const b = this.areas[this.selected];
      this.say(
        this.dialog.dataset.where
          .replace("{n}", String(this.selected + 1))
          .replace("{x}", String(pct(b.x, W))).replace("{y}", String(pct(b.y, H)))
          .replace("{w}", String(pct(b.w, W))).replace("{h}", String(pct(b.h, H)))
      );
    }

    // --- the result: a new file in the input, the original dropped --------------------------

    apply() {
      if (this.areas.length === 0) { this.dialog.close(); return; }
      const W = this.image.naturalWidth, H = this.image.naturalHeight;
      const scale = Math.min(1, MAX_SIDE / Math.max(W, H));
      const out = document.createElement("canvas");
      out.width = Math.max(1, Math.round(W * scale));
      out.height = Math.max(1, Math.round(H * scale));
      const ctx = out.getContext("2d");
      ctx.drawImage(this.image, 0, 0, out.width, out.height);
      this.areas.forEach((a) =>
        destroy(ctx, { x: a.x * scale, y: a.y * scale, w: a.w * scale, h: a.h * scale }, out.width, out.height)
      );
      const png = this.file.type === "image/png" || this.file.type === "image/gif";
      const type = png ? "image/png" : "image/jpeg";
      const base = (this.file.name || "image").replace(/\.[^.]*$/, "");
      out.toBlob((blob) => {
        if (!blob) { this.say(this.dialog.dataset.failed); return; }
        const file = new File([blob], `${base}.${png ? "png" : "jpg"}`, { type });
        const transfer = new DataTransfer();
        transfer.items.add(file);
        this.input.files = transfer.files;
        this.input.dispatchEvent(new Event("change", { bubbles: true }));
        const done = this.input.closest("fieldset").querySelector(".blur-done");
        if (done) done.remove();
        const note = document.createElement("p");
        note.className = "blur-done help";
        note.setAttribute("role", "status");
        note.textContent = this.dialog.dataset.done;
        this.button.insertAdjacentElement("afterend", note);
        this.dialog.close();
      }, type, 0.92);
    }
  }
})();
