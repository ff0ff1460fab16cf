// Parvis web app: progressive enhancement only. Every page works without this file.
"use strict";

// htmx: no inline styles (the Content-Security-Policy forbids them), no eval.
document.addEventListener("DOMContentLoaded", () => {
  if (window.htmx) {
    window.htmx.config.includeIndicatorStyles = false;
    window.htmx.config.allowEval = false;
  }
  document.querySelectorAll("textarea[data-limit]").forEach(counter);
});

// The character counter of the compose box: URLs count as 23 characters, as on the server.
// With data-count="plain" (a community note) every character counts, spaces around trimmed.
function counter(area) {
  const limit = Number(area.dataset.limit);
  const plain = area.dataset.count === "plain";
  const out = document.getElementById((area.getAttribute("aria-describedby") || "").split(" ")[0]);
  if (!out) return;
  const template = out.dataset.template || out.textContent.replace(String(limit), "{n}");
  out.dataset.template = template;
  const update = () => {
    const text = plain ? area.value.trim() : area.value.replace(/https?:\/\/\S+/g, "x".repeat(23));
    const length = [...text].length;
    out.textContent = template.replace("{n}", String(limit - length));
    out.classList.toggle("over", length > limit);
  };
  area.addEventListener("input", update);
  update();
}
