// Progressive enhancement only: every page works without it. A form, once sent, cannot be sent twice by a
// double click (the server is idempotent anyway).
document.addEventListener("submit", function (e) {
  var f = e.target;
  if (f.dataset.sent) { e.preventDefault(); return; }
  f.dataset.sent = "1";
});
