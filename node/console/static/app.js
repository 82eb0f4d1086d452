// innonet console: small improvements over plain forms. Every action works
// without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  // Ask before destructive posts that say so.
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) { e.preventDefault(); }
    });
  });
  // Refuse a file over the limit before uploading it.
  document.querySelectorAll("input[type=file][data-max]").forEach(function (inp) {
    inp.addEventListener("change", function () {
      var max = parseInt(inp.getAttribute("data-max"), 10) * 1024 * 1024;
      var msg = "";
      Array.prototype.forEach.call(inp.files, function (f) { if (f.size > max) { msg = f.name + " > " + inp.getAttribute("data-max") + " MB"; } });
      inp.setCustomValidity(msg);
      if (msg) { inp.reportValidity(); }
    });
  });
  // Show the new-organisation fields only when "new" is picked.
  document.querySelectorAll("select[data-neworg]").forEach(function (sel) {
    var box = document.getElementById(sel.getAttribute("data-neworg"));
    if (!box) { return; }
    var sync = function () { box.classList.toggle("hidden", sel.value !== "new"); };
    sel.addEventListener("change", sync);
    sync();
  });
  // A form posts once: a second click while the first is under way does nothing.
  document.querySelectorAll("form[method=post]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (f.dataset.sent) { e.preventDefault(); return; }
      f.dataset.sent = "1";
    });
  });
})();
