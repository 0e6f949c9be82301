// rdvpl: the little JavaScript HTML attributes cannot do.
// Server-rendered <dialog> elements swapped into #dialog are opened as modals; Escape and the
// close buttons close them; focus returns to the control that opened them.
(function () {
  "use strict";
  let opener = null;

  document.addEventListener("htmx:beforeRequest", function (event) {
    const target = event.detail.target;
    if (target && target.id === "dialog") opener = event.detail.elt;
  });

  function openDialogs(root) {
    const dialogs = root.querySelectorAll ? root.querySelectorAll("#dialog dialog:not([open])") : [];
    dialogs.forEach(function (dialog) {
      dialog.addEventListener("close", function () {
        const container = document.getElementById("dialog");
        if (container && container.contains(dialog)) container.innerHTML = "";
        if (opener && document.contains(opener)) opener.focus();
        else if (dialog.dataset.returnFocus) {
          const back = document.getElementById(dialog.dataset.returnFocus);
          if (back) back.focus();
        }
        opener = null;
      });
      dialog.showModal();
      // The control the dialog asks for (autofocus, e.g. the safe answer), else the first one.
      const first = dialog.querySelector("[autofocus]")
        || dialog.querySelector("button, [href], input, select, textarea");
      if (first) first.focus();
    });
  }

  document.addEventListener("htmx:load", function (event) { openDialogs(document); });

  document.addEventListener("click", function (event) {
    const closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      const dialog = closer.closest("dialog");
      if (dialog) dialog.close();
    }
  });

  // Out-of-band swaps after an action. A banner (its outcome) is shown: it is scrolled into
  // view once everything has settled, after any autofocus, so that a tablet user sees the
  // outcome (the focused control keeps the focus). An emptied #dialog (the action was
  // confirmed) gives the focus back to the dialog's opener.
  let bannerArrived = false;
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    const target = event.detail.target;
    if (!target) return;
    const filled = target.innerHTML.trim() !== "";
    if (target.id === "banner" && filled) {
      bannerArrived = true;
    } else if (target.id === "dialog" && !filled) {
      if (opener && document.contains(opener)) opener.focus();
      opener = null;
    }
  });

  document.addEventListener("htmx:afterSettle", function () {
    if (!bannerArrived) return;
    bannerArrived = false;
    const banner = document.getElementById("banner");
    if (banner) banner.scrollIntoView({block: "nearest"});
  });
})();
