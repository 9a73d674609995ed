// Every page (base.html): the navigation's menu button on phones, and htmx's history
// snapshots taken without the messages, so going back never shows a message a second time.
(function () {
  "use strict";
  var nav = document.getElementById("portal-nav");
  var button = document.getElementById("nav-toggle");
  if (nav && button) {
    nav.classList.add("collapsible"); // without this script the links wrap instead
    button.addEventListener("click", function () {
      var open = nav.classList.toggle("open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
  document.addEventListener("htmx:beforeHistorySave", function () {
    document.querySelectorAll("#messages .message").forEach(function (message) {
      message.remove();
    });
  });
})();
