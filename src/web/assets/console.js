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

// Nothing typed is lost: a form marked data-keep keeps what is typed in this browser (localStorage) until it is
// saved, and fills it back in when the page is opened again — after a lapsed session and a new sign-in, say.
(function () {
  var store;
  try { store = window.localStorage; } catch (e) { return; }
  if (!store) return;
  var skip = { csrf: 1, password: 1 };
  // A saved request: what was kept for its form is no longer needed.
  var done = /[?&]done=(created|account)\b/.test(location.search);
  document.querySelectorAll("form[data-keep]").forEach(function (f) {
    var key = "kasdesa:" + f.dataset.keep;
    if (done) { store.removeItem(key); return; }
    var kept = {};
    try { kept = JSON.parse(store.getItem(key) || "{}"); } catch (e) { kept = {}; }
    Array.prototype.forEach.call(f.elements, function (el) {
      if (!el.name || skip[el.name] || el.type === "hidden" || el.type === "submit") return;
      if (kept[el.name] === undefined) return;
      if (el.type === "checkbox") { if (!el.checked) el.checked = kept[el.name] === "1"; }
      else if (!el.value) el.value = kept[el.name];
    });
    var save = function () {
      var now = {};
      Array.prototype.forEach.call(f.elements, function (el) {
        if (!el.name || skip[el.name] || el.type === "hidden" || el.type === "submit") return;
        now[el.name] = el.type === "checkbox" ? (el.checked ? "1" : "0") : el.value;
      });
      try { store.setItem(key, JSON.stringify(now)); } catch (e) { /* full: keep going */ }
    };
    f.addEventListener("input", save);
    f.addEventListener("change", save);
  });
})();

// On a phone every table's row is a card (console.css): each cell is labelled with its column's heading, so the
// figures need no sideways scrolling. The labels come from the table's own headings (colspans counted).
document.querySelectorAll(".scroll > table").forEach(function (t) {
  var heads = [];
  t.querySelectorAll("thead tr:first-child th").forEach(function (th) {
    for (var i = 0; i < (th.colSpan || 1); i++) heads.push(th.textContent.trim());
  });
  t.querySelectorAll("tbody tr, tfoot tr").forEach(function (tr) {
    var col = 0;
    Array.prototype.forEach.call(tr.children, function (cell) {
      if (cell.tagName === "TD" && !cell.hasAttribute("data-label") && heads[col]) cell.setAttribute("data-label", heads[col]);
      col += cell.colSpan || 1;
    });
  });
  t.classList.add("cards");
});
