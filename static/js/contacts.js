// Contacts: the filter form keeps its URL short; the contact form's attribute table adds
// and removes rows. Without JavaScript both still work (plain GET; an empty attribute row is
// always there and emptying a row removes it on save).
(function () {
  "use strict";

  // Leave empty filters out of the request (and so out of the pushed URL).
  document.body.addEventListener("htmx:configRequest", function (event) {
    if (!event.detail.elt.closest || !event.detail.elt.closest("#contact-filters")) return;
    var data = event.detail.formData;
    if (!data) return;
    Array.from(data.keys()).forEach(function (key) {
      if (data.getAll(key).every(function (value) { return value === ""; })) data.delete(key);
    });
  });

  var rows = document.getElementById("attribute-rows");
  var template = document.getElementById("attribute-row-template");
  var add = document.querySelector("[data-add-attribute]");
  if (!rows || !template || !add) return;

  add.hidden = false;
  document.querySelectorAll(".js-hide").forEach(function (el) { el.hidden = true; });

  add.addEventListener("click", function () {
    var row = template.content.firstElementChild.cloneNode(true);
    rows.appendChild(row);
    row.querySelector("input").focus();
  });

  rows.addEventListener("click", function (event) {
    var button = event.target.closest("[data-remove-attribute]");
    if (!button) return;
    var row = button.closest("tr");
    var next = row.nextElementSibling || row.previousElementSibling;
    if (rows.children.length > 1) {
      row.remove();
    } else {
      row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
    }
    var focusTarget = next && next.isConnected ? next.querySelector("input") : add;
    (focusTarget || add).focus();
  });
})();
