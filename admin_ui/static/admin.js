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

// SKU mapping: the catalog SKU field searches Magento's catalog as you type (server: /stores/<code>/sku/products).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input[data-product-picker]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("aria-controls"));
    var url = input.getAttribute("data-product-picker");
    var timer = null;
    var asked = "";
    var show = function (data) {
      list.textContent = "";
      (data.products || []).forEach(function (product) {
        var option = document.createElement("button");
        option.type = "button";
        option.className = "product-option";
        option.setAttribute("role", "option");
        option.setAttribute("data-sku", product.sku);
        var sku = document.createElement("strong");
        sku.textContent = product.sku;
        option.appendChild(sku);
        option.appendChild(document.createTextNode(" " + product.name));
        option.addEventListener("click", function () {
          input.value = product.sku;
          list.hidden = true;
          input.focus();
        });
        list.appendChild(option);
      });
      if (data.message) {
        var note = document.createElement("div");
        note.className = "hint";
        note.textContent = data.message;
        list.appendChild(note);
      }
      list.hidden = !list.firstChild;
    };
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var text = input.value.trim();
        if (text === asked) { return; }
        asked = text;
        if (text.length < 2) { list.hidden = true; return; }
        fetch(url + "?q=" + encodeURIComponent(text), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
          .then(function (response) { return response.json(); })
          .then(function (data) { if (asked === text) { show(data); } })
          .catch(function () { show({ products: [], message: "Magento's catalog could not be searched just now." }); });
      }, 250);
    });
  });
});

// Amazon Order Details: changing the shipping country offers that country's regions from Magento's directory.
document.addEventListener("DOMContentLoaded", function () {
  var country = document.querySelector("input[data-regions-url]");
  var list = document.getElementById("regions");
  if (!country || !list) { return; }
  var asked = country.value.trim().toUpperCase();
  country.addEventListener("change", function () {
    var code = country.value.trim().toUpperCase();
    if (code === asked || !/^[A-Z]{2}$/.test(code)) { return; }
    asked = code;
    fetch(country.getAttribute("data-regions-url").replace("__CODE__", code), { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (asked !== code) { return; }
        list.textContent = "";
        (data.regions || []).forEach(function (region) {
          var option = document.createElement("option");
          option.value = region.code;
          option.textContent = region.name;
          list.appendChild(option);
        });
      })
      .catch(function () { list.textContent = ""; });
  });
});
