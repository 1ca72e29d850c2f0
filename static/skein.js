// Skein's progressive enhancement: every page works without this file.
// It adds the composer's live character counter (counted as the server
// counts, Mastodon's way: a link is 23 characters, a remote mention only
// its @user part) and keyboard submission with Ctrl/Cmd+Enter.
(function () {
  "use strict";
  var URL_LENGTH = 23;
  var URL = /https?:\/\/[^\s<>"]+/g;
  var MENTION = /(^|[^\w\/@.])@([A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?/g;

  function count(text) {
    var n = 0;
    text = text.trim().replace(URL, function (url) {
      // Trailing punctuation ends a sentence, not the link.
      var trimmed = url.replace(/[.,;:!?'"*]+$/, "");
      n += URL_LENGTH;
      return url.slice(trimmed.length);
    });
    text = text.replace(MENTION, function (_, before, user) {
      return before + "@" + user;
    });
    return n + Array.from(text).length;
  }

  function setUp(form) {
    var text = form.querySelector("#compose-text");
    var spoiler = form.querySelector("#compose-spoiler");
    var counter = form.querySelector("#compose-counter");
    var submit = form.querySelector("#compose-submit");
    if (!text || !counter) return;
    var limit = parseInt(counter.getAttribute("data-limit"), 10) || 500;
    function update() {
      var left = limit - count(text.value) - (spoiler ? Array.from(spoiler.value).length : 0);
      counter.textContent = String(left);
      counter.classList.toggle("over", left < 0);
      counter.setAttribute("aria-label", left + " characters left");
      if (submit) submit.disabled = left < 0;
    }
    text.addEventListener("input", update);
    if (spoiler) spoiler.addEventListener("input", update);
    text.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !(submit && submit.disabled)) {
        event.preventDefault();
        if (form.requestSubmit) form.requestSubmit(); else form.submit();
      }
    });
    if (text.value && text.hasAttribute("autofocus")) {
      text.setSelectionRange(text.value.length, text.value.length);
    }
    update();
  }

  function ready() {
    var forms = document.querySelectorAll("form.composer");
    for (var i = 0; i < forms.length; i++) setUp(forms[i]);
    // Arriving at a post's reply box (#reply), put the cursor in it.
    if (location.hash === "#reply") {
      var box = document.querySelector("#reply #compose-text");
      if (box) {
        box.focus();
        box.setSelectionRange(box.value.length, box.value.length);
      }
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();

// ==== Keyboard and focus (accessibility) ====
// Escape closes an open menu (<details class="menu">) and puts focus back
// on its button; a click elsewhere closes it too. After a form's action
// (like, follow, mute...), the page that comes back puts focus on the same
// control again (or on the menu it sits in), so keyboard users keep their
// place.
(function () {
  "use strict";
  var KEY = "skein-focus";

  function openMenus() {
    return document.querySelectorAll("details.menu[open]");
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var menus = openMenus();
    for (var i = 0; i < menus.length; i++) {
      menus[i].open = false;
      var summary = menus[i].querySelector("summary");
      if (summary && menus[i].contains(document.activeElement)) summary.focus();
      else if (summary && i === menus.length - 1) summary.focus();
    }
  });

  document.addEventListener("click", function (event) {
    var menus = openMenus();
    for (var i = 0; i < menus.length; i++) {
      if (!menus[i].contains(event.target)) menus[i].open = false;
    }
  });

  // Where a control is: the nearest element with an id, and its place
  // among that element's buttons.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || (form.method || "").toLowerCase() !== "post") return;
    var button = event.submitter || form.querySelector("button");
    var anchor = form.closest("[id]");
    if (!button || !anchor) return;
    var buttons = Array.prototype.slice.call(anchor.querySelectorAll("button"));
    try {
      sessionStorage.setItem(KEY, JSON.stringify({
        page: location.pathname + location.search,
        anchor: anchor.id,
        button: button.id || "",
        index: buttons.indexOf(button)
      }));
    } catch (e) { /* storage off: nothing kept */ }
  });

  function restore() {
    var saved;
    try {
      saved = JSON.parse(sessionStorage.getItem(KEY) || "null");
      sessionStorage.removeItem(KEY);
    } catch (e) { return; }
    if (!saved || saved.page !== location.pathname + location.search) return;
    var target = saved.button && document.getElementById(saved.button);
    if (!target) {
      var anchor = document.getElementById(saved.anchor);
      if (!anchor) return;
      var buttons = anchor.querySelectorAll("button");
      target = buttons[saved.index] || buttons[0];
    }
    if (!target) return;
    // A control inside a closed menu: its menu's button.
    var menu = target.closest("details:not([open])");
    if (menu && menu.querySelector("summary")) target = menu.querySelector("summary");
    target.focus();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", restore);
  } else {
    restore();
  }
})();
