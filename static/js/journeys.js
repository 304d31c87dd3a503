// The journey pages: drag and drop on the map (SortableJS), keeping the keyboard focus
// across the map's htmx swaps, and the "start from" choice of the new-journey form.
// No inline scripts: the CSP allows only files loaded with the nonce.
(function () {
  "use strict";

  var MAP = "#journey-map";

  function post(url, values, source) {
    // The CSRF header comes from <body hx-headers>, which the source element inherits.
    htmx.ajax("POST", url, { source: source, target: MAP, swap: "outerHTML", values: values });
  }

  function initSortables() {
    var map = document.querySelector(MAP);
    if (!map || !map.hasAttribute("data-editable") || !window.Sortable) return;
    map.querySelectorAll(".tp-list").forEach(function (list) {
      if (list.sortableReady) return;
      list.sortableReady = true;
      Sortable.create(list, {
        group: "touchpoints",
        handle: ".tp-drag",
        draggable: ".tp-item",
        animation: 150,
        ghostClass: "sortable-ghost",
        chosenClass: "sortable-chosen",
        dragClass: "sortable-drag",
        onEnd: function (event) {
          if (event.from === event.to && event.oldDraggableIndex === event.newDraggableIndex) return;
          post(event.item.getAttribute("data-move-url"), {
            stage: event.to.getAttribute("data-stage-id"),
            position: event.newDraggableIndex
          }, event.item);
        }
      });
    });
    var columns = map.querySelector(".journey-columns");
    if (columns && !columns.sortableReady) {
      columns.sortableReady = true;
      Sortable.create(columns, {
        handle: ".stage-drag",
        draggable: ".stage-col[data-stage-id]",
        animation: 150,
        ghostClass: "sortable-ghost",
        chosenClass: "sortable-chosen",
        onEnd: function (event) {
          if (event.oldDraggableIndex === event.newDraggableIndex) return;
          post(event.item.getAttribute("data-move-url"), { position: event.newDraggableIndex }, event.item);
        }
      });
    }
  }

  // Columns that do not fit scroll sideways; fade the side where more columns wait.
  function markOverflow() {
    var columns = document.querySelector(MAP + " .journey-columns");
    if (!columns) return;
    var left = columns.scrollLeft > 4;
    var right = columns.scrollLeft + columns.clientWidth < columns.scrollWidth - 4;
    columns.classList.toggle("more-left", left);
    columns.classList.toggle("more-right", right);
    if (!columns.overflowWatched) {
      columns.overflowWatched = true;
      columns.addEventListener("scroll", markOverflow, { passive: true });
    }
  }
  window.addEventListener("resize", markOverflow);

  // The map is replaced after every move: put the focus back on the same button (or, at an
  // edge where that button is now disabled, on another move button of the same card).
  var focusKey = null;
  document.body.addEventListener("htmx:beforeRequest", function () {
    var active = document.activeElement;
    focusKey = active && active.getAttribute ? active.getAttribute("data-focus-key") : null;
  });
  document.body.addEventListener("htmx:afterSettle", function () {
    initSortables();
    markOverflow();
    if (!focusKey) return;
    var target = document.querySelector('[data-focus-key="' + focusKey + '"]');
    focusKey = null;
    if (target && target.disabled) {
      var group = target.closest("[data-focus-group]");
      target = group ? group.querySelector("button:not([disabled])") : null;
    }
    if (target) target.focus();
  });

  // A move the server refused or never got (a dropped connection, an expired session):
  // drag and drop already changed the page, so show the map as the server has it.
  function reloadMapAfterError(event) {
    var target = event.detail.target;
    var verb = event.detail.requestConfig && event.detail.requestConfig.verb;
    if (!target || target.id !== "journey-map" || verb === "get") return;
    htmx.ajax("GET", window.location.pathname, { target: MAP, swap: "outerHTML" });
  }
  document.body.addEventListener("htmx:responseError", reloadMapAfterError);
  document.body.addEventListener("htmx:sendError", reloadMapAfterError);

  // New journey: the "journey to copy" select matters only when starting from a copy.
  function syncStartChoice() {
    var group = document.getElementById("copy-from-group");
    var chosen = document.querySelector("[data-start-choice] input[type=radio]:checked");
    if (!group || !chosen) return;
    group.hidden = chosen.value !== group.getAttribute("data-show-for-start");
  }
  document.addEventListener("change", function (event) {
    if (event.target.closest && event.target.closest("[data-start-choice]")) syncStartChoice();
  });

  initSortables();
  markOverflow();
  syncStartChoice();
})();
