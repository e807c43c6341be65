/* csbox: progressive enhancements only; every page works without JavaScript. */
(function () {
  "use strict";
  // Filters start folded on small screens (they are open in the HTML).
  if (window.matchMedia("(max-width: 1000px)").matches) {
    document.querySelectorAll("details.filters-box[open]").forEach(function (d) {
      if (!d.dataset.keepOpen) { d.removeAttribute("open"); }
    });
  }
  // Autocomplete: <input data-autocomplete="/url/" list="id"> fills its datalist as you type.
  document.querySelectorAll("input[data-autocomplete]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    var timer = null, last = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value.trim();
        if (q === last) { return; }
        last = q;
        fetch(input.dataset.autocomplete + "?q=" + encodeURIComponent(q), {credentials: "same-origin"})
          .then(function (r) { return r.ok ? r.json() : {results: []}; })
          .then(function (data) {
            list.textContent = "";
            data.results.forEach(function (item) {
              var option = document.createElement("option");
              option.value = item.value;
              option.label = item.label;
              list.appendChild(option);
            });
          })
          .catch(function () {});
      }, 150);
    });
  });
  // Selects marked data-autosubmit submit their form on change.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();
