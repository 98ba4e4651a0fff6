/* Searchable tables, lazy tables and detail dialogs (components DataTable search/lazy/detail and
   DetailDialog; see AUTHORING.md).

   - A table with a search box keeps the rows whose text contains every word typed.
   - A lazy table has only its first rows in the page. Its rows are in a script next to the page
     (column-wise: a column of distinct texts as they are, "t"; any other its distinct texts
     once, "d", plus an index per row, "c"; raw values to sort by or open, "v"), loaded on the
     first search or sort; it then shows the first LAZY_SHOWN matching rows in the chosen order.
   - A cell of a table's detail= column is a button: it opens the page's dialog with that key's
     details, which the page carries packed (gzip + base64) and unpacks on the first open. */
(function () {
  "use strict";

  var LAZY_SHOWN = 100;
  var lazyTables = new WeakMap();
  var loading = {};

  function words(text) {
    return text.toLowerCase().split(/\s+/).filter(Boolean);
  }

  function matches(text, terms) {
    for (var i = 0; i < terms.length; i += 1) if (text.indexOf(terms[i]) < 0) return false;
    return true;
  }

  function countNode(table) {
    return table.closest(".jm-card").querySelector(".jm-search-count");
  }

  function number(n) {
    return n.toLocaleString("en-US");
  }

  // --- Tables whose rows are all in the page ---------------------------------------------
  function searchInPage(table, query) {
    var terms = words(query);
    table.classList.toggle("jm-searching", terms.length > 0);
    var shown = 0, total = 0;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      if (row.jmText === undefined) row.jmText = row.textContent.toLowerCase();
      var ok = matches(row.jmText, terms);
      row.classList.toggle("jm-search-hidden", !ok);
      if (!row.classList.contains("jm-out")) {
        total += 1;
        if (ok) shown += 1;
      }
    });
    countNode(table).textContent = terms.length
      ? number(shown) + " of " + number(total) + " rows match"
      : "";
  }

  // --- Lazy tables ---------------------------------------------------------------------------
  function loadLazy(name) {
    if (!loading[name]) {
      loading[name] = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = name;
        script.onload = function () { resolve(window.jmLazy[name]); };
        script.onerror = function () { reject(new Error("could not load " + name)); };
        document.head.appendChild(script);
      });
    }
    return loading[name];
  }

  function cellText(column, row) {
    return column.t ? column.t[row] : column.d[column.c[row]];
  }

  function lazyState(table) {
    var state = lazyTables.get(table);
    if (state) return Promise.resolve(state);
    var name = table.getAttribute("data-lazy");
    countNode(table).textContent = "Loading " + number(Number(table.getAttribute("data-lazy-total"))) + " rows…";
    return loadLazy(name).then(function (data) {
      var text = [];
      for (var row = 0; row < data.rows; row += 1) {
        text.push(data.columns.map(function (column) { return cellText(column, row); }).join(" ").toLowerCase());
      }
      var order = [];
      for (var i = 0; i < data.rows; i += 1) order.push(i);
      state = { data: data, text: text, order: order, query: "" };
      lazyTables.set(table, state);
      return state;
    });
  }

  function cellValue(column, row) {
    return column.v ? column.v[row] : cellText(column, row);
  }

  function renderLazy(table, state) {
    var heads = table.querySelectorAll("thead th");
    var numeric = Array.prototype.map.call(heads, function (th) { return th.classList.contains("num"); });
    var detailColumn = table.getAttribute("data-detail");
    var detailAt = Array.prototype.map.call(heads, function (th) { return th.getAttribute("data-column"); }).indexOf(detailColumn);
    var terms = words(state.query);
    var found = 0, body = document.createDocumentFragment();
    for (var i = 0; i < state.order.length; i += 1) {
      var row = state.order[i];
      if (terms.length && !matches(state.text[row], terms)) continue;
      found += 1;
      if (found > LAZY_SHOWN) continue;
      var tr = document.createElement("tr");
      state.data.columns.forEach(function (column, index) {
        var td = document.createElement("td");
        var text = cellText(column, row);
        if (numeric[index]) td.className = "num";
        var key = column.v ? column.v[row] : text;
        if (index === detailAt && key !== null && key !== undefined) {
          var button = document.createElement("button");
          button.type = "button";
          button.className = "jm-detail-open";
          button.setAttribute("data-key", String(key));
          button.setAttribute("aria-haspopup", "dialog");
          button.textContent = text;
          td.appendChild(button);
        } else {
          td.textContent = text;
        }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    }
    var tbody = table.tBodies[0];
    tbody.textContent = "";
    tbody.appendChild(body);
    var total = state.data.rows;
    var shown = Math.min(found, LAZY_SHOWN);
    countNode(table).textContent = terms.length
      ? number(found) + " of " + number(total) + " rows match" + (found > shown ? "; the first " + shown + " are shown" : "")
      : "The first " + shown + " of " + number(total) + " rows" + (state.sorted ? ", sorted by " + state.sorted : "");
    var note = table.closest(".jm-card").querySelector(".jm-note");
    if (note) note.hidden = true;
  }

  function sortLazy(table, button) {
    var index = Number(button.getAttribute("data-col"));
    var direction = button.getAttribute("data-dir") === "asc" ? "desc" : "asc";
    lazyState(table).then(function (state) {
      table.querySelectorAll(".jm-sort").forEach(function (other) { other.removeAttribute("data-dir"); });
      button.setAttribute("data-dir", direction);
      var column = state.data.columns[index];
      var sign = direction === "asc" ? 1 : -1;
      state.order.sort(function (a, b) {
        var x = cellValue(column, a), y = cellValue(column, b);
        if (x === null || x === undefined) return y === null || y === undefined ? a - b : 1;
        if (y === null || y === undefined) return -1;
        var result = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
        return result ? sign * result : a - b;
      });
      state.sorted = button.textContent + (direction === "asc" ? " (ascending)" : " (descending)");
      renderLazy(table, state);
    }, function (error) { countNode(table).textContent = error.message; });
  }

  // --- Detail dialogs ------------------------------------------------------------------------
  var details = new WeakMap();

  function unpack(node) {
    var bytes = Uint8Array.from(atob(node.textContent.trim()), function (c) { return c.charCodeAt(0); });
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text().then(JSON.parse);
  }

  function openDetail(button) {
    var dialog = document.querySelector("dialog.jm-detail");
    if (!dialog) return;
    var node = dialog.nextElementSibling;
    var packed = details.get(node);
    if (!packed) {
      packed = unpack(node);
      details.set(node, packed);
    }
    var key = button.getAttribute("data-key");
    packed.then(function (data) {
      dialog.querySelector(".jm-detail-title").textContent = data.title + " " + button.textContent.trim();
      var body = dialog.querySelector(".jm-detail-body");
      if (Object.prototype.hasOwnProperty.call(data.details, key)) {
        body.innerHTML = data.details[key];
      } else {
        body.textContent = "";
        var p = document.createElement("p");
        p.className = "jm-empty";
        p.textContent = dialog.getAttribute("data-missing") || "No details for this row.";
        body.appendChild(p);
      }
      dialog.jmOpener = button;
      if (!dialog.open) dialog.showModal();
      dialog.querySelector(".jm-detail-close").focus();
    });
  }

  // --- Events --------------------------------------------------------------------------------
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.closest || !input.closest(".jm-search")) return;
    var table = input.closest(".jm-card").querySelector("table.jm-table");
    if (table.hasAttribute("data-lazy")) {
      lazyState(table).then(function (state) {
        state.query = input.value;
        renderLazy(table, state);
      }, function (error) { countNode(table).textContent = error.message; });
    } else {
      searchInPage(table, input.value);
    }
  });

  document.addEventListener("focusin", function (event) {
    var input = event.target;
    if (!input.closest || !input.closest(".jm-search")) return;
    var table = input.closest(".jm-card").querySelector("table.jm-table[data-lazy]");
    if (table) lazyState(table).then(function () { countNode(table).textContent = ""; }, function () {});
  });

  // Capture: a lazy table sorts its whole index, not the rows in the page (site.js sorts those).
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button");
    if (!button) return;
    if (button.classList.contains("jm-sort")) {
      var table = button.closest("table");
      if (table && table.hasAttribute("data-lazy")) {
        event.stopPropagation();
        sortLazy(table, button);
      }
    } else if (button.classList.contains("jm-detail-open")) {
      openDetail(button);
    } else if (button.classList.contains("jm-detail-close")) {
      button.closest("dialog").close();
    }
  }, true);

  document.addEventListener("click", function (event) {
    // a click on the backdrop (outside the dialog's box) closes it
    var dialog = event.target;
    if (dialog.tagName !== "DIALOG" || !dialog.classList.contains("jm-detail")) return;
    var box = dialog.getBoundingClientRect();
    var inside = event.clientX >= box.left && event.clientX <= box.right && event.clientY >= box.top && event.clientY <= box.bottom;
    if (!inside) dialog.close();
  });

  document.addEventListener("close", function (event) {
    var dialog = event.target;
    if (dialog.jmOpener && document.contains(dialog.jmOpener)) dialog.jmOpener.focus();
  }, true);
})();
