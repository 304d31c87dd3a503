// Campaign form: show the audience panel of the chosen audience, and the send time only
// when scheduling. Without JavaScript every panel stays visible and the form still works.
(function () {
  "use strict";

  function sync(form) {
    var chosen = form.querySelector("[data-audience-choice] input:checked");
    form.querySelectorAll("[data-audience-panel]").forEach(function (panel) {
      panel.hidden = !chosen || panel.getAttribute("data-audience-panel") !== chosen.value;
    });
    var mode = form.querySelector("[data-send-mode] input:checked");
    var at = form.querySelector("[data-send-at]");
    if (at) at.hidden = !mode || mode.value !== "later";
  }

  document.querySelectorAll("form.campaign-form").forEach(function (form) {
    sync(form);
    form.addEventListener("change", function () { sync(form); });
  });
})();
