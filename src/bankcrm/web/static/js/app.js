// BankCRM's own browser behaviour. Small on purpose: pages work without it, it only adds comfort.
(function () {
  "use strict";

  // "/" focuses the global customer search (UI.md), unless the user is typing somewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var search = document.getElementById("global-search");
    if (search) { event.preventDefault(); search.focus(); }
  });

  // Dismissible alerts without pulling in Bootstrap's JavaScript.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-dismiss-alert]");
    if (button) { button.closest(".alert").remove(); }
  });

  // Destructive buttons ask first, naming what will happen (data-confirm holds the sentence).
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });

  // Merge comparison: a field's value follows the chosen survivor until the user picks one for that
  // field, so changing the survivor never silently keeps the other record's values.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.closest || !input.closest(".merge-compare")) return;
    if (input.name.indexOf("choose_") === 0) { input.closest("tr").setAttribute("data-picked", "true"); return; }
    if (input.name !== "survivor_id") return;
    input.closest("form").querySelectorAll("tr:not([data-picked]) input[name^='choose_']").forEach(function (radio) {
      radio.checked = radio.value === input.value;
    });
  });

  // File pickers: the browser's own button and "no file" text follow the browser's language, not
  // the page's, so the page shows its own label and, once a file is chosen, the file's name.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[type=file][data-shows-name]")) return;
    var shown = document.getElementById(input.getAttribute("data-shows-name"));
    if (!shown) return;
    if (!shown.hasAttribute("data-empty")) shown.setAttribute("data-empty", shown.textContent);
    shown.textContent = input.files.length ? input.files[0].name : shown.getAttribute("data-empty");
  });

  // HTMX: show server errors (4xx/5xx fragments) in place instead of silently ignoring them.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 422 || status === 409 || status === 404 || status === 403) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();

// Charts: elements with data-chart='{"kind": ...}' are drawn with ECharts when it is on the page,
// after the first load and after every HTMX swap (360 sections arrive that way).
(function () {
  "use strict";
  // Colour-blind-safe palette (Okabe-Ito), the same order on every page.
  var PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"];
  var locale = document.documentElement.getAttribute("data-locale") || "zh_CN";

  function money(value) {
    return new Intl.NumberFormat(locale === "en" ? "en-US" : "zh-CN", { style: "currency", currency: "CNY" }).format(value);
  }

  function lineOptions(spec) {
    return {
      color: PALETTE,
      title: { text: spec.title, textStyle: { fontSize: 13 } },
      tooltip: { trigger: "axis", valueFormatter: money },
      grid: { left: 70, right: 16, top: 36, bottom: 28 },
      xAxis: { type: "category", data: spec.labels },
      yAxis: { type: "value", name: spec.unit, axisLabel: { formatter: function (v) { return (v / 10000).toFixed(0) + (locale === "en" ? "0k" : "万"); } } },
      series: [{ type: "line", data: spec.values, smooth: false, areaStyle: { opacity: 0.08 } }]
    };
  }

  // Shares in percent, several series over the same categories (e.g. data quality per batch).
  function percentOptions(spec) {
    return {
      color: PALETTE,
      title: { text: spec.title, textStyle: { fontSize: 13 } },
      legend: { top: 0, right: 0 },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null || v === undefined ? "—" : v.toFixed(1) + " %"; } },
      grid: { left: 48, right: 16, top: 40, bottom: 28 },
      xAxis: { type: "category", data: spec.labels },
      yAxis: { type: "value", min: function (range) { return Math.max(0, Math.floor(range.min / 10) * 10); }, max: 100, name: spec.unit, axisLabel: { formatter: "{value} %" } },
      series: spec.series.map(function (line) { return { type: "line", name: line.name, data: line.values, connectNulls: false }; })
    };
  }

  // Counts by category as horizontal bars, largest first as given (a segment's profile).
  function barOptions(spec) {
    return {
      color: PALETTE,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1, axisLabel: { show: false }, splitLine: { show: false } },
      yAxis: { type: "category", data: spec.labels.slice().reverse(), axisTick: { show: false },
        axisLabel: { width: 110, overflow: "truncate" } },
      series: [{ type: "bar", data: spec.values.slice().reverse(), barMaxWidth: 18, label: { show: true, position: "right" } }]
    };
  }

  function optionsFor(spec) {
    if (spec.kind === "bar") return barOptions(spec);
    if (spec.kind === "graph") return graphOptions(spec);
    if (spec.kind === "percent") return percentOptions(spec);
    return lineOptions(spec);
  }

  function graphOptions(spec) {
    var nodes = [{ name: spec.center, symbolSize: 46, itemStyle: { color: PALETTE[0] } }];
    var links = [];
    spec.nodes.forEach(function (node, index) {
      var id = node.name + " #" + (index + 1);
      nodes.push({ name: id, value: node.name, symbolSize: 30, itemStyle: { color: PALETTE[(index % 6) + 1] }, label: { formatter: node.name } });
      links.push({ source: spec.center, target: id, label: { show: true, formatter: node.relation, fontSize: 11 } });
    });
    return {
      tooltip: {},
      series: [{ type: "graph", layout: "force", roam: true, force: { repulsion: 260, edgeLength: 90 },
        label: { show: true }, edgeLabel: { show: true }, data: nodes, links: links }]
    };
  }

  // An element without a size (a card being swapped, a page being photographed) cannot be laid out:
  // ECharts throws on it. Such a chart keeps its size until the next resize that gives it one.
  function resize(chart, element) {
    if (chart.isDisposed()) return;
    if (!element.isConnected) { chart.dispose(); return; }
    if (element.clientWidth > 0 && element.clientHeight > 0) chart.resize();
  }

  function draw(root) {
    if (!window.echarts) return;
    (root || document).querySelectorAll("[data-chart]").forEach(function (element) {
      if (element.getAttribute("data-drawn")) return;
      var spec = JSON.parse(element.getAttribute("data-chart"));
      var chart = window.echarts.init(element, null, { renderer: "svg" });
      chart.setOption(optionsFor(spec));
      element.setAttribute("data-drawn", "1");
      window.addEventListener("resize", function () { resize(chart, element); });
    });
  }

  window.addEventListener("load", function () { draw(document); });
  document.addEventListener("htmx:afterSwap", function (event) { draw(event.target); });
  document.addEventListener("htmx:oobAfterSwap", function (event) { draw(event.detail.target); });
})();

// 360° page: the operational-store sections come in one request (out-of-band swaps). If that request
// fails as a whole, each of its sections says so instead of showing its placeholder for ever.
(function () {
  "use strict";
  function failGroup(event) {
    var group = event.detail.elt;
    if (!group || !group.hasAttribute || !group.hasAttribute("data-section-group")) return;
    var alert = document.createElement("div");
    alert.className = "alert alert-danger mb-0";
    alert.setAttribute("role", "alert");
    alert.textContent = group.getAttribute("data-error-message");
    group.getAttribute("data-section-group").split(" ").forEach(function (name) {
      var section = document.getElementById("section-" + name);
      if (!section) return;
      var body = document.createElement("div");
      body.className = "card-body";
      body.appendChild(alert.cloneNode(true));
      section.replaceChildren(body);
    });
  }
  document.addEventListener("htmx:responseError", failGroup);
  document.addEventListener("htmx:sendError", failGroup);
})();
