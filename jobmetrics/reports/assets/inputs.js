/* JobMetrics report inputs: dropdowns, button groups and date ranges, read from and written to
   the URL hash, so a filtered view can be bookmarked and the back button works.

   View inputs (a single dropdown, a button group) pick one of the views the builder rendered
   (page.views: view key → chunk ids); only the chunks that differ are swapped in. Row filters
   (a date range, a multiple dropdown) keep the rows of charts, tables, CSV downloads, tiles and
   per-period text whose filtered column passes. Nothing is fetched: every view is in the page. */
(function () {
  "use strict";

  var site = window.jmSite;
  var page = site.page;
  var specs = page.inputs || [];
  var container = document.getElementById("jm-view");
  if (!specs.length || !container) return;

  var byName = {};
  specs.forEach(function (spec) { byName[spec.name] = spec; });
  var chunkHtml = {};
  Object.keys(page.chunks || {}).forEach(function (id) { chunkHtml[id] = page.chunks[id]; });
  var MARK = /^jm-chunk:(\w+)$/;

  // ---------------------------------------------------------------------------------------
  // Chunks of the view in the page: each starts at a <!--jm-chunk:ID--> comment.

  function chunkNodes() {
    var result = [], current = null;
    Array.prototype.forEach.call(container.childNodes, function (node) {
      var match = node.nodeType === 8 ? MARK.exec(node.nodeValue) : null;
      if (match) {
        current = { id: match[1], marker: node, nodes: [] };
        result.push(current);
      } else if (current) {
        current.nodes.push(node);
      }
    });
    return result;
  }

  function serialize(nodes) {
    return nodes.map(function (node) {
      return node.nodeType === 1 ? node.outerHTML : node.nodeType === 3 ? node.textContent : "";
    }).join("");
  }

  // The default view's chunks are in the page already: keep their HTML before anything is drawn.
  chunkNodes().forEach(function (chunk) {
    if (!(chunk.id in chunkHtml)) chunkHtml[chunk.id] = serialize(chunk.nodes);
  });

  function swapView(ids) {
    var current = chunkNodes();
    var same = current.length === ids.length;
    if (!same) {
      if (window.Plotly) {
        container.querySelectorAll(".jm-chart[data-rendered]").forEach(function (chart) { Plotly.purge(chart); });
      }
      container.innerHTML = ids.map(function (id) {
        return "<!--jm-chunk:" + id + "-->\n" + chunkHtml[id];
      }).join("");
      return;
    }
    current.forEach(function (chunk, index) {
      var id = ids[index];
      if (chunk.id === id) return;
      var range = document.createRange();
      range.setStartAfter(chunk.marker);
      var fragment = range.createContextualFragment(chunkHtml[id]);
      // A chart in the same place keeps its drawn plot: Plotly updates it with the new figure
      // (about half the time of drawing a new one).
      var oldCharts = [];
      chunk.nodes.forEach(function (node) {
        if (node.nodeType !== 1) return;
        if (node.matches(".jm-chart")) oldCharts.push(node);
        node.querySelectorAll(".jm-chart").forEach(function (chart) { oldCharts.push(chart); });
      });
      fragment.querySelectorAll(".jm-chart").forEach(function (fresh, position) {
        var kept = oldCharts[position];
        if (!kept || !kept.getAttribute("data-rendered")) return;
        ["data-chart", "id", "aria-label", "style"].forEach(function (name) {
          kept.setAttribute(name, fresh.getAttribute(name) || "");
        });
        ["data-rendered", "data-sig", "data-heatmap-width"].forEach(function (name) {
          kept.removeAttribute(name);
        });
        kept.setAttribute("data-kept", "true");
        fresh.replaceWith(kept);
        oldCharts[position] = null;
      });
      oldCharts.forEach(function (chart) { if (chart && window.Plotly) Plotly.purge(chart); });
      chunk.nodes.forEach(function (node) { node.remove(); });
      chunk.marker.parentNode.insertBefore(fragment, chunk.marker.nextSibling);
      chunk.marker.nodeValue = "jm-chunk:" + id;
    });
  }

  // ---------------------------------------------------------------------------------------
  // State <-> URL hash: name=value pairs, defaults left out; a token without "=" is an anchor.

  function defaultState() {
    var state = {};
    specs.forEach(function (spec) {
      if (spec.kind === "DateRange") state[spec.name] = rangeOf(spec, spec["default"][0]);
      else if (spec.view) state[spec.name] = spec["default"][0];
      else state[spec.name] = spec["default"].length ? spec["default"].slice() : null;
    });
    return state;
  }

  function preset(spec, key) {
    return spec.presets.filter(function (item) { return item.key === key; })[0];
  }

  function rangeOf(spec, key) {
    var found = preset(spec, key) || preset(spec, "all");
    return { preset: found.key, start: found.start, end: spec.values[spec.values.length - 1] };
  }

  function parseHash() {
    var state = defaultState(), anchor = null;
    var text = window.location.hash.replace(/^#/, "");
    text.split("&").forEach(function (token) {
      if (!token) return;
      var at = token.indexOf("=");
      if (at < 0) { anchor = decodeURIComponent(token); return; }
      var spec = byName[decodeURIComponent(token.slice(0, at))];
      var raw = token.slice(at + 1);
      if (!spec) return;
      if (spec.kind === "DateRange") {
        var parts = raw.split("~");
        if (parts.length === 2) {
          var start = decodeURIComponent(parts[0]), end = decodeURIComponent(parts[1]);
          if (spec.values.indexOf(start) >= 0 && spec.values.indexOf(end) >= 0) {
            state[spec.name] = start <= end
              ? { preset: "custom", start: start, end: end }
              : { preset: "custom", start: end, end: start };
          }
        } else if (preset(spec, decodeURIComponent(raw))) {
          state[spec.name] = rangeOf(spec, decodeURIComponent(raw));
        }
      } else if (spec.view) {
        if (spec.values.indexOf(decodeURIComponent(raw)) >= 0) state[spec.name] = decodeURIComponent(raw);
      } else {
        var picked = raw === "" ? [] : raw.split(",").map(decodeURIComponent).filter(function (value) {
          return spec.values.indexOf(value) >= 0;
        });
        state[spec.name] = picked.length === spec.values.length ? null : picked;
      }
    });
    return { state: state, anchor: anchor };
  }

  function hashOf(state, anchor) {
    var tokens = anchor ? [encodeURIComponent(anchor)] : [];
    specs.forEach(function (spec) {
      var value = state[spec.name], text = null;
      if (spec.kind === "DateRange") {
        if (value.preset === "custom") {
          text = encodeURIComponent(value.start) + "~" + encodeURIComponent(value.end);
        } else if (value.preset !== spec["default"][0]) {
          text = encodeURIComponent(value.preset);
        }
      } else if (spec.view) {
        if (value !== spec["default"][0]) text = encodeURIComponent(value);
      } else if (value !== null) {
        text = value.map(encodeURIComponent).join(",");
      }
      if (text !== null) tokens.push(encodeURIComponent(spec.name) + "=" + text);
    });
    return tokens.join("&");
  }

  var current = parseHash();

  function navigate(state) {
    var hash = hashOf(state, null);
    if (hash === window.location.hash.replace(/^#/, "")) return;
    started = performance.now();
    window.location.hash = hash;  // a history entry; hashchange applies it
  }

  // ---------------------------------------------------------------------------------------
  // Row filters: a test per filtered column.

  function filters(state) {
    var list = [];
    specs.forEach(function (spec) {
      var value = state[spec.name];
      if (spec.kind === "DateRange") {
        var last = spec.values[spec.values.length - 1];
        if (value.start === spec.values[0] && value.end === last) return;
        // A daily column is kept through the last day of the range's last period.
        var through = spec.ends[spec.values.indexOf(value.end)] || value.end;
        list.push({
          columns: spec.columns, key: value.start + "~" + value.end,
          range: { start: value.start, end: through, last: value.end },
          test: function (cell) {
            if (cell === null || cell === undefined) return true;
            var day = String(cell).slice(0, 10);
            return day >= value.start && day <= through;
          }
        });
      } else if (!spec.view && value !== null) {
        var keep = {};
        value.forEach(function (item) { keep[item] = true; });
        list.push({
          columns: spec.columns, key: value.join(","),
          test: function (cell) { return cell !== null && cell !== undefined && keep[String(cell)] === true; }
        });
      }
    });
    return list;
  }

  function testsFor(list, column) {
    return list.filter(function (item) { return item.columns.indexOf(column) >= 0; });
  }

  function passes(tests, cell) {
    for (var i = 0; i < tests.length; i++) if (!tests[i].test(cell)) return false;
    return true;
  }

  function pick(array, keep) {
    return Array.isArray(array) && array.length === keep.length
      ? array.filter(function (_, i) { return keep[i]; })
      : array;
  }

  // A chart drawn once per period (a waterfall of one month): the range's last period's trace.
  function periodFigure(figure, list) {
    var meta = figure.jm || {};
    var range = meta.period ? rangeFor(list, meta.period) : null;
    if (!range) return figure;
    var chosen = null;
    Object.keys(meta.periods).sort().forEach(function (period) {
      var day = period.slice(0, 10);
      if (day >= range.start && day <= range.end) chosen = period;
    });
    var data = chosen ? [Object.assign({}, figure.data[0], meta.periods[chosen])] : [];
    return { data: data, layout: figure.layout, jm: meta };
  }

  function filterFigure(figure, list) {
    figure = periodFigure(figure, list);
    var meta = figure.jm || {};
    var xTests = meta.x ? testsFor(list, meta.x) : [];
    var seriesTests = meta.series ? testsFor(list, meta.series) : [];
    var yTests = meta.y ? testsFor(list, meta.y) : [];
    if (!xTests.length && !seriesTests.length && !yTests.length) return figure;
    var data = [];
    figure.data.forEach(function (trace) {
      if (seriesTests.length && trace.meta !== undefined && !passes(seriesTests, trace.meta)) return;
      var copy = Object.assign({}, trace);
      if (trace.type === "heatmap") {
        if (yTests.length && Array.isArray(trace.meta)) {
          var rows = trace.meta.map(function (value) { return passes(yTests, value); });
          copy.y = pick(trace.y, rows); copy.z = pick(trace.z, rows); copy.text = pick(trace.text, rows);
        }
        if (xTests.length) {
          var columns = trace.x.map(function (value) { return passes(xTests, value); });
          copy.x = pick(trace.x, columns);
          copy.z = copy.z.map(function (row) { return pick(row, columns); });
          if (Array.isArray(copy.text)) copy.text = copy.text.map(function (row) { return pick(row, columns); });
        }
      } else if (xTests.length && Array.isArray(trace.x)) {
        var keep = trace.x.map(function (value) { return passes(xTests, value); });
        ["x", "y", "text", "customdata", "hovertext"].forEach(function (key) {
          if (key in trace) copy[key] = pick(trace[key], keep);
        });
        if (trace.marker) {
          copy.marker = Object.assign({}, trace.marker);
          ["color", "pattern"].forEach(function (key) {
            if (Array.isArray(trace.marker[key])) copy.marker[key] = pick(trace.marker[key], keep);
          });
        }
      }
      data.push(copy);
    });
    var layout = figure.layout;
    if (xTests.length && (layout.annotations || layout.shapes)) {
      layout = Object.assign({}, layout);
      var inRange = function (item) {
        var x = item.x !== undefined ? item.x : item.x0;
        return item.xref === "paper" || x === undefined || passes(xTests, x);
      };
      if (layout.annotations) layout.annotations = layout.annotations.filter(inRange);
      if (layout.shapes) layout.shapes = layout.shapes.filter(inRange);
    }
    return { data: data, layout: layout };
  }

  function signature(figure, list) {
    var meta = figure.jm || {};
    return JSON.stringify([meta.x, meta.series, meta.y, meta.period].map(function (column) {
      return column ? testsFor(list, column).map(function (item) { return item.key; }) : null;
    }));
  }

  // Charts on screen are drawn at once; the others one per frame afterwards, so a
  // change redraws what the reader sees first. A newer change stops an older one's drawing.
  var generation = 0;

  function drawCharts(list) {
    var now = [], later = [];
    generation += 1;
    container.querySelectorAll(".jm-chart[data-chart]").forEach(function (node) {
      var figure = page.charts[node.getAttribute("data-chart")];
      if (!figure) return;
      var sig = signature(figure, list);
      if (node.getAttribute("data-rendered") && node.getAttribute("data-sig") === sig) return;
      node.setAttribute("data-sig", sig);
      node.removeAttribute("data-rendered");
      (site.onScreen(node) ? now : later).push(node);
    });
    var draw = function (node) {
      return site.plot(node, filterFigure(page.charts[node.getAttribute("data-chart")], list));
    };
    var mine = generation;
    // Called once the change is on screen: the charts further down, one per frame.
    drawLater = function () {
      var next = function () {
        if (mine !== generation || !later.length) return;
        var node = later.shift();
        if (!node.isConnected) { next(); return; }
        draw(node).then(function () { window.requestAnimationFrame(next); });
      };
      window.requestAnimationFrame(next);
    };
    return Promise.all(now.map(draw));
  }

  var drawLater = function () {};

  function filterTables(list) {
    container.querySelectorAll("table.jm-table").forEach(function (table) {
      var tests = [];
      table.querySelectorAll("thead th[data-column]").forEach(function (th, index) {
        var found = testsFor(list, th.getAttribute("data-column"));
        if (found.length) tests.push({ index: index, tests: found });
      });
      var visible = Number(table.getAttribute("data-visible") || 12);
      var kept = 0;
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        var ok = tests.every(function (item) {
          var cell = row.cells[item.index];
          var value = cell.hasAttribute("data-v") ? cell.getAttribute("data-v") : cell.textContent;
          return passes(item.tests, value);
        });
        row.classList.toggle("jm-out", !ok);
        if (ok) { row.classList.toggle("jm-more", kept >= visible); kept += 1; }
      });
      var card = table.closest(".jm-card");
      var button = card && card.querySelector(".jm-show-all");
      if (button) {
        button.hidden = kept <= visible;
        if (!table.classList.contains("jm-expanded")) button.textContent = "Show all " + kept.toLocaleString("en-US") + " rows";
        button.setAttribute("data-label", "Show all " + kept.toLocaleString("en-US") + " rows");
      }
      var empty = card && card.querySelector(".jm-filtered-empty");
      if (!kept && tests.length && !empty && card) {
        empty = document.createElement("p");
        empty.className = "jm-empty jm-filtered-empty";
        empty.textContent = "No rows in the selected range or values.";
        table.parentNode.after(empty);
      } else if (empty) {
        empty.hidden = kept > 0;
      }
    });
  }

  function filterLists(list) {
    container.querySelectorAll(".jm-alerts li[data-cells]").forEach(function (item) {
      var cells = JSON.parse(item.getAttribute("data-cells"));
      item.hidden = !Object.keys(cells).every(function (column) {
        var tests = testsFor(list, column);
        return !tests.length || passes(tests, cells[column]);
      });
    });
  }

  function dateRanges(list) {
    return list.filter(function (item) { return item.range; });
  }

  function rangeFor(list, column) {
    var found = dateRanges(list).filter(function (item) { return item.columns.indexOf(column) >= 0; });
    return found.length ? found[0].range : null;
  }

  function updateTiles(list) {
    container.querySelectorAll(".jm-bigvalue[data-series]").forEach(function (tile) {
      var series = JSON.parse(tile.getAttribute("data-series"));
      var range = rangeFor(list, tile.getAttribute("data-x"));
      var chosen = null;
      series.forEach(function (entry) {
        var day = String(entry[0]).slice(0, 10);
        if (!range || (day >= range.start && day <= range.end)) chosen = entry;
      });
      var value = tile.querySelector(".jm-bv-value");
      var comparison = tile.querySelector(".jm-bv-comparison");
      value.textContent = chosen ? chosen[1] : "–";
      var html = chosen ? chosen[2] : '<div class="jm-bv-comparison neutral">no data in the selected range</div>';
      if (comparison) comparison.outerHTML = html || '<div class="jm-bv-comparison neutral"></div>';
      // A tile with target= carries the target state of each period too (on / off track).
      var target = tile.querySelector(".jm-bv-target");
      if (target) target.outerHTML = chosen && chosen[3] ? chosen[3] : '<div class="jm-bv-target none">no data in the selected range</div>';
      tile.setAttribute("data-period", chosen ? String(chosen[0]) : "");
    });
  }

  function updatePeriodText(list) {
    var groups = {};
    container.querySelectorAll(".jm-per-period[data-column]").forEach(function (block) {
      var key = block.getAttribute("data-group") || block.getAttribute("data-column");
      (groups[key] = groups[key] || []).push(block);
    });
    Object.keys(groups).forEach(function (key) {
      var blocks = groups[key];
      var range = rangeFor(list, blocks[0].getAttribute("data-column"));
      var chosen = null;
      blocks.forEach(function (block) {
        var day = block.getAttribute("data-period").slice(0, 10);
        if (!range || (day >= range.start && day <= range.end)) chosen = block;
      });
      blocks.forEach(function (block) { block.hidden = block !== chosen; });
    });
    // A narrative is about the latest periods: say so when the range ends earlier.
    var ended = dateRanges(list).some(function (item) {
      var spec = specs.filter(function (s) { return s.columns === item.columns; })[0];
      return spec && item.range.last < spec.values[spec.values.length - 1];
    });
    container.querySelectorAll(".jm-narrative").forEach(function (block) {
      var note = block.querySelector(".jm-range-note");
      if (ended && !note) {
        note = document.createElement("p");
        note.className = "jm-note jm-range-note";
        note.textContent = "This summary is about the latest periods in the data, not the selected range.";
        block.appendChild(note);
      } else if (!ended && note) {
        note.remove();
      }
    });
  }

  // ---------------------------------------------------------------------------------------
  // Controls

  function labelOf(spec, value) {
    var control = document.querySelector('[data-input="' + spec.name + '"] input[value="' + CSS.escape(value) + '"]');
    return control ? control.parentNode.textContent.trim() : value;
  }

  function setControls(state) {
    specs.forEach(function (spec) {
      var control = container.querySelector('[data-input="' + spec.name + '"]');
      if (!control) return;
      var value = state[spec.name];
      if (spec.kind === "DateRange") {
        control.querySelector('[data-role="preset"]').value = value.preset;
        control.querySelector('[data-role="start"]').value = value.start;
        control.querySelector('[data-role="end"]').value = value.end;
      } else if (spec.kind === "ButtonGroup") {
        control.querySelectorAll("button[data-value]").forEach(function (button) {
          button.setAttribute("aria-pressed", button.getAttribute("data-value") === value ? "true" : "false");
        });
      } else if (spec.view) {
        control.querySelector("select").value = value;
      } else {
        control.querySelectorAll('input[type="checkbox"]').forEach(function (box) {
          box.checked = value === null || value.indexOf(box.value) >= 0;
        });
        var summary = control.querySelector(".jm-multi-summary");
        summary.textContent = value === null ? "All"
          : value.length === 0 ? "None"
          : value.length <= 2 ? value.map(function (item) { return labelOf(spec, item); }).join(", ")
          : value.length + " of " + spec.values.length;
      }
    });
  }

  function readControl(control, state, role) {
    var spec = byName[control.getAttribute("data-input")];
    var next = JSON.parse(JSON.stringify(state));
    if (spec.kind === "DateRange") {
      var presetKey = control.querySelector('[data-role="preset"]').value;
      if (role === "preset" && presetKey !== "custom") {
        next[spec.name] = rangeOf(spec, presetKey);
      } else {
        var start = control.querySelector('[data-role="start"]').value;
        var end = control.querySelector('[data-role="end"]').value;
        if (start > end) { var swap = start; start = end; end = swap; }
        next[spec.name] = { preset: "custom", start: start, end: end };
      }
    } else if (spec.view) {
      next[spec.name] = control.querySelector("select").value;
    } else {
      var picked = [];
      control.querySelectorAll('input[type="checkbox"]').forEach(function (box) {
        if (box.checked) picked.push(box.value);
      });
      next[spec.name] = picked.length === spec.values.length ? null : picked;
    }
    return next;
  }

  document.addEventListener("change", function (event) {
    var control = event.target.closest("[data-input]");
    if (!control || !container.contains(control)) return;
    navigate(readControl(control, current.state, event.target.getAttribute("data-role")));
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-input] button");
    if (button) {
      var control = button.closest("[data-input]");
      var spec = byName[control.getAttribute("data-input")];
      var next = JSON.parse(JSON.stringify(current.state));
      if (spec.kind === "ButtonGroup") next[spec.name] = button.getAttribute("data-value");
      else if (button.getAttribute("data-role") === "all") next[spec.name] = null;
      else if (button.getAttribute("data-role") === "none") next[spec.name] = [];
      navigate(next);
      return;
    }
    // In-page links keep the inputs: #section becomes #section&channel=...
    var link = event.target.closest('a[href^="#"]');
    if (link && link.getAttribute("href").length > 1) {
      event.preventDefault();
      var anchor = decodeURIComponent(link.getAttribute("href").slice(1));
      var hash = hashOf(current.state, anchor);
      history.pushState(null, "", "#" + hash);
      scrollTo(anchor);
    }
  });

  function scrollTo(anchor) {
    var target = anchor && document.getElementById(anchor);
    if (target) target.scrollIntoView();
  }

  // ---------------------------------------------------------------------------------------
  // Apply a state: swap the view, then filter rows everywhere.

  var started = null;

  function apply(parsed, first) {
    var begin = started || performance.now();
    started = null;
    current = parsed;
    var key = specs.filter(function (spec) { return spec.view; }).map(function (spec) {
      return spec.name + "=" + parsed.state[spec.name];
    }).join("&");
    var ids = page.views[key];
    if (ids) swapView(ids);
    setControls(parsed.state);
    var list = filters(parsed.state);
    filterTables(list);
    filterLists(list);
    updateTiles(list);
    updatePeriodText(list);
    site.enhance(container);
    return drawCharts(list).then(function () {
      if (first) scrollTo(parsed.anchor);
      // Redraw time: from the reader's change until the frame after (layout and paint included).
      window.requestAnimationFrame(function () {
        setTimeout(function () {
          var root = document.documentElement;
          root.setAttribute("data-jm-redraw-ms", (performance.now() - begin).toFixed(1));
          root.setAttribute("data-jm-view", key);
          root.setAttribute("data-jm-applied", String(Number(root.getAttribute("data-jm-applied") || 0) + 1));
          drawLater();
        }, 0);
      });
    });
  }

  site.keepRow = function (columns, row) {
    var list = filters(current.state);
    for (var i = 0; i < columns.length; i++) {
      var tests = testsFor(list, columns[i]);
      if (tests.length && !passes(tests, row[i])) return false;
    }
    return true;
  };

  // The other views are packed (gzip + base64) in the page; the browser unpacks them itself.
  function unpack() {
    var node = document.getElementById("jm-page-views");
    if (!node) return Promise.resolve();
    var binary = atob(node.textContent.trim());
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text().then(function (text) {
      var others = JSON.parse(text);
      Object.keys(others.chunks).forEach(function (id) { chunkHtml[id] = others.chunks[id]; });
      Object.assign(page.charts, others.charts);
      Object.assign(page.datasets, others.datasets);
    });
  }

  unpack().then(function () {
    window.addEventListener("hashchange", function () { apply(parseHash(), false); });
    window.addEventListener("popstate", function () { apply(parseHash(), false); });
    return apply(parseHash(), true);
  });
})();
