// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // After a form comes back with errors, take the reader straight to the list of problems.
  const summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  }
});
