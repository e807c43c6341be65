/* csbox segment changelist: "refresh now" buttons and a live refresh status.
 *
 * Each row's status cell (.sg-refresh-cell[data-segment]) is polled through
 * the admin's status/ endpoint while any segment on the page is queued or
 * running, so ops see a refresh go from Queued to OK (or Failed) without
 * reloading. Plain JavaScript; does nothing on pages without status cells.
 */
(function () {
  "use strict";

  const BUSY = new Set(["queued", "running"]);
  const CLASSES = { never: "never", queued: "busy", running: "busy", ok: "ok", failed: "failed" };
  const POLL_MS = 1500;

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function statusUrl() {
    const config = document.getElementById("sg-changelist-config");
    if (config) return JSON.parse(config.textContent).statusUrl;
    const cell = document.querySelector(".sg-refresh-cell[data-status-url]");
    return cell ? cell.dataset.statusUrl : null;
  }

  function cells() {
    return Array.from(document.querySelectorAll(".sg-refresh-cell[data-segment]"));
  }

  function relative(iso) {
    if (!iso) return "never";
    const seconds = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
    if (seconds < 60) return "just now";
    if (seconds < 3600) return Math.round(seconds / 60) + " minutes ago";
    return new Date(iso).toLocaleString();
  }

  function apply(status) {
    cells().filter((c) => c.dataset.segment === String(status.id)).forEach((cell) => {
      const badge = cell.querySelector(".sg-badge");
      if (badge) {
        badge.className = "sg-badge sg-" + (CLASSES[status.status] || "never");
        badge.dataset.status = status.status;
        badge.textContent = status.status_label;
        badge.title = status.error || "";
      }
      const when = cell.querySelector(".sg-when");
      if (when && status.last_refreshed_at) when.textContent = relative(status.last_refreshed_at);
      const row = cell.closest("tr");
      const members = row && row.querySelector(".sg-members");
      if (members) members.textContent = status.member_count.toLocaleString("en-US");
    });
  }

  let timer = null;

  async function poll() {
    timer = null;
    const url = statusUrl();
    const busy = cells().filter((c) => {
      const badge = c.querySelector(".sg-badge");
      return badge && BUSY.has(badge.dataset.status);
    }).map((c) => c.dataset.segment);
    if (!url || !busy.length) return;
    try {
      const response = await fetch(url + "?ids=" + busy.join(","), { credentials: "same-origin",
        headers: { Accept: "application/json" } });
      if (response.ok) (await response.json()).segments.forEach(apply);
    } catch (e) { /* try again at the next tick */ }
    schedule();
  }

  function schedule() {
    if (!timer) timer = setTimeout(poll, POLL_MS);
  }

  async function refresh(button) {
    button.disabled = true;
    try {
      const response = await fetch(button.dataset.url, {
        method: "POST", credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
      });
      if (response.ok) (await response.json()).segments.forEach(apply);
      else button.title = "Refresh refused (HTTP " + response.status + ")";
    } finally {
      button.disabled = false;
      schedule();
    }
  }

  function init() {
    document.addEventListener("click", (e) => {
      const button = e.target.closest && e.target.closest(".sg-refresh-btn");
      if (!button) return;
      e.preventDefault();
      refresh(button);
    });
    schedule();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
