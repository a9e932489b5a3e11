// The dashboard's script: sends each `form[data-call]` to the control plane as JSON,
// refreshes the page's fragments (server-rendered HTML) and keeps live ones live.
// No framework, nothing from the internet.
"use strict";
(() => {
  const UI = "/_emulator/ui";
  const flash = document.getElementById("flash");
  let flashTimer = 0;

  function say(text, ok) {
    flash.textContent = text;
    flash.className = ok ? "ok" : "bad";
    flash.hidden = false;
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => { flash.hidden = true; }, ok ? 2500 : 8000);
  }

  function convert(value, type) {
    if (type === "int") return Number.parseInt(value, 10);
    if (type === "number") return Number(value);
    return value;
  }

  // The form's fields as a JSON object: empty fields are left out (not given), checkboxes
  // with data-type="bool" are true/false, `data-clears` drops another field when checked.
  function bodyOf(form, submitter) {
    const body = {};
    const cleared = [];
    for (const field of form.elements) {
      if (!field.name || field.disabled || field.type === "submit") continue;
      if (field.type === "checkbox") {
        body[field.name] = field.checked;
        if (field.checked && field.dataset.clears) cleared.push(field.dataset.clears);
        continue;
      }
      if (field.value === "") continue;
      body[field.name] = convert(field.value, field.dataset.type);
    }
    if (submitter && submitter.name) body[submitter.name] = convert(submitter.value, submitter.dataset.type);
    for (const name of cleared) delete body[name];
    return body;
  }

  async function call(method, url, body) {
    const init = { method, headers: { accept: "application/json" } };
    if (body !== null) {
      init.headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(url, init);
    if (!response.ok) {
      let message = `${method} ${url} answered ${response.status}`;
      try {
        const answer = await response.json();
        if (answer && answer.error && answer.error.message) message = answer.error.message;
      } catch (_) { /* not JSON */ }
      throw new Error(message);
    }
    return response;
  }

  // --- fragments ------------------------------------------------------------------------
  const shown = new WeakMap(); // section -> the HTML it shows

  async function refresh(section, force) {
    const active = document.activeElement;
    if (!force && section.contains(active) && active.matches("input, select, textarea")) {
      return; // someone is typing or choosing in it: leave it be
    }
    if (!force && section.querySelector("details[open]")) return; // being read
    const name = section.dataset.fragment;
    const response = await fetch(`${UI}/fragments/${name}${location.search}`, { headers: { accept: "text/html" } });
    const html = await response.text();
    if (shown.get(section) !== html) {
      shown.set(section, html);
      section.innerHTML = html;
    }
  }

  function refreshAll() {
    return Promise.all([...document.querySelectorAll("[data-fragment]")].map((s) => refresh(s, true).catch(() => {})));
  }

  for (const section of document.querySelectorAll("[data-fragment][data-live]")) {
    const every = Number(section.dataset.live) || 2000;
    let busy = false;
    setInterval(async () => {
      if (busy || document.hidden) return;
      busy = true;
      try { await refresh(section, false); } catch (_) { /* the server went away; try again */ }
      busy = false;
    }, every);
  }

  // --- actions --------------------------------------------------------------------------
  document.addEventListener("submit", async (event) => {
    const form = event.target.closest("form[data-call]");
    if (!form) return;
    event.preventDefault();
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    const space = form.dataset.call.indexOf(" ");
    const method = form.dataset.call.slice(0, space);
    const url = form.dataset.call.slice(space + 1);
    const body = method === "DELETE" ? null : bodyOf(form, event.submitter);
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await call(method, url, body);
      say(`${method} ${url}: done`, true);
      if (!form.closest("[data-fragment]")) form.reset();
      await refreshAll();
    } catch (error) {
      say(error.message, false);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  });

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-copy]");
    if (!button) return;
    const text = button.dataset.copy;
    try {
      await navigator.clipboard.writeText(text);
    } catch (_) {
      const area = document.createElement("textarea");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    say("Key copied", true);
  });

  // A select that narrows another's options to its value (the fault form's API -> route).
  for (const select of document.querySelectorAll("select[data-controls]")) {
    const target = document.getElementById(select.dataset.controls);
    const narrow = () => {
      for (const option of target.options) {
        option.hidden = Boolean(option.dataset.api) && option.dataset.api !== select.value;
      }
      if (target.selectedOptions[0] && target.selectedOptions[0].hidden) target.value = "";
    };
    select.addEventListener("change", narrow);
    narrow();
  }
})();
