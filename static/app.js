// rdvpl: the little JavaScript HTML attributes cannot do (all of it: no inline script or
// handler is allowed by the Content-Security-Policy).
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
      const first = dialog.querySelector("[autofocus], button, [href], input, select, textarea");
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

  // School suggestions (Gérer les créneaux) as a listbox: ArrowDown from the search field
  // enters the list, ArrowUp/ArrowDown move in it, moving out of the top returns to the field.
  // Here rather than in hx-on attributes: the Content-Security-Policy forbids inline code.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    const field = document.getElementById("school-q");
    if (event.target === field) {
      if (event.key !== "ArrowDown") return;
      const first = document.querySelector("#suggestions [role=option]");
      if (first) { first.focus(); event.preventDefault(); }
      return;
    }
    const list = event.target.closest ? event.target.closest("#suggestions-list") : null;
    if (!list) return;
    const options = Array.from(list.querySelectorAll("[role=option]"));
    const i = options.indexOf(document.activeElement) + (event.key === "ArrowDown" ? 1 : -1);
    const next = options[i] || field;
    if (next) next.focus();
    event.preventDefault();
  });

  document.addEventListener("htmx:afterSettle", function () {
    if (!bannerArrived) return;
    bannerArrived = false;
    const banner = document.getElementById("banner");
    if (banner) banner.scrollIntoView({block: "nearest"});
  });
})();

// Feuille du jour: "Imprimer la feuille du jour" ([data-print]) opens the browser's print
// dialog (the print rules of app.css keep only the sheet).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    const button = event.target.closest ? event.target.closest("[data-print]") : null;
    if (button) window.print();
  });
})();

// DSFR Chart (Suivre l'activité): its <bar-chart> draws inside a shadow root, which the
// page's stylesheets do not reach, and the package ships its CSS as a separate file. That
// file (data-chart-css on the chart's box) is linked into each chart's shadow root: a <link> to our
// own file, which the Content-Security-Policy allows (an inline <style> it would refuse).
(function () {
  "use strict";
  function styleCharts(root) {
    if (!window.customElements || !root.querySelectorAll) return;
    const charts = root.querySelectorAll("[data-chart-css] bar-chart");
    if (!charts.length) return;
    customElements.whenDefined("bar-chart").then(function () {
      charts.forEach(function (chart) {
        const shadow = chart.shadowRoot;
        if (!shadow || shadow.querySelector("link[data-chart-css]")) return;
        const link = document.createElement("link");
        link.rel = "stylesheet";
        link.href = chart.closest("[data-chart-css]").dataset.chartCss;
        link.setAttribute("data-chart-css", "");
        shadow.prepend(link);
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { styleCharts(document); });
  document.addEventListener("htmx:load", function (event) { styleCharts(event.target); });
})();
