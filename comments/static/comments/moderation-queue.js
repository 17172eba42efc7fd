// The moderation queue's keyboard and one-click actions. Without this file every button
// is a plain form that posts and comes back; with it, actions post by fetch and the row
// is replaced in place. Keys: j/k move, a/s/d/r act, u undoes, b bans, h history, ? keys.
(function () {
  "use strict";

  var queue = document.querySelector(".queue");
  if (!queue) return;
  var status = document.getElementById("queue-status");
  var historyPanel = document.getElementById("author-history");
  var keysPanel = document.getElementById("queue-keys");
  var banPanel = document.getElementById("queue-ban");
  var csrf = document.querySelector("input[name=csrfmiddlewaretoken]");
  var undoStack = []; // {id, event} of this page's actions, newest last
  var busy = false;
  var historyTimer = null;

  function rows() {
    return Array.prototype.slice.call(queue.querySelectorAll(".queue-row"));
  }

  function current() {
    return queue.querySelector('.queue-row[aria-current="true"]');
  }

  function announce(text) {
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 30);
  }

  function select(row) {
    if (!row) return;
    var previous = current();
    if (previous && previous !== row) previous.removeAttribute("aria-current");
    row.setAttribute("aria-current", "true");
    row.focus();
    row.scrollIntoView({ block: "nearest" });
    window.clearTimeout(historyTimer);
    historyTimer = window.setTimeout(function () { loadHistory(row); }, 150);
  }

  function move(step) {
    var all = rows();
    if (!all.length) return;
    var index = all.indexOf(current());
    var next = index < 0 ? 0 : Math.min(Math.max(index + step, 0), all.length - 1);
    select(all[next]);
  }

  function loadHistory(row) {
    fetch(row.dataset.history, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      })
      .then(function (html) {
        if (current() === row) historyPanel.innerHTML = html;
      })
      .catch(function () {
        historyPanel.textContent = "The author's history could not be loaded.";
      });
  }

  function post(url, fields) {
    var body = new URLSearchParams(fields);
    body.set("next", window.location.pathname + window.location.search);
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrf ? csrf.value : "" },
      body: body
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) {
          var failure = new Error(data.detail || "The action failed.");
          failure.errors = data.errors;
          throw failure;
        }
        return data;
      });
    });
  }

  function replaced(row, data) {
    var holder = document.createElement("div");
    holder.innerHTML = data.row.trim();
    var fresh = holder.firstElementChild;
    var wasCurrent = row === current();
    row.replaceWith(fresh);
    if (wasCurrent) fresh.setAttribute("aria-current", "true");
    return fresh;
  }

  function act(row, action, advance) {
    if (!row || busy) return;
    busy = true;
    post(row.dataset.act, { action: action })
      .then(function (data) {
        var fresh = replaced(row, data);
        if (data.event) undoStack.push({ id: data.id, event: data.event });
        announce(data.message + (data.event ? " Press u to undo." : ""));
        if (advance) {
          var all = rows();
          var after = all[all.indexOf(fresh) + 1];
          select(after || fresh);
        } else {
          select(fresh);
        }
      })
      .catch(function (error) { announce(error.message); })
      .then(function () { busy = false; });
  }

  function undo() {
    var last = undoStack.pop();
    if (!last || busy) {
      if (!last) announce("Nothing to undo.");
      return;
    }
    var row = document.getElementById("comment-" + last.id);
    if (!row) return;
    busy = true;
    post(row.dataset.undo, { event: last.event })
      .then(function (data) {
        select(replaced(row, data));
        announce(data.message);
      })
      .catch(function (error) { announce(error.message); })
      .then(function () { busy = false; });
  }

  function actByKey(key) {
    var row = current();
    if (!row) return announce("Select a comment first: press j.");
    var button = row.querySelector('button[data-key="' + key + '"]');
    if (!button) return announce("That does not apply to this comment.");
    act(row, button.dataset.action, true);
  }

  function toggleKeys(show) {
    keysPanel.hidden = show === undefined ? !keysPanel.hidden : !show;
    if (!keysPanel.hidden) keysPanel.focus();
    else if (current()) current().focus();
  }

  function closeBan() {
    banPanel.hidden = true;
    banPanel.innerHTML = "";
    if (current()) current().focus();
  }

  function openBan(row) {
    if (!row) return announce("Select a comment first: press j.");
    var link = row.querySelector("a[data-ban]");
    if (!link) return announce("You may not ban authors.");
    fetch(link.dataset.ban, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("The ban form could not be loaded.");
        return response.text();
      })
      .then(function (html) {
        banPanel.innerHTML = html;
        banPanel.hidden = false;
        banPanel.dataset.row = row.id;
        var cancel = banPanel.querySelector(".ban-cancel");
        cancel.hidden = false;
        cancel.addEventListener("click", closeBan);
        banPanel.querySelector("input:not([type=hidden]), select").focus();
      })
      .catch(function (error) { announce(error.message); });
  }

  function showBanErrors(errors) {
    var old = banPanel.querySelector(".errornote");
    if (old) old.remove();
    var note = document.createElement("div");
    note.className = "errornote";
    note.setAttribute("role", "alert");
    note.textContent = Object.keys(errors).map(function (field) {
      return errors[field].join(" ");
    }).join(" ");
    banPanel.querySelector("form").prepend(note);
  }

  banPanel.addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    var row = document.getElementById(banPanel.dataset.row);
    var fields = new URLSearchParams(new FormData(form));
    if (busy || !row) return;
    busy = true;
    post(form.action, fields)
      .then(function (data) {
        closeBan();
        var fresh = replaced(row, data);
        if (data.event) undoStack.push({ id: data.id, event: data.event });
        announce(data.message);
        var all = rows();
        select(all[all.indexOf(fresh) + 1] || fresh);
      })
      .catch(function (error) {
        showBanErrors(error.errors || { detail: [error.message] });
      })
      .then(function () { busy = false; });
  });

  var keyHandlers = {
    j: function () { move(1); },
    k: function () { move(-1); },
    a: function () { actByKey("a"); },
    s: function () { actByKey("s"); },
    d: function () { actByKey("d"); },
    r: function () { actByKey("r"); },
    u: undo,
    b: function () { openBan(current()); },
    h: function () { historyPanel.focus(); },
    "?": function () { toggleKeys(); }
  };

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape" && !banPanel.hidden) return closeBan();
    if (event.key === "Escape" && !keysPanel.hidden) return toggleKeys(false);
    var target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    if (!banPanel.hidden) return; // the ban form has the keyboard until sent or closed
    var handler = keyHandlers[event.key];
    if (!handler) return;
    event.preventDefault();
    handler();
  });

  // One click acts in place too; the forms stay for keyboards without scripts.
  queue.addEventListener("submit", function (event) {
    var form = event.target;
    var row = form.closest(".queue-row");
    var button = event.submitter || form.querySelector("button");
    if (!row || !button) return;
    event.preventDefault();
    select(row);
    if (button.dataset.action === "undo") {
      var id = Number(row.dataset.id);
      undoStack = undoStack.filter(function (done) { return done.id !== id; });
      undoStack.push({ id: id, event: Number(row.dataset.event) });
      undo();
    } else {
      act(row, button.dataset.action, false);
    }
  });

  queue.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-ban]");
    if (!link) return;
    event.preventDefault();
    var row = link.closest(".queue-row");
    select(row);
    openBan(row);
  });

  queue.addEventListener("focusin", function (event) {
    var row = event.target.closest(".queue-row");
    if (row && row !== current()) {
      var previous = current();
      if (previous) previous.removeAttribute("aria-current");
      row.setAttribute("aria-current", "true");
      loadHistory(row);
    }
  });
})();
