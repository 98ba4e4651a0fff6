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

  function themedLayout(layout) {
    return applyUpdate(JSON.parse(JSON.stringify(layout)), themeUpdate());
  }

  // Month and whole-number x axes: charts.py gives them their smallest step (dtick "M1" or 1,
  // so no tick falls between two months or two numbers); here it is widened to the first of
  // these steps that leaves each label room at the chart's width (a year of months on a phone),
  // counted over the rows drawn (a page's date range may have left some out), and the ticks
  // start at the first month drawn, so it is always labelled.
  var X_STEPS = { month: [1, 2, 3, 4, 6, 12, 24, 60], whole: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] };

  function xStepKind(axis) {
    if (axis && axis.dtick === "M1") return "month";
    if (axis && axis.dtick === 1) return "whole";
    return null;
  }

  function xPosition(value, kind) {
    if (value === null || value === undefined || value === "") return NaN;
    if (kind === "whole") return Number(value);
    var text = String(value); // "2026-09-01": months since the year 0
    return Number(text.slice(0, 4)) * 12 + Number(text.slice(5, 7)) - 1;
  }

  // {dtick, tick0} of this chart's x axis at its width now; null when it is not stepped.
  function xTicks(node, figure) {
    var kind = xStepKind(figure.layout.xaxis);
    if (!kind) return null;
    var low = Infinity, high = -Infinity;
    figure.data.forEach(function (trace) {
      (Array.isArray(trace.x) ? trace.x : []).forEach(function (value) {
        var position = xPosition(value, kind);
        if (isNaN(position)) return;
        low = Math.min(low, position);
        high = Math.max(high, position);
      });
    });
    if (high < low) return null;
    var margin = figure.layout.margin || {};
    var width = node.clientWidth - (margin.l || 80) - (margin.r || 80) - 12; // the plot's width
    // a label's width and a gap: "Sep 2026" is about 58 px at the site's 12 px axis font
    var chars = kind === "month" ? 8 : String(Math.round(Math.max(-low, high))).length;
    var labelPx = 14 + 7.2 * chars;
    var steps = X_STEPS[kind], step = steps[steps.length - 1];
    for (var i = 0; i < steps.length; i++) {
      if (Math.ceil((high - low + 1) / steps[i]) * labelPx <= width) { step = steps[i]; break; }
    }
    if (kind === "whole") return { dtick: step, tick0: 0 };
    var year = Math.floor(low / 12), month = low % 12 + 1;
    return { dtick: "M" + step, tick0: year + "-" + (month < 10 ? "0" : "") + month + "-01" };
  }

  // Draw (or redraw) one chart; pages with inputs call it again when a filter changes.
  function plot(node, figure) {
    var layout = themedLayout(figure.layout);
    var ticks = xTicks(node, figure);
    if (ticks) Object.assign(layout.xaxis, ticks);
    node.jmFigure = figure; // the figure drawn, for a new step when the window is resized
    return Plotly.react(node, figure.data, layout, config).then(function () {
      node.setAttribute("data-rendered", "true");
    });
  }

  function renderedCharts() {
    return document.querySelectorAll(".jm-chart[data-rendered]");
  }

  // On screen now (a chart's container holds its height before it is drawn).
  function onScreen(node) {
    var box = node.getBoundingClientRect();
    return box.bottom > 0 && box.top < window.innerHeight;
  }

  // The charts on screen first, then the others one per frame: the first screen is ready
  // without waiting for charts further down.
  function drawCharts() {
    if (typeof Plotly === "undefined") return;
    var later = [];
    document.querySelectorAll(".jm-chart[data-chart]").forEach(function (node) {
      var figure = page.charts[node.getAttribute("data-chart")];
      if (!figure) return;
      if (onScreen(node)) plot(node, figure);
      else later.push([node, figure]);
    });
    var next = function () {
      var item = later.shift();
      if (item) plot(item[0], item[1]).then(function () { window.requestAnimationFrame(next); });
    };
    window.requestAnimationFrame(next);
  }

  if (typeof Plotly !== "undefined") {
    if (dark && dark.addEventListener) {
      dark.addEventListener("change", function () {
        var next = themeUpdate();
        renderedCharts().forEach(function (node) { Plotly.relayout(node, next); });
      });
    }
    // Paper is white whatever the screen theme: print with dark text and light grid lines.
    var printTheme = {
      "font.color": "#000", "xaxis.gridcolor": "#ddd", "yaxis.gridcolor": "#ddd",
      "xaxis.zerolinecolor": "#888", "yaxis.zerolinecolor": "#888",
      "xaxis.linecolor": "#ddd", "yaxis.linecolor": "#ddd"
    };
    var resizing = false;
    window.addEventListener("resize", function () {
      if (resizing) return;
      resizing = true;
      window.requestAnimationFrame(function () {
        resizing = false;
        renderedCharts().forEach(function (node) {
          var ticks = node.jmFigure ? xTicks(node, node.jmFigure) : null;
          if (ticks && node.layout.xaxis.dtick !== ticks.dtick) {
            Plotly.relayout(node, { "xaxis.dtick": ticks.dtick, "xaxis.tick0": ticks.tick0 });
          }
        });
      });
    });
    window.addEventListener("beforeprint", function () {
      renderedCharts().forEach(function (node) { Plotly.relayout(node, printTheme); });
    });
    window.addEventListener("afterprint", function () {
      var screen = themeUpdate();
      renderedCharts().forEach(function (node) { Plotly.relayout(node, screen); });
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
    // The page's filters (inputs.js) apply to downloads too: the CSV has the rows on screen.
    var keep = site.keepRow || function () { return true; };
    data.rows.forEach(function (row) {
      if (keep(data.columns, row)) lines.push(row.map(csvCell).join(","));
    });
    var blob = new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" });
    var url = URL.createObjectURL(blob);
    var link = document.createElement("a");
    link.href = url;
    link.download = page.page + "-" + (data.name || name) + ".csv";
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

  // Tables' "show all" state; run again on parts a page's inputs swap in.
  function enhance(root) {
    root.querySelectorAll(".jm-show-all:not([data-label])").forEach(function (button) {
      button.setAttribute("data-label", button.textContent);
    });
    root.querySelectorAll(".jm-table:not([data-visible])").forEach(function (table) {
      var hidden = table.querySelectorAll("tr.jm-more").length;
      table.setAttribute("data-visible", String(table.tBodies[0].rows.length - hidden));
    });
  }

  var site = window.jmSite = {
    page: page, plot: plot, enhance: enhance, onScreen: onScreen, keepRow: null
  };
  enhance(document);


  // --- Visual defaults (issue 13 §3): wide tables say they scroll; heatmaps keep readable
  // cells on a phone by scrolling sideways. Re-run when the page swaps in other content.
  var HEATMAP_COLUMN_PX = 44;

  function markWideTables() {
    document.querySelectorAll(".jm-table-wrap, .jm-heatmap-scroll").forEach(function (wrap) {
      var wide = wrap.scrollWidth > wrap.clientWidth + 1;
      wrap.setAttribute("data-overflow", wide ? "true" : "false");
      var hint = wrap.previousElementSibling;
      if (!hint || !hint.classList.contains("jm-table-hint")) {
        hint = document.createElement("p");
        hint.className = "jm-table-hint";
        hint.setAttribute("aria-hidden", "true");
        hint.textContent = "scroll sideways for more →";
        wrap.parentNode.insertBefore(hint, wrap);
      }
      hint.hidden = !wide;
    });
  }

  function widenHeatmaps() {
    document.querySelectorAll(".jm-chart[data-chart]").forEach(function (node) {
      var figure = page.charts[node.getAttribute("data-chart")];
      if (!figure || node.getAttribute("data-heatmap-width")) return;
      var heatmap = (figure.data || []).filter(function (trace) { return trace.type === "heatmap"; })[0];
      if (!heatmap) return;
      var width = (heatmap.x || []).length * HEATMAP_COLUMN_PX + 140;
      node.setAttribute("data-heatmap-width", String(width));
      node.style.minWidth = width + "px";
      if (!node.parentNode.classList.contains("jm-heatmap-scroll")) {
        var scroller = document.createElement("div");
        scroller.className = "jm-heatmap-scroll";
        node.parentNode.insertBefore(scroller, node);
        scroller.appendChild(node);
      }
      if (node.getAttribute("data-rendered") && typeof Plotly !== "undefined") Plotly.Plots.resize(node);
    });
  }

  widenHeatmaps();
  window.addEventListener("load", markWideTables);
  window.addEventListener("resize", markWideTables);
  if (window.MutationObserver) {
    var pending = false;
    new MutationObserver(function (mutations) {
      // Plotly redraws inside its charts all the time (hover); only new page content counts.
      var outside = mutations.some(function (m) { return !(m.target.closest && m.target.closest(".jm-chart")); });
      if (pending || !outside) return;
      pending = true;
      window.requestAnimationFrame(function () { pending = false; widenHeatmaps(); markWideTables(); });
    }).observe(document.body, { childList: true, subtree: true });
  }

  // A page with inputs draws its charts once it has read them from the URL (inputs.js).
  if (!(page.inputs && page.inputs.length)) drawCharts();
})();
