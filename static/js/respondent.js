// The survey page: saves each answer as the respondent goes, and posts the one-click
// score of the email at once. Without JavaScript the form works as a plain form.
(function () {
  "use strict";
  var form = document.getElementById("survey-form");
  if (!form || !window.fetch || !window.FormData) return;
  var strings = document.getElementById("i18n-strings");
  var t = function (key) { return strings ? strings.getAttribute("data-" + key) : ""; };
  var timers = {};
  var submitting = false;  // once Send is pressed, the form's own POST is the last word

  form.addEventListener("submit", function () {
    submitting = true;
    Object.keys(timers).forEach(function (name) { clearTimeout(timers[name]); });
  });

  function post(data) {
    return fetch(form.action, {
      method: "POST",
      body: data,
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    });
  }

  function setStatus(name, text, failed) {
    var el = form.querySelector('[data-status-for="' + name + '"]');
    if (!el) return;
    el.textContent = text;
    el.classList.toggle("failed", !!failed);
  }

  function questionData(name) {
    var data = new FormData();
    data.append("_shown", name.slice(1));
    form.querySelectorAll('[name="' + name + '"]').forEach(function (input) {
      if ((input.type === "radio" || input.type === "checkbox") && !input.checked) return;
      data.append(name, input.value);
    });
    return data;
  }

  function save(name) {
    if (submitting) return;
    setStatus(name, t("saving"));
    post(questionData(name)).then(function (result) {
      if (submitting) return;
      if (result.body && result.body.completed) { window.location.reload(); return; }
      var errors = (result.body && result.body.errors) || {};
      var message = errors[name.slice(1)];
      setStatus(name, message ? message.join(" ") : t("saved"), !!message);
    }).catch(function () { if (!submitting) setStatus(name, t("failed"), true); });
  }

  form.addEventListener("change", function (event) {
    var name = event.target.name;
    if (!name || name.charAt(0) !== "q") return;
    clearTimeout(timers[name]);
    save(name);
  });
  form.addEventListener("input", function (event) {
    var target = event.target;
    if (target.tagName !== "TEXTAREA") return;
    clearTimeout(timers[target.name]);
    timers[target.name] = setTimeout(function () { save(target.name); }, 1200);
  });

  // The one-click score: POST it now (the GET that opened the page changed nothing).
  var score = form.getAttribute("data-oneclick");
  var field = form.getAttribute("data-oneclick-field");
  if (score !== null && field) {
    var data = new FormData();
    data.append(field, score);
    data.append("_oneclick", score);
    var status = form.querySelector("[data-oneclick-status]");
    post(data).then(function (result) {
      if (submitting) return;
      if (result.body && result.body.completed) { window.location.reload(); return; }
      if (result.status !== 200) throw new Error("not saved");
      if (status) status.textContent = t("score-saved");
      var box = document.getElementById("oneclick");
      if (box) box.classList.replace("alert-info", "alert-ok");
      var next = form.querySelectorAll(".q")[1];
      if (next && !next.contains(document.activeElement)) {
        // Lead keyboard and screen-reader users on to the next question.
        next.setAttribute("tabindex", "-1");
      }
    }).catch(function () {
      // Fall back to the no-JavaScript way: show the confirm button.
      document.documentElement.className = "no-js";
    });
  }

  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
