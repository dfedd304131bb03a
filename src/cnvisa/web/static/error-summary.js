// Progressive enhancement of the error summary (GOV.UK Design System): the page works without it.
// The summary takes focus on load without it (autofocus, base.html); this focuses it again where a browser
// ignores autofocus on a box, and makes a link in it move focus to the field it names, not only the view.
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
