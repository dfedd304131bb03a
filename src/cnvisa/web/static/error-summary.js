// Progressive enhancement of the error summary (GOV.UK Design System): the page works without it.
// On load, focus moves to the summary so that screen readers announce it (WCAG 3.3.1); a link in it moves focus
// to the field it names, not only the view.
(function () {
  var summary = document.getElementById("error-summary");
  if (!summary) return;
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    var field = link && document.getElementById(link.getAttribute("href").slice(1));
    if (!field) return;
    event.preventDefault();
    field.scrollIntoView();
    field.focus();
  });
})();
