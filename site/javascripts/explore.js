/* Explore: faceted filtering over every paper, in the browser, with no build step.
 *
 * Data: generated/explore.json (its format is documented in tools/site/explore.py). Ticked values of
 * one facet combine with OR; facets, venue, year range, code flags and the text filter combine with
 * AND. A term also matches papers filed under its sub-terms. The count beside a value is the number
 * of papers the view would show with that value ticked and every other filter kept. The whole view
 * lives in the URL query, so a link reproduces it. Data reaches the page only through textContent
 * and attribute setters, never innerHTML. The text filter matches title, authors, venue and ID at
 * once, and summaries too as soon as their file (data-summaries) has arrived: it is fetched the first
 * time the filter holds text.
 */
(function () {
  "use strict";

  var root = document.getElementById("mi-explore");
  if (!root) return;

  var ID = 0, TITLE = 1, AUTHORS = 2, YEAR = 3, VENUE = 4, FLAGS = 5, FACETS = 6;
  var CODE = 1, REF = 2;
  var PAGE = 200; // rows drawn at once; "Show all" draws the rest
  var NARROW = "(max-width: 59.984em)"; // Material's breakpoint below which the sidebars fold away
  // Titles in alphabetical order whatever they open with (a quote, a bracket), as in the paper tables.
  var TEXT_ORDER = new Intl.Collator("en", { ignorePunctuation: true, numeric: true });
  var SORTS = [["year-desc", "Newest first"], ["year-asc", "Oldest first"], ["title", "Title"], ["venue", "Venue"]];

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  fetch(root.getAttribute("data-src"))
    .then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    })
    .then(start)
    .catch(function (error) {
      root.textContent = "Could not load the list of papers (" + error.message + "). ";
      if (window.location.protocol === "file:") {
        // Browsers refuse fetch() to a page opened from disk; every other page of the site works there.
        root.appendChild(document.createTextNode(
          "Explore cannot read its data in a page opened from disk: browsers block that. Serve the built site " +
          "instead (python -m http.server -d build/site, then open http://localhost:8000/explore.html), or browse the "));
        root.appendChild(el("a", { href: "generated/taxonomy/index.html" }, "taxonomy"));
        root.appendChild(document.createTextNode(", which works from disk too."));
      }
    });

  function start(data) {
    var facets = data.facets;
    facets.forEach(function (facet) {
      facet.index = {};
      facet.values.forEach(function (value, i) { facet.index[value[0]] = i; });
      // up[i]: the value itself and its ancestors, so a paper filed under a sub-term counts for its parents.
      facet.up = facet.values.map(function (value, i) {
        var chain = [], seen = {};
        for (var j = i; j >= 0 && !seen[j]; j = facet.values[j][2]) { seen[j] = true; chain.push(j); }
        return chain;
      });
    });
    var papers = data.papers.map(function (row) {
      return {
        row: row,
        sets: facets.map(function (facet, k) {
          var set = {};
          row[FACETS + k].forEach(function (i) { facet.up[i].forEach(function (j) { set[j] = true; }); });
          return set;
        }),
        text: [row[TITLE], row[AUTHORS], data.venues[row[VENUE]][1], row[ID]].join(" ").toLowerCase()
      };
    });
    var summaries = "absent"; // then "loading", then "loaded" (or "failed": titles and authors still match)
    function loadSummaries() {
      if (summaries !== "absent" || !root.getAttribute("data-summaries")) return;
      summaries = "loading";
      fetch(root.getAttribute("data-summaries"))
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (byId) {
          papers.forEach(function (p) {
            var tldr = byId[p.row[ID]];
            if (typeof tldr === "string") p.text += " " + tldr.toLowerCase();
          });
          summaries = "loaded";
          update();
        })
        .catch(function () { summaries = "failed"; update(); });
    }
    var minYear = Infinity, maxYear = -Infinity;
    papers.forEach(function (p) {
      minYear = Math.min(minYear, p.row[YEAR]);
      maxYear = Math.max(maxYear, p.row[YEAR]);
    });
    var totals = facets.map(function (facet, k) {
      var counts = facet.values.map(function () { return 0; });
      papers.forEach(function (p) { Object.keys(p.sets[k]).forEach(function (j) { counts[j] += 1; }); });
      return counts;
    });
    var venueIndex = {};
    data.venues.forEach(function (venue, i) { venueIndex[venue[0]] = i; });
    var paperRoot = root.getAttribute("data-root") || "";

    // --- state <-> URL --------------------------------------------------------------------------
    var state;

    function readState() {
      var params = new URLSearchParams(window.location.search);
      var year = function (name) {
        var value = parseInt(params.get(name), 10);
        return isNaN(value) ? null : value;
      };
      state = {
        selected: facets.map(function (facet) {
          var set = {};
          (params.get(facet.id) || "").split(",").forEach(function (id) {
            if (id in facet.index) set[facet.index[id]] = true;
          });
          return set;
        }),
        venue: params.get("venue") in venueIndex ? venueIndex[params.get("venue")] : -1,
        q: params.get("q") || "",
        from: year("from"),
        to: year("to"),
        code: params.get("code") === "1",
        ref: params.get("ref") === "1",
        sort: SORTS.some(function (s) { return s[0] === params.get("sort"); }) ? params.get("sort") : "year-desc",
        all: false
      };
    }

    function writeState() {
      var params = new URLSearchParams();
      facets.forEach(function (facet, k) {
        var ids = Object.keys(state.selected[k]).map(function (i) { return facet.values[i][0]; });
        if (ids.length) params.set(facet.id, ids.sort().join(","));
      });
      if (state.venue >= 0) params.set("venue", data.venues[state.venue][0]);
      if (state.q) params.set("q", state.q);
      if (state.from !== null) params.set("from", state.from);
      if (state.to !== null) params.set("to", state.to);
      if (state.code) params.set("code", "1");
      if (state.ref) params.set("ref", "1");
      if (state.sort !== "year-desc") params.set("sort", state.sort);
      var query = params.toString();
      window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : "") + window.location.hash);
    }

    // --- filtering -------------------------------------------------------------------------------
    function passesBase(p) {
      var row = p.row;
      if (state.from !== null && row[YEAR] < state.from) return false;
      if (state.to !== null && row[YEAR] > state.to) return false;
      if (state.code && !(row[FLAGS] & CODE)) return false;
      if (state.ref && !(row[FLAGS] & REF)) return false;
      var words = state.q.toLowerCase().split(/\s+/);
      for (var w = 0; w < words.length; w++) {
        if (words[w] && p.text.indexOf(words[w]) < 0) return false;
      }
      return true;
    }

    // skip: index of a facet to ignore (for its counts), "venue", or -1 for none.
    function passesFacets(p, skip) {
      for (var k = 0; k < facets.length; k++) {
        if (k === skip) continue;
        var chosen = Object.keys(state.selected[k]);
        if (chosen.length && !chosen.some(function (j) { return p.sets[k][j]; })) return false;
      }
      return skip === "venue" || state.venue < 0 || p.row[VENUE] === state.venue;
    }

    // --- the form --------------------------------------------------------------------------------
    // The filters sit in a <details>: open on wide screens, closed on phones, where they would otherwise
    // push the results three screens down. Its summary says how many filters are on.
    var panel = el("details", { "class": "mi-explore-panel" });
    var panelSummary = el("summary", {}, "Filters and sort");
    var form = el("form", { "class": "mi-explore-filters", role: "search", "aria-label": "Filters" });
    panel.appendChild(panelSummary);
    panel.appendChild(form);
    panel.open = !(window.matchMedia && window.matchMedia(NARROW).matches);
    var results = el("div", { "class": "mi-explore-results", id: "mi-explore-results" });
    // One live region for the whole life of the page (a region that is replaced is not announced).
    var countLine = el("p", { "class": "mi-explore-count", "aria-live": "polite" });
    var list = el("div");
    results.appendChild(countLine);
    results.appendChild(list);
    var layout = el("div", { "class": "mi-explore" });
    layout.appendChild(panel);
    layout.appendChild(results);
    root.textContent = "";
    root.appendChild(layout);
    form.addEventListener("submit", function (event) { event.preventDefault(); });

    function fieldset(legend) {
      var set = el("fieldset");
      set.appendChild(el("legend", {}, legend));
      form.appendChild(set);
      return set;
    }

    var text = el("input", { type: "search", name: "q", placeholder: "Words in title, authors or summary", "aria-label": "Text filter" });
    fieldset("Text").appendChild(text);

    var years = fieldset("Years");
    var from = el("input", { type: "number", name: "from", min: minYear, max: maxYear, placeholder: minYear, "aria-label": "From year" });
    var to = el("input", { type: "number", name: "to", min: minYear, max: maxYear, placeholder: maxYear, "aria-label": "To year" });
    years.appendChild(from);
    years.appendChild(document.createTextNode(" to "));
    years.appendChild(to);

    var flags = fieldset("Availability");
    function flagBox(name, label) {
      var box = el("input", { type: "checkbox", name: name });
      var wrap = el("label");
      wrap.appendChild(box);
      wrap.appendChild(document.createTextNode(" " + label));
      flags.appendChild(wrap);
      return box;
    }
    var code = flagBox("code", "has code");
    var ref = flagBox("ref", "has a reference implementation");

    var venue = el("select", { name: "venue", "aria-label": "Venue" });
    fieldset("Venue").appendChild(venue);

    var sort = el("select", { name: "sort", "aria-label": "Sort" });
    SORTS.forEach(function (s) { sort.appendChild(el("option", { value: s[0] }, s[1])); });
    fieldset("Sort").appendChild(sort);

    var boxes = facets.map(function (facet, k) {
      var set = fieldset(facet.label);
      return facet.values.map(function (value, j) {
        if (!totals[k][j]) return null; // terms no paper uses yet stay hidden
        var box = el("input", { type: "checkbox", "data-facet": facet.id, value: value[0] });
        var count = el("span", { "class": "mi-count" });
        var label = el("label", { style: "padding-left:" + (facet.up[j].length - 1) * 1.2 + "em" });
        label.appendChild(box);
        label.appendChild(document.createTextNode(" " + value[1] + " "));
        label.appendChild(count);
        set.appendChild(label);
        box.addEventListener("change", function () {
          if (box.checked) state.selected[k][j] = true; else delete state.selected[k][j];
          changed();
        });
        return { box: box, count: count, label: label };
      });
    });

    var clear = el("button", { type: "button", "class": "md-button" }, "Clear all filters");
    form.appendChild(clear);

    function number(input) {
      var value = parseInt(input.value, 10);
      return isNaN(value) ? null : value;
    }
    text.addEventListener("input", function () { state.q = text.value.trim(); changed(); });
    from.addEventListener("input", function () { state.from = number(from); changed(); });
    to.addEventListener("input", function () { state.to = number(to); changed(); });
    code.addEventListener("change", function () { state.code = code.checked; changed(); });
    ref.addEventListener("change", function () { state.ref = ref.checked; changed(); });
    venue.addEventListener("change", function () { state.venue = parseInt(venue.value, 10); changed(); });
    sort.addEventListener("change", function () { state.sort = sort.value; changed(); });
    clear.addEventListener("click", function () {
      window.history.replaceState(null, "", window.location.pathname + window.location.hash);
      readState();
      fillForm();
      update();
    });

    function fillForm() {
      text.value = state.q;
      from.value = state.from === null ? "" : state.from;
      to.value = state.to === null ? "" : state.to;
      code.checked = state.code;
      ref.checked = state.ref;
      sort.value = state.sort;
      boxes.forEach(function (list, k) {
        list.forEach(function (item, j) { if (item) item.box.checked = !!state.selected[k][j]; });
      });
    }

    function changed() {
      state.all = false;
      writeState();
      update();
    }

    // --- drawing ---------------------------------------------------------------------------------
    function compare(a, b) {
      var x = a.row, y = b.row;
      var byTitle = TEXT_ORDER.compare(x[TITLE], y[TITLE]);
      if (state.sort === "title") return byTitle;
      if (state.sort === "venue") return TEXT_ORDER.compare(data.venues[x[VENUE]][1], data.venues[y[VENUE]][1]) || byTitle;
      if (state.sort === "year-asc") return x[YEAR] - y[YEAR] || byTitle;
      return y[YEAR] - x[YEAR] || byTitle;
    }

    function badge(cls, label, title) {
      return el("span", { "class": "mi-badge " + cls, title: title }, label);
    }

    function drawResults(shown) {
      list.textContent = "";
      countLine.textContent = shown.length + " of " + papers.length + " papers" +
        (state.q && summaries === "loading" ? " (summaries still loading)" : "");
      if (!shown.length) {
        list.appendChild(el("p", {}, "No paper matches every filter. Untick a value or clear the filters."));
        return;
      }
      var table = el("table", { "class": "mi-papers" });
      var head = el("tr");
      ["Year", "Title", "Venue", "Badges"].forEach(function (h) { head.appendChild(el("th", {}, h)); });
      table.appendChild(el("thead")).appendChild(head);
      var body = table.appendChild(el("tbody"));
      var kindFacet = facets[0];
      shown.slice(0, state.all ? shown.length : PAGE).forEach(function (p) {
        var row = p.row;
        var tr = el("tr", { "data-id": row[ID] });
        tr.appendChild(el("td", {}, String(row[YEAR])));
        var cell = el("td");
        cell.appendChild(el("a", { href: paperRoot + data.paper_url.replace("{id}", row[ID]) }, row[TITLE]));
        cell.appendChild(el("br"));
        cell.appendChild(el("small", { "class": "mi-muted" }, row[AUTHORS]));
        tr.appendChild(cell);
        tr.appendChild(el("td", {}, data.venues[row[VENUE]][1]));
        var badges = el("td");
        row[FACETS].forEach(function (j) {
          var kind = kindFacet.values[j][0];
          badges.appendChild(badge("mi-kind-" + kind, kind, "Kind of paper: " + kind));
        });
        if (row[FLAGS] & CODE) { badges.appendChild(document.createTextNode(" ")); badges.appendChild(badge("mi-code", "code", "Code is linked")); }
        if (row[FLAGS] & REF) { badges.appendChild(document.createTextNode(" ")); badges.appendChild(badge("mi-ref", "ref", "Has a reference implementation")); }
        tr.appendChild(badges);
        body.appendChild(tr);
      });
      list.appendChild(table);
      if (!state.all && shown.length > PAGE) {
        var more = el("button", { type: "button", "class": "md-button" }, "Show all " + shown.length + " papers");
        more.addEventListener("click", function () { state.all = true; drawResults(shown); });
        list.appendChild(more);
      }
    }

    function update() {
      if (state.q) loadSummaries();
      var base = papers.filter(passesBase);
      var shown = base.filter(function (p) { return passesFacets(p, -1); }).sort(compare);
      facets.forEach(function (facet, k) {
        var counts = facet.values.map(function () { return 0; });
        base.forEach(function (p) {
          if (passesFacets(p, k)) Object.keys(p.sets[k]).forEach(function (j) { counts[j] += 1; });
        });
        boxes[k].forEach(function (item, j) {
          if (!item) return;
          item.count.textContent = "(" + counts[j] + ")";
          item.label.classList.toggle("mi-zero", counts[j] === 0);
        });
      });
      var venueCounts = data.venues.map(function () { return 0; });
      base.forEach(function (p) { if (passesFacets(p, "venue")) venueCounts[p.row[VENUE]] += 1; });
      venue.textContent = "";
      venue.appendChild(el("option", { value: "-1" }, "Any venue"));
      data.venues
        .map(function (v, i) { return [v[1], i]; })
        .sort(function (a, b) { return TEXT_ORDER.compare(a[0], b[0]); })
        .forEach(function (pair) {
          var option = el("option", { value: String(pair[1]) }, pair[0] + " (" + venueCounts[pair[1]] + ")");
          venue.appendChild(option);
        });
      venue.value = String(state.venue);
      var active = state.selected.reduce(function (n, set) { return n + Object.keys(set).length; }, 0) +
        [state.venue >= 0, state.q, state.from !== null, state.to !== null, state.code, state.ref].filter(Boolean).length;
      panelSummary.textContent = "Filters and sort" + (active ? " (" + active + " on)" : "");
      drawResults(shown);
    }

    readState();
    fillForm();
    update();
  }
})();
