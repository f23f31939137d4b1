// The print button of the handout (no inline script: the pages run under a strict CSP).
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
