// Small progressive enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", function () {
  // Store switcher and per-page selects submit on change.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  // Confirm destructive forms.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
  // Order Settings: "Import Amazon Orders" = Disabled greys out every other field (the server ignores them too).
  document.querySelectorAll("form[data-import-switch]").forEach(function (form) {
    var name = form.getAttribute("data-import-switch");
    var toggle = form.elements[name];
    if (!toggle || toggle.disabled) { return; }
    var apply = function () {
      var off = toggle.value === "0";
      form.querySelectorAll(".field[data-field]").forEach(function (field) {
        if (field.getAttribute("data-field") === name) { return; }
        field.classList.toggle("is-disabled", off);
        field.querySelectorAll("input, select, textarea").forEach(function (input) { input.disabled = off; });
      });
    };
    toggle.addEventListener("change", apply);
  });
});
