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
