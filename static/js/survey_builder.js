// The survey builder: drag-and-drop reordering (SortableJS) and showing only the fields
// that fit a question's type. Everything also works without it (arrows, plain forms).
(function () {
  "use strict";

  var SCALED = ["nps", "csat", "ces", "rating"];
  var CHOICE = ["single_choice", "multi_choice"];

  function fitFields(form) {
    var select = form.querySelector("[data-question-type]");
    if (!select) return;
    var type = select.value;
    var show = {
      choices: CHOICE.indexOf(type) >= 0,
      low_label: SCALED.indexOf(type) >= 0,
      high_label: SCALED.indexOf(type) >= 0
    };
    Object.keys(show).forEach(function (name) {
      var wrapper = form.querySelector('[data-field="' + name + '"]');
      if (wrapper) wrapper.hidden = !show[name];
    });
  }

  function initSortable(root) {
    var list = root.querySelector("#question-list[data-sortable]");
    var form = root.querySelector("#reorder-form");
    if (!list || !form || !window.Sortable || list.dataset.ready) return;
    list.dataset.ready = "1";
    window.Sortable.create(list, {
      handle: ".drag-handle",
      animation: 150,
      onEnd: function (event) {
        if (event.oldIndex === event.newIndex) return;
        form.querySelectorAll('input[name="order"]').forEach(function (el) { el.remove(); });
        list.querySelectorAll(":scope > li[data-id]").forEach(function (item) {
          var input = document.createElement("input");
          input.type = "hidden";
          input.name = "order";
          input.value = item.getAttribute("data-id");
          form.appendChild(input);
        });
        form.requestSubmit();
      }
    });
  }

  function init(root) {
    root.querySelectorAll("form.question-form").forEach(fitFields);
    initSortable(root);
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-question-type]")) {
      fitFields(event.target.closest("form"));
    }
  });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.body.addEventListener("htmx:afterSettle", function () { init(document); });
})();
