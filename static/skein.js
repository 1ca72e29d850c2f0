// Skein's progressive enhancement: every page works without this file.
// It adds the composer's live character counter (counted as the server
// counts, Mastodon's way: a link is 23 characters, a remote mention only
// its @user part), keyboard submission with Ctrl/Cmd+Enter, and custom
// emoji inserted at the cursor.
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
