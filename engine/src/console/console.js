// ordo console: lists marked data-refresh reload their own content every N seconds
// (fetched from the same URL; the page's "Read at" time moves with them). No framework.
document.querySelectorAll("[data-refresh]").forEach(function (el) {
  var secs = Math.max(10, parseInt(el.getAttribute("data-refresh"), 10) || 30);
  setInterval(function () {
    if (document.activeElement && el.contains(document.activeElement) &&
        /INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName)) return; // typing: wait
    fetch(location.href, { credentials: "same-origin", headers: { "X-Refresh": "1" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (t) {
        if (!t) return;
        var doc = new DOMParser().parseFromString(t, "text/html");
        var fresh = doc.getElementById(el.id);
        var time = doc.querySelector("footer time");
        if (fresh) el.innerHTML = fresh.innerHTML;
        if (time) document.querySelector("footer time").textContent = time.textContent;
      })
      .catch(function () {});
  }, secs * 1000);
});
