/* JobMetrics report site: draws the page's Plotly charts, CSV downloads, sortable tables, menu.
   Everything the page needs is in the page (#jm-page-data) and in assets/; nothing is fetched. */
(function () {
  "use strict";

  var dataNode = document.getElementById("jm-page-data");
  var page = dataNode ? JSON.parse(dataNode.textContent) : { page: "page", datasets: {}, charts: {} };
  var dark = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function themeUpdate() {
    var text = cssVar("--text"), grid = cssVar("--grid"), muted = cssVar("--muted");
    return {
      "font.color": text,
      "font.family": getComputedStyle(document.body).fontFamily,
      "xaxis.gridcolor": grid, "yaxis.gridcolor": grid,
      "xaxis.zerolinecolor": muted, "yaxis.zerolinecolor": muted,
      "xaxis.linecolor": grid, "yaxis.linecolor": grid,
      "hoverlabel.bgcolor": cssVar("--panel"), "hoverlabel.font.color": text
    };
  }

  function applyUpdate(layout, update) {
    Object.keys(update).forEach(function (path) {
      var keys = path.split("."), node = layout;
      for (var i = 0; i < keys.length - 1; i++) {
        if (!node[keys[i]] || typeof node[keys[i]] !== "object") node[keys[i]] = {};
        node = node[keys[i]];
      }
      node[keys[keys.length - 1]] = update[path];
    });
    return layout;
  }

  var config = {
    displaylogo: false,
    responsive: true,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"],
    toImageButtonOptions: { format: "png", scale: 2 }
  };

  function drawCharts() {
    if (typeof Plotly === "undefined") return;
    var nodes = document.querySelectorAll(".jm-chart[data-chart]");
    var update = themeUpdate();
    Array.prototype.forEach.call(nodes, function (node) {
      var figure = page.charts[node.getAttribute("data-chart")];
      if (!figure) return;
      var layout = applyUpdate(JSON.parse(JSON.stringify(figure.layout)), update);
      Plotly.newPlot(node, figure.data, layout, config).then(function () {
        node.setAttribute("data-rendered", "true");
      });
    });
    if (dark && dark.addEventListener) {
      dark.addEventListener("change", function () {
        var next = themeUpdate();
        Array.prototype.forEach.call(nodes, function (node) {
          if (node.getAttribute("data-rendered")) Plotly.relayout(node, next);
        });
      });
    }
    // Paper is white whatever the screen theme: print with dark text and light grid lines.
    var printTheme = {
      "font.color": "#000", "xaxis.gridcolor": "#ddd", "yaxis.gridcolor": "#ddd",
      "xaxis.zerolinecolor": "#888", "yaxis.zerolinecolor": "#888",
      "xaxis.linecolor": "#ddd", "yaxis.linecolor": "#ddd"
    };
    window.addEventListener("beforeprint", function () {
      Array.prototype.forEach.call(nodes, function (node) {
        if (node.getAttribute("data-rendered")) Plotly.relayout(node, printTheme);
      });
    });
    window.addEventListener("afterprint", function () {
      var screen = themeUpdate();
      Array.prototype.forEach.call(nodes, function (node) {
        if (node.getAttribute("data-rendered")) Plotly.relayout(node, screen);
      });
    });
  }

  function csvCell(value) {
    if (value === null || value === undefined) return "";
    var text = String(value);
    // Text a spreadsheet would run as a formula (=, +, -, @, tab, CR first) is kept as text by
    // a leading apostrophe; numbers are JSON numbers, so negative amounts stay numbers.
    if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = "'" + text;
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function download(name) {
    var data = page.datasets[name];
    if (!data) return;
    var lines = [data.columns.map(csvCell).join(",")];
    data.rows.forEach(function (row) { lines.push(row.map(csvCell).join(",")); });
    var blob = new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" });
    var url = URL.createObjectURL(blob);
    var link = document.createElement("a");
    link.href = url;
    link.download = page.page + "-" + name + ".csv";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }

  function sortTable(button) {
    var table = button.closest("table");
    var column = Number(button.getAttribute("data-col"));
    var direction = button.getAttribute("data-dir") === "asc" ? "desc" : "asc";
    table.querySelectorAll(".jm-sort").forEach(function (other) { other.removeAttribute("data-dir"); });
    button.setAttribute("data-dir", direction);
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    function key(row) {
      var cell = row.cells[column];
      var raw = cell.hasAttribute("data-v") ? cell.getAttribute("data-v") : cell.textContent;
      var number = Number(raw);
      return raw !== "" && !isNaN(number) ? number : raw;
    }
    rows.sort(function (a, b) {
      var x = key(a), y = key(b), result;
      if (typeof x === "number" && typeof y === "number") result = x - y;
      else result = String(x).localeCompare(String(y));
      return direction === "asc" ? result : -result;
    });
    var visible = Number(table.getAttribute("data-visible") || rows.length);
    rows.forEach(function (row, index) {
      row.classList.toggle("jm-more", index >= visible);
      body.appendChild(row);
    });
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest("button");
    if (!target) return;
    if (target.classList.contains("jm-download")) download(target.getAttribute("data-dataset"));
    else if (target.classList.contains("jm-sort")) sortTable(target);
    else if (target.classList.contains("jm-show-all")) {
      var table = target.closest(".jm-card").querySelector("table");
      var expanded = table.classList.toggle("jm-expanded");
      target.textContent = expanded ? "Show fewer rows" : target.getAttribute("data-label") || "Show all rows";
    } else if (target.classList.contains("jm-menu")) {
      var open = document.getElementById("jm-sidebar").classList.toggle("jm-open");
      target.setAttribute("aria-expanded", open ? "true" : "false");
    }
  });

  document.querySelectorAll(".jm-show-all").forEach(function (button) {
    button.setAttribute("data-label", button.textContent);
  });
  document.querySelectorAll(".jm-table").forEach(function (table) {
    var hidden = table.querySelectorAll("tr.jm-more").length;
    table.setAttribute("data-visible", String(table.tBodies[0].rows.length - hidden));
  });

  drawCharts();
})();
