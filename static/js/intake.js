// The intake: the save button is disabled while the save is sent, so that a double
// click sends one request (the server saves an intake once in any case).
(function () {
  "use strict";
  var form = document.getElementById("intake-form");
  if (!form) {
    return;
  }
  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (!button || button.name !== "save") {
      return;
    }
    if (form.dataset.sending) {
      event.preventDefault();
      return;
    }
    form.dataset.sending = "1";
    // After the form data is taken, which includes the button's name and value.
    window.setTimeout(function () {
      button.dataset.label = button.textContent;
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      button.textContent = button.dataset.sendingLabel || button.textContent;
    }, 0);
  });
  // Back to a page the browser kept: it can be sent again (the server still saves
  // the intake once).
  window.addEventListener("pageshow", function () {
    delete form.dataset.sending;
    form.querySelectorAll("button[aria-busy]").forEach(function (button) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      button.textContent = button.dataset.label || button.textContent;
    });
  });
})();

// The live menu: after each re-rank, the sections the counsellor had opened stay open,
// answers the server refused are marked on their fields (the menu leaves them out
// meanwhile), and a one-line summary goes to the small live region.
(function () {
  "use strict";
  var form = document.getElementById("intake-form");
  if (!form) {
    return;
  }
  var opened = [];

  function detailsKeys(menu) {
    var keys = [];
    var counts = {};
    menu.querySelectorAll("details").forEach(function (details) {
      var owner = details.closest("[data-group]");
      var group = owner ? owner.dataset.group : "";
      counts[group] = (counts[group] || 0) + 1;
      if (details.open) {
        keys.push(group + "|" + counts[group]);
      }
    });
    return keys;
  }

  function reopen(menu, keys) {
    var counts = {};
    menu.querySelectorAll("details").forEach(function (details) {
      var owner = details.closest("[data-group]");
      var group = owner ? owner.dataset.group : "";
      counts[group] = (counts[group] || 0) + 1;
      if (keys.indexOf(group + "|" + counts[group]) !== -1) {
        details.open = true;
      }
    });
  }

  function clearMarks(keep) {
    form.querySelectorAll(".js-field-error").forEach(function (node) {
      node.remove();
    });
    form.querySelectorAll(".is-invalid").forEach(function (input) {
      if (keep.indexOf(input.name) !== -1) {
        return;
      }
      input.classList.remove("is-invalid");
      input.removeAttribute("aria-invalid");
      var wrapper = document.getElementById("div_id_" + input.name);
      if (wrapper) {
        wrapper.querySelectorAll(".invalid-feedback").forEach(function (node) {
          node.remove();
        });
      }
    });
  }

  function mark(errors) {
    Object.keys(errors).forEach(function (name) {
      var wrapper = document.getElementById("div_id_" + name);
      var inputs = form.querySelectorAll('[name="' + name + '"]');
      if (!wrapper || !inputs.length) {
        return;
      }
      wrapper.querySelectorAll(".invalid-feedback").forEach(function (node) {
        node.remove();
      });
      var message = document.createElement("div");
      message.className = "invalid-feedback d-block js-field-error";
      message.id = "js-error-" + name;
      message.textContent = errors[name].join(" ");
      wrapper.appendChild(message);
      inputs.forEach(function (input) {
        input.classList.add("is-invalid");
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", message.id);
      });
    });
  }

  document.body.addEventListener("htmx:beforeSwap", function () {
    var menu = document.getElementById("menu");
    opened = menu ? detailsKeys(menu) : [];
  });
  document.body.addEventListener("htmx:afterSwap", function () {
    var menu = document.getElementById("menu");
    if (!menu) {
      return;
    }
    reopen(menu, opened);
    var data = document.getElementById("menu-field-errors");
    var errors = data ? JSON.parse(data.textContent || "{}") : {};
    clearMarks(Object.keys(errors));
    mark(errors);
    var status = document.getElementById("menu-status");
    if (status) {
      status.textContent = "";
      window.setTimeout(function () {
        status.textContent = menu.dataset.summary || "";
      }, 50);
    }
  });

  // Languages: a short list to scroll, and a box to find one by typing.
  var languages = document.querySelector("#div_id_languages fieldset > div");
  if (languages) {
    languages.classList.add("language-list");
    var find = document.createElement("input");
    find.type = "search";
    find.className = "form-control form-control-sm mb-1";
    find.setAttribute("aria-label", form.dataset.findLanguage || "");
    find.placeholder = form.dataset.findLanguage || "";
    find.setAttribute("aria-controls", "id_languages_list");
    languages.id = "id_languages_list";
    languages.parentNode.insertBefore(find, languages);
    // Finding a language is not an answer: the menu does not re-rank for it.
    ["change", "input", "keyup"].forEach(function (name) {
      find.addEventListener(name, function (event) {
        event.stopPropagation();
      });
    });
    find.addEventListener("input", function () {
      var wanted = find.value.trim().toLowerCase();
      languages.querySelectorAll(".form-check").forEach(function (option) {
        var label = option.textContent.trim().toLowerCase();
        option.hidden = wanted !== "" && label.indexOf(wanted) === -1;
      });
    });
    // Enter in the box ticks the first language shown, and never sends the form.
    find.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") {
        return;
      }
      event.preventDefault();
      var first = languages.querySelector(".form-check:not([hidden]) input");
      if (first) {
        first.click();
      }
    });
  }
})();
