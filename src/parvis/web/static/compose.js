// Parvis compose box: image previews and the alt-text prompt. Progressive enhancement only:
// without this file the form posts the same fields.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-compose]").forEach(enhanceCompose);
});

function enhanceCompose(form) {
  const slots = [...form.querySelectorAll("fieldset.image-slot")];
  slots.forEach(previewSlot);
  const dialog = form.querySelector("dialog.alt-prompt");
  if (!dialog || typeof dialog.showModal !== "function") return;
  let confirmed = false;
  form.addEventListener("submit", (event) => {
    if (confirmed) return;
    const missing = slots.filter((slot) => {
      const file = slot.querySelector("input[type=file]");
      const alt = slot.querySelector("textarea");
      return file && file.files && file.files.length > 0 && alt && !alt.value.trim();
    });
    if (missing.length === 0) return;
    event.preventDefault();
    askEach(dialog, missing, () => {
      confirmed = true;
      if (typeof form.requestSubmit === "function") form.requestSubmit();
      else form.submit();
    });
  });
}

// A preview of the chosen image next to its file input.
function previewSlot(slot) {
  const input = slot.querySelector("input[type=file]");
  if (!input) return;
  input.addEventListener("change", () => {
    let img = slot.querySelector("img.preview");
    if (slot.dataset.url) URL.revokeObjectURL(slot.dataset.url);
    const file = input.files && input.files[0];
    if (!file) {
      if (img) img.remove();
      delete slot.dataset.url;
      return;
    }
    if (!img) {
      img = document.createElement("img");
      img.className = "preview";
      img.alt = ""; // the description is written in the field below
      input.insertAdjacentElement("afterend", img);
    }
    slot.dataset.url = URL.createObjectURL(file);
    img.src = slot.dataset.url;
  });
}

// The prompt: for each image without a description, show it and ask for one. The person may
// still post without (the "skip" button).
function askEach(dialog, missing, done) {
  const text = dialog.querySelector("textarea");
  const preview = dialog.querySelector("img.alt-preview");
  const save = dialog.querySelector("button[value=save]");
  const skip = dialog.querySelector("button[value=skip]");
  let index = 0;
  const show = () => {
    if (index >= missing.length) {
      dialog.close();
      done();
      return;
    }
    const slot = missing[index];
    text.value = "";
    if (preview) {
      if (slot.dataset.url) preview.src = slot.dataset.url;
      preview.hidden = !slot.dataset.url;
    }
    if (!dialog.open) dialog.showModal();
    text.focus();
  };
  const next = (keep) => {
    if (keep) {
      const alt = missing[index].querySelector("textarea");
      alt.value = text.value.trim();
    }
    index += 1;
    show();
  };
  save.onclick = () => next(true);
  skip.onclick = () => next(false);
  dialog.oncancel = () => { index = missing.length; dialog.close(); };
  show();
}
