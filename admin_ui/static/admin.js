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
  // Amazon Order Details: Save Order (tied to the form by form=) stays disabled until a field differs from
  // the saved value in its data-saved. Without this script the buttons are simply enabled.
  document.querySelectorAll("form[data-needs-change-form]").forEach(function (form) {
    var buttons = document.querySelectorAll("button[data-needs-change][form='" + form.id + "']");
    var inputs = form.querySelectorAll("input[data-saved]");
    var update = function () {
      var changed = Array.prototype.some.call(inputs, function (input) {
        return input.value !== input.getAttribute("data-saved");
      });
      buttons.forEach(function (button) { button.disabled = !changed; });
    };
    form.addEventListener("input", update);
    update();
  });
});
