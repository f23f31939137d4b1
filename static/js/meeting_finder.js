// The meeting finder (no inline script: the pages run under a strict CSP).
(() => {
  const form = document.getElementById("finder-form");
  if (!form) return;
  const where = document.getElementById("finder-where");

  // Online meetings need no place and say nothing of wheelchair access.
  const showWhere = () => {
    const chosen = form.querySelector('input[name="attendance"]:checked');
    where.disabled = chosen !== null && chosen.value === "online";
  };
  form.addEventListener("change", (event) => {
    if (event.target.name === "attendance") showWhere();
  });
  showWhere();

  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-print]")) window.print();
  });

  // A new page of results takes the focus to its first heading; a change in the form
  // leaves it where it is.
  document.body.addEventListener("htmx:afterSwap", (event) => {
    const from = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (from && from.closest(".pagination")) {
      const start = document.querySelector("#finder-results [data-results-start]");
      if (start) start.focus();
    }
  });
})();
