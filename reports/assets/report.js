// goldloop reports: the only script, inlined into every page. It filters the rows a static
// page already holds (the static build has no server to search); nothing is fetched.
(function () {
  "use strict";
  function norm(text) { return (text || "").toLowerCase(); }
  document.querySelectorAll("input[data-filter-table]").forEach(function (input) {
    var table = document.getElementById(input.getAttribute("data-filter-table"));
    var status = document.getElementById(input.getAttribute("data-filter-status"));
    if (!table) { return; }
    input.addEventListener("input", function () {
      var needle = norm(input.value.trim());
      var shown = 0;
      table.querySelectorAll("tbody tr[data-row]").forEach(function (row) {
        var hit = !needle || norm(row.textContent).indexOf(needle) !== -1;
        row.hidden = !hit;
        if (hit) { shown += 1; }
      });
      if (status) { status.textContent = needle ? shown + " rows on this page match" : ""; }
    });
  });
})();
