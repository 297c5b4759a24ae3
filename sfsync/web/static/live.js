// Live refresh of a running run's page: polls live.json and updates counts and the log.
// Served from the app itself (CSP script-src 'self'); builds DOM nodes with textContent only,
// so nothing from the data is ever parsed as HTML.
(function () {
  "use strict";
  var root = document.getElementById("run");
  if (!root || root.dataset.live !== "yes") { return; }
  var after = Number(root.dataset.after || "0");
  var base = "/runs/" + encodeURIComponent(root.dataset.runId) + "/live.json";
  var INTERVAL_MS = 2000;

  function cell(text, className) {
    var td = document.createElement("td");
    td.textContent = text == null ? "" : String(text);
    if (className) { td.className = className; }
    return td;
  }

  function updateCounts(counts, total) {
    var body = document.querySelector("#progress tbody");
    Object.keys(counts).sort().forEach(function (state) {
      var row = body.querySelector('tr[data-state="' + CSS.escape(state) + '"]');
      if (!row) {
        var empty = body.querySelector("td.empty");
        if (empty) { empty.parentNode.remove(); }
        row = document.createElement("tr");
        row.dataset.state = state;
        row.appendChild(cell(state));
        row.appendChild(cell("", "n"));
        var td = document.createElement("td");
        td.appendChild(document.createElement("progress"));
        row.appendChild(td);
        body.appendChild(row);
      }
      row.querySelector("td.n").textContent = String(counts[state]);
      var bar = row.querySelector("progress");
      bar.max = total; bar.value = counts[state];
    });
    document.getElementById("total").textContent = String(total);
  }

  function appendEvents(events) {
    var body = document.getElementById("log-lines");
    events.forEach(function (e) {
      var row = document.createElement("tr");
      row.className = "level-" + String(e.level).replace(/[^a-z]/g, "");
      [e.at, e.level, e.event].forEach(function (v) { row.appendChild(cell(v)); });
      row.appendChild(cell(e.asset_id, "id"));
      row.appendChild(cell(e.fields, "message"));
      body.appendChild(row);
      after = Math.max(after, e.id);
    });
    if (events.length) {
      var empty = document.getElementById("log-empty");
      if (empty) { empty.remove(); }
    }
  }

  function poll() {
    var params = new URLSearchParams({ after: String(after) });
    if (root.dataset.level) { params.set("level", root.dataset.level); }
    if (root.dataset.asset) { params.set("asset", root.dataset.asset); }
    fetch(base + "?" + params.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (r.status === 401) {
          // The session ended (logout, expiry): stop polling and say so.
          var tag = document.getElementById("live-tag");
          if (tag) { tag.textContent = "logged out: reload"; }
          return null;
        }
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      })
      .then(function (data) {
        if (data === null) { return; }
        updateCounts(data.counts, data.total);
        appendEvents(data.events);
        var status = document.getElementById("run-status");
        status.textContent = data.status;
        status.className = "status status-" + String(data.status).replace(/[^a-z]/g, "");
        document.getElementById("run-duration").textContent = data.duration;
        if (data.active) {
          window.setTimeout(poll, INTERVAL_MS);
        } else {
          var tag = document.getElementById("live-tag");
          if (tag) { tag.textContent = "finished"; }
        }
      })
      .catch(function () { window.setTimeout(poll, INTERVAL_MS * 5); });
  }

  window.setTimeout(poll, INTERVAL_MS);
})();
