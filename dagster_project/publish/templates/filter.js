/* A filter box for the provider list, added only when scripts run (the list works
   without it). Matches name or code, case-insensitively; `?q=` pre-fills it. */
(function () {
  "use strict";
  var slot = document.getElementById("filter-slot");
  var items = Array.prototype.slice.call(document.querySelectorAll("[data-provider]"));
  var regions = Array.prototype.slice.call(document.querySelectorAll("[data-region]"));
  if (!slot || !items.length) { return; }
  slot.className = "filter";
  var label = document.createElement("label");
  label.htmlFor = "provider-filter";
  label.textContent = "Filter providers by name or code";
  var input = document.createElement("input");
  input.type = "search";
  input.id = "provider-filter";
  input.autocomplete = "off";
  var count = document.createElement("p");
  count.id = "filter-count";
  count.setAttribute("aria-live", "polite");
  slot.appendChild(label);
  slot.appendChild(input);
  slot.appendChild(count);

  function apply() {
    var query = input.value.trim().toLowerCase();
    var shown = 0;
    items.forEach(function (item) {
      var match = query === "" || item.getAttribute("data-provider").indexOf(query) !== -1;
      item.hidden = !match;
      if (match) { shown += 1; }
    });
    regions.forEach(function (region) {
      region.hidden = region.querySelector("[data-provider]:not([hidden])") === null;
    });
    count.textContent = shown + (shown === 1 ? " provider" : " providers") + " shown";
  }

  input.addEventListener("input", apply);
  var params = new URLSearchParams(window.location.search);
  if (params.has("q")) { input.value = params.get("q"); }
  apply();
}());
