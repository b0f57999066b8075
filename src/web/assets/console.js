// Progressive enhancement only: every page works without it. A form that moves money asks first, saying the amount
// and the payee (data-confirm); once sent, a form shows that it is being sent and cannot be sent twice by a double
// click (the server is idempotent anyway).
document.addEventListener("submit", function (e) {
  var f = e.target;
  if (f.dataset.sent) { e.preventDefault(); return; }
  if (f.dataset.confirm && !window.confirm(f.dataset.confirm)) { e.preventDefault(); return; }
  f.dataset.sent = "1";
  var b = e.submitter || f.querySelector("button[type=submit]");
  if (b && f.dataset.sending) {
    b.setAttribute("aria-busy", "true");
    b.textContent = f.dataset.sending;
  }
});
