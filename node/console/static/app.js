// innonet console: small improvements over plain forms (confirmations,
// file-size checks, the organisation picker, the duplicate warning as one
// types). Every action works without this file.
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
  // Warn of possible duplicates while a lead is typed: the draft goes,
  // with the form's CSRF token, to the check route, which answers with
  // the warning to show (nothing when there is none).
  document.querySelectorAll("form[data-dupcheck]").forEach(function (f) {
    var box = document.getElementById(f.getAttribute("data-dupbox"));
    if (!box || !window.fetch || !window.URLSearchParams) { return; }
    var timer = null, seq = 0, last = "";
    var show = function (html) {
      box.innerHTML = html;
      box.classList.toggle("shown", html.trim() !== "");
    };
    var check = function () {
      var body = new URLSearchParams(), said = "";
      Array.prototype.forEach.call(f.elements, function (el) {
        if (!el.name || el.disabled || el.type === "file" || el.type === "submit" || el.type === "button") { return; }
        if ((el.type === "checkbox" || el.type === "radio") && !el.checked) { return; }
        body.append(el.name, el.value);
        if (/^(title|summary|website|org_name|contact_email|contact_name)$/.test(el.name)) { said += el.value.trim(); }
      });
      if (f.dataset.id) { body.append("id", f.dataset.id); }
      var key = body.toString();
      if (key === last) { return; }
      last = key;
      var mine = ++seq;
      if (said.length < 4) { show(""); return; }
      fetch(f.getAttribute("data-dupcheck"), { method: "POST", body: body, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (html) { if (mine === seq) { show(html); } })
        .catch(function () {});
    };
    var later = function (e) {
      if (e && e.target && e.target.type === "file") { return; }
      clearTimeout(timer);
      timer = setTimeout(check, 400);
    };
    f.addEventListener("input", later);
    f.addEventListener("change", later);
    check();
  });
  // A form posts once: a second click while the first is under way does nothing.
  document.querySelectorAll("form[method=post]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (f.dataset.sent) { e.preventDefault(); return; }
      f.dataset.sent = "1";
    });
  });
})();
