// ordo console: a live list (an element with data-refresh="SECONDS") asks the server every
// SECONDS for itself alone (header X-Fragment: its id; the answer is that element and when it
// was read, not the page) and swaps its content; the footer's "Read at" moves with it.
// It waits while someone works in the list (a field or button focused). No framework.
document.querySelectorAll("[data-refresh]").forEach(function (el) {
  var secs = Math.max(10, parseInt(el.getAttribute("data-refresh"), 10) || 30);
  setInterval(function () {
    if (document.activeElement && el.contains(document.activeElement) &&
        /INPUT|TEXTAREA|SELECT|BUTTON/.test(document.activeElement.tagName)) return; // busy: wait
    fetch(location.href, { credentials: "same-origin", headers: { "X-Fragment": el.id } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (t) {
        if (!t) return;
        var doc = new DOMParser().parseFromString(t, "text/html");
        var fresh = doc.getElementById(el.id);
        var time = doc.querySelector("time.read-at");
        if (fresh && fresh.innerHTML !== el.innerHTML) el.innerHTML = fresh.innerHTML;
        var footer = document.querySelector("footer time");
        if (time && footer) footer.textContent = time.textContent;
      })
      .catch(function () {});
  }, secs * 1000);
});
