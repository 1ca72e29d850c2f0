// Skein's progressive enhancement: every page works without this file.
// It adds the composer's live character counter (counted as the server
// counts, Mastodon's way: a link is 23 characters, a remote mention only
// its @user part) and keyboard submission with Ctrl/Cmd+Enter; the
// composer opened as a sheet from the icon bar (Escape closes it); more
// posts for a thread; @mention and #hashtag suggestions while typing (from
// /web/autocomplete); the icon bar's current page; Escape closing menus;
// custom emoji inserted at the cursor.
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
    // The emoji picker's buttons add `:shortcode:` where the cursor is,
    // without sending the form (without script they send it back to be
    // shown again with the shortcode added).
    var choices = form.querySelectorAll("button.emoji-choice");
    for (var c = 0; c < choices.length; c++) {
      choices[c].addEventListener("click", function (event) {
        event.preventDefault();
        var code = ":" + this.value + ": ";
        var start = text.selectionStart, end = text.selectionEnd;
        var before = text.value.slice(0, start);
        if (before && !/\s$/.test(before)) code = " " + code;
        text.value = before + code + text.value.slice(end);
        text.focus();
        text.setSelectionRange(start + code.length, start + code.length);
        update();
      });
    }
    if (text.value && text.hasAttribute("autofocus")) {
      text.setSelectionRange(text.value.length, text.value.length);
    }
    update();
  }

  // The composer of the page (the home page's), opened above the page as
  // a sheet when the icon bar's compose link is followed; elsewhere the
  // link goes to /compose.
  function setUpSheet() {
    var box = document.getElementById("composer");
    var links = document.querySelectorAll("a.compose-link");
    if (!box || !links.length) return;
    var backdrop = null;
    var opener = null;
    function close() {
      box.classList.remove("sheet");
      box.open = false;
      if (backdrop) { backdrop.remove(); backdrop = null; }
      if (opener) opener.focus();
    }
    function open(from) {
      opener = from;
      box.open = true;
      box.classList.add("sheet");
      backdrop = document.createElement("div");
      backdrop.className = "sheet-backdrop";
      backdrop.addEventListener("click", close);
      box.parentNode.insertBefore(backdrop, box);
      var text = box.querySelector("#compose-text");
      if (text) text.focus();
    }
    for (var i = 0; i < links.length; i++) {
      links[i].addEventListener("click", function (event) {
        event.preventDefault();
        open(event.currentTarget);
      });
    }
    box.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && box.classList.contains("sheet") && !event.defaultPrevented) {
        event.preventDefault();
        close();
      }
    });
  }

  // "Add to thread": one more post, up to the list's data-max posts in all.
  function setUpThread(form) {
    var list = form.querySelector("ol.thread-more");
    if (!list) return;
    var max = parseInt(list.getAttribute("data-max"), 10) || 10;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "add-to-thread";
    button.textContent = "Add to thread";
    list.parentNode.insertBefore(button, list.nextSibling);
    function refresh() {
      button.hidden = list.children.length + 1 >= max;
    }
    button.addEventListener("click", function () {
      var items = list.querySelectorAll("li.thread-post");
      var last = items[items.length - 1];
      if (!last) return;
      var n = items.length + 1;
      var copy = last.cloneNode(true);
      var label = copy.querySelector("label");
      var area = copy.querySelector("textarea");
      area.id = "compose-thread-" + n;
      area.value = "";
      label.setAttribute("for", area.id);
      label.textContent = "Post " + (n + 1) + " of the thread (optional)";
      list.appendChild(copy);
      setUpAutocomplete(area);
      area.focus();
      refresh();
    });
    refresh();
  }

  // @mention and #hashtag suggestions for a text box.
  var completions = 0;
  function setUpAutocomplete(area) {
    if (!area || area.getAttribute("data-completing")) return;
    area.setAttribute("data-completing", "1");
    var id = "autocomplete-" + (++completions);
    var list = document.createElement("ul");
    list.className = "autocomplete";
    list.id = id;
    list.setAttribute("role", "listbox");
    list.hidden = true;
    area.parentNode.insertBefore(list, area.nextSibling);
    area.setAttribute("aria-autocomplete", "list");
    area.setAttribute("aria-controls", id);
    var timer = null;
    var asked = 0;
    var token = null;
    var selected = -1;
    function hide() {
      list.hidden = true;
      list.textContent = "";
      selected = -1;
      area.removeAttribute("aria-activedescendant");
    }
    function select(i) {
      var items = list.children;
      for (var k = 0; k < items.length; k++) items[k].setAttribute("aria-selected", k === i ? "true" : "false");
      selected = i;
      if (items[i]) area.setAttribute("aria-activedescendant", items[i].id);
    }
    function pick(value) {
      if (!token) return;
      var before = area.value.slice(0, token.end - token.text.length);
      var after = area.value.slice(token.end);
      var inserted = value + " ";
      area.value = before + inserted + after;
      var caret = before.length + inserted.length;
      area.setSelectionRange(caret, caret);
      area.dispatchEvent(new Event("input"));
      hide();
      area.focus();
    }
    function show(values) {
      list.textContent = "";
      values.forEach(function (v, i) {
        var item = document.createElement("li");
        item.id = id + "-" + i;
        item.setAttribute("role", "option");
        item.textContent = v.label;
        item.setAttribute("data-value", v.value);
        item.addEventListener("mousedown", function (event) {
          event.preventDefault();
          pick(v.value);
        });
        list.appendChild(item);
      });
      if (values.length) {
        list.hidden = false;
        select(0);
      } else {
        hide();
      }
    }
    function current() {
      var end = area.selectionEnd;
      var match = /(^|[\s(])([@#][\w.@-]+)$/.exec(area.value.slice(0, end));
      return match ? { text: match[2], end: end } : null;
    }
    area.addEventListener("input", function () {
      clearTimeout(timer);
      token = current();
      if (!token || token.text.length < 2) { hide(); return; }
      var query = token.text;
      var ask = ++asked;
      timer = setTimeout(function () {
        fetch("/web/autocomplete?q=" + encodeURIComponent(query), { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : { accounts: [], hashtags: [] }; })
          .then(function (found) {
            if (ask !== asked) return;
            var values = (found.accounts || []).map(function (a) {
              return { value: "@" + a.acct, label: a.display_name + " @" + a.acct };
            }).concat((found.hashtags || []).map(function (t) {
              return { value: "#" + t, label: "#" + t };
            }));
            show(values);
          })
          .catch(hide);
      }, 150);
    });
    area.addEventListener("keydown", function (event) {
      if (list.hidden) return;
      var n = list.children.length;
      if (event.key === "ArrowDown") { event.preventDefault(); select((selected + 1) % n); }
      else if (event.key === "ArrowUp") { event.preventDefault(); select((selected - 1 + n) % n); }
      else if ((event.key === "Enter" || event.key === "Tab") && selected >= 0 && !event.ctrlKey && !event.metaKey) {
        event.preventDefault();
        pick(list.children[selected].getAttribute("data-value"));
      } else if (event.key === "Escape") { event.preventDefault(); hide(); }
    });
    area.addEventListener("blur", function () { setTimeout(hide, 150); });
  }

  // The icon bar shows which page this is.
  function markCurrent() {
    var path = location.pathname;
    var links = document.querySelectorAll(".iconbar a.icon-link");
    for (var i = 0; i < links.length; i++) {
      var href = links[i].getAttribute("href");
      var here = href === path || (href !== "/" && path.indexOf(href + "/") === 0)
        || (href === "/explore" && path === "/search");
      if (here) links[i].setAttribute("aria-current", "page");
    }
  }

  // Escape closes an open menu and puts the focus back on its button.
  function setUpMenus() {
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || event.defaultPrevented) return;
      var open = document.querySelectorAll("details.menu[open]");
      for (var i = 0; i < open.length; i++) {
        open[i].open = false;
        var summary = open[i].querySelector("summary");
        if (summary && open[i].contains(document.activeElement)) summary.focus();
      }
    });
  }

  function ready() {
    var forms = document.querySelectorAll("form.composer");
    for (var i = 0; i < forms.length; i++) {
      setUp(forms[i]);
      setUpThread(forms[i]);
      var areas = forms[i].querySelectorAll("textarea[data-autocomplete]");
      for (var k = 0; k < areas.length; k++) setUpAutocomplete(areas[k]);
    }
    setUpSheet();
    markCurrent();
    setUpMenus();
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
