/* Sortable paper tables: click (or press) a column heading of a table.mi-sortable to sort by it, once
 * more to reverse. Plain DOM, no dependencies; tables without JavaScript keep their build-time order. */
(function () {
  "use strict";

  // Text in alphabetical order whatever it opens with (a quote, a bracket), numbers inside it by value.
  var TEXT_ORDER = new Intl.Collator("en", { ignorePunctuation: true, numeric: true, sensitivity: "base" });

  function cellValue(row, index, kind) {
    var text = row.cells[index] ? row.cells[index].textContent.trim() : "";
    return kind === "number" ? parseFloat(text) || 0 : text;
  }

  function sortBy(table, th) {
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var kind = th.getAttribute("data-sort");
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, index, kind), y = cellValue(b, index, kind);
      var order = kind === "number" ? x - y : TEXT_ORDER.compare(x, y);
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    table.querySelectorAll("th[aria-sort]").forEach(function (other) { other.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  // Each sortable heading becomes a button (the WAI-ARIA sortable-table pattern): a screen reader then
  // says it can be pressed, and the heading's aria-sort says the current order.
  document.querySelectorAll("table.mi-sortable").forEach(function (table) {
    table.querySelectorAll("th[data-sort]").forEach(function (th) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "mi-sort";
      button.textContent = th.textContent;
      button.title = "Sort by this column";
      th.textContent = "";
      th.appendChild(button);
      // On the heading, so a click on its padding sorts too; the button's own clicks (mouse, Enter, Space) bubble here.
      th.addEventListener("click", function () { sortBy(table, th); });
    });
  });
})();
