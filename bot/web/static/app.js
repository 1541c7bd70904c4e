// Progressive enhancement only: every page works without this file.
// Adds a filter box above long tables and sorting by clicking a column header.
"use strict";
document.querySelectorAll("table.data").forEach(function (table) {
  var rows = table.tBodies[0] ? Array.prototype.slice.call(table.tBodies[0].rows) : [];
  if (rows.length > 8) {
    var box = document.createElement("input");
    box.type = "search";
    box.placeholder = document.documentElement.dataset.filter || "…";
    box.setAttribute("aria-label", box.placeholder);
    box.addEventListener("input", function () {
      var needle = box.value.toLowerCase();
      rows.forEach(function (row) {
        row.hidden = needle && row.textContent.toLowerCase().indexOf(needle) < 0;
      });
    });
    table.parentNode.insertBefore(box, table);
  }
  Array.prototype.forEach.call(table.tHead ? table.tHead.rows[0].cells : [], function (th, col) {
    th.setAttribute("aria-sort", "none");
    th.addEventListener("click", function () {
      var up = th.getAttribute("aria-sort") !== "ascending";
      var key = function (row) {
        var text = row.cells[col] ? row.cells[col].textContent.trim() : "";
        var num = parseFloat(text.replace(/[\s\u202f%]/g, "").replace(",", "."));
        return isNaN(num) ? text.toLowerCase() : num;
      };
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1);
      });
      rows.forEach(function (row) { table.tBodies[0].appendChild(row); });
      th.setAttribute("aria-sort", up ? "ascending" : "descending");
    });
  });
});
