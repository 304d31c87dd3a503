// Small behaviours of the staff UI. No inline scripts: the CSP allows only files and nonces.
(function () {
  "use strict";

  function hideToastsLater(root) {
    root.querySelectorAll(".toast[data-autohide]").forEach(function (el) {
      setTimeout(function () { el.classList.remove("show"); el.remove(); }, 6000);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { hideToastsLater(document); });
  document.body.addEventListener("htmx:afterSwap", function () { hideToastsLater(document); });
  document.body.addEventListener("htmx:oobAfterSwap", function () { hideToastsLater(document); });

  // data-confirm="Sure?" (the one way to confirm; no hx-confirm) asks once before a form
  // is submitted or an htmx element sends its request. A form that htmx handles is asked
  // on submit; the htmx:confirm that the same submit then fires is not asked again.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (!message) return;
    if (!window.confirm(message)) { event.preventDefault(); event.stopImmediatePropagation(); return; }
    event.cxConfirmed = true;
  }, true);
  document.body.addEventListener("htmx:confirm", function (event) {
    var message = event.target.getAttribute("data-confirm");
    var trigger = event.detail.triggeringEvent;
    if (!message || (trigger && trigger.cxConfirmed)) return;
    event.preventDefault();
    if (window.confirm(message)) event.detail.issueRequest(true);
  });

  // <form data-autosubmit>: submit when a select changes.
  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form[data-autosubmit]");
    if (form && event.target.tagName === "SELECT") form.requestSubmit();
  });

  // <form data-reset-on-success>: clear it after htmx saved it.
  document.body.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (form.matches && form.matches("form[data-reset-on-success]") && event.detail.successful) form.reset();
  });

  // <button data-copy="#selector">: copy an input's value.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    var input = document.querySelector(button.getAttribute("data-copy"));
    if (!input) return;
    navigator.clipboard.writeText(input.value).then(function () {
      button.innerHTML = '<i class="bi bi-check2" aria-hidden="true"></i> Copied';
    });
  });

  // One progress line for every htmx request.
  var inflight = 0;
  document.body.addEventListener("htmx:beforeRequest", function () {
    inflight += 1; document.getElementById("htmx-indicator").classList.add("htmx-request");
  });
  document.body.addEventListener("htmx:afterRequest", function () {
    inflight = Math.max(0, inflight - 1);
    if (!inflight) document.getElementById("htmx-indicator").classList.remove("htmx-request");
  });

  // htmx swaps only 2xx by default; let 422 (invalid form) re-render the fragment with errors.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status === 422) { event.detail.shouldSwap = true; event.detail.isError = false; }
  });
})();
