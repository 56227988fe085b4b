// The benchmark editor's table: "添加一行" clones the <template> row, "删除" removes a row (and the
// problems shown under it), and every row's inputs are renumbered rows-N-列名 in page order.
// Without this script both buttons submit and the server shows the table again; nothing is saved.
(function () {
  "use strict";

  function renumber(tbody) {
    var rows = tbody.querySelectorAll("tr.bench-row");
    rows.forEach(function (tr, index) {
      var n = String(index + 1);
      tr.dataset.row = n;
      var cell = tr.querySelector(".row-number");
      if (cell) { cell.textContent = n; }
      tr.querySelectorAll("[name^='rows-']").forEach(function (input) {
        input.name = input.name.replace(/^rows-[^-]+-/, "rows-" + n + "-");
      });
      var remove = tr.querySelector("[data-delete-row]");
      if (remove) { remove.value = n; }
      var problems = tr.nextElementSibling;
      if (problems && problems.classList.contains("row-problems")) {
        problems.dataset.problemsFor = n;
      }
    });
  }

  function addRow(form) {
    var template = form.querySelector("#bench-row-template");
    var tbody = form.querySelector("[data-bench-editor] tbody");
    if (!template || !tbody) { return; }
    var row = template.content.firstElementChild.cloneNode(true);
    tbody.appendChild(row);
    renumber(tbody);
    var first = row.querySelector("select, input");
    if (first) { first.focus(); }
  }

  function deleteRow(button) {
    var tr = button.closest("tr.bench-row");
    var tbody = tr && tr.parentElement;
    if (!tbody) { return; }
    var problems = tr.nextElementSibling;
    if (problems && problems.classList.contains("row-problems")) { problems.remove(); }
    tr.remove();
    renumber(tbody);
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    var add = target && target.closest("[data-add-row]");
    var remove = target && target.closest("[data-delete-row]");
    if (add && add.form) {
      event.preventDefault();
      addRow(add.form);
    } else if (remove) {
      event.preventDefault();
      deleteRow(remove);
    }
  });
})();
