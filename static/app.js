// rdvpl: the little JavaScript HTML attributes cannot do (all of it: no inline script or
// handler is allowed by the Content-Security-Policy).
// Server-rendered <dialog> elements swapped into #dialog are opened as modals; Escape and the
// close buttons close them; focus returns to the control that opened them.
(function () {
  "use strict";
  let opener = null;

  document.addEventListener("htmx:beforeRequest", function (event) {
    const target = event.detail.target;
    if (target && target.id === "dialog") {
      // A form that opens a dialog ("Recopier cette semaine"): its button gets the focus back.
      const elt = event.detail.elt;
      opener = elt.tagName === "FORM" ? (elt.querySelector("[type=submit]") || elt) : elt;
    }
  });

  // The focus back on a control, and the control on screen: the browser may have given it
  // the focus already (a closing <dialog>), and focus() alone then scrolls nothing.
  function back(control) {
    control.focus();
    control.scrollIntoView({block: "nearest"});
  }

  function openDialogs(root) {
    const dialogs = root.querySelectorAll ? root.querySelectorAll("#dialog dialog:not([open])") : [];
    dialogs.forEach(function (dialog) {
      dialog.addEventListener("close", function () {
        const container = document.getElementById("dialog");
        if (container && container.contains(dialog)) container.innerHTML = "";
        if (opener && document.contains(opener)) back(opener);
        else if (dialog.dataset.returnFocus) {
          const control = document.getElementById(dialog.dataset.returnFocus);
          if (control) back(control);
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

  // htmx fires no oobAfterSwap for an element emptied out-of-band (it has no new child to fire
  // it on): a dialog closed by the answer to its own form ("Recopier") is caught before the
  // swap. Its opener gets the focus back unless the answer gave it to something (autofocus).
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    const target = event.detail.target;
    const fragment = event.detail.fragment;
    if (!target || target.id !== "dialog" || !fragment || fragment.childElementCount) return;
    const back = opener;
    opener = null;
    setTimeout(function () {
      const lost = !document.activeElement || document.activeElement === document.body;
      if (lost && back && document.contains(back)) back.focus();
    }, 0);
  });

  document.addEventListener("htmx:afterSettle", function () {
    if (!bannerArrived) return;
    bannerArrived = false;
    const banner = document.getElementById("banner");
    if (banner) banner.scrollIntoView({block: "nearest"});
  });
})();

// School search of "Gérer les créneaux": the WAI-ARIA combobox pattern with a listbox popup
// (list autocomplete). The focus stays in the field; ArrowDown/ArrowUp move the active option
// (aria-activedescendant + aria-selected), Enter chooses it (the option's own hx-get), Escape
// closes the list (the field keeps its text). aria-expanded follows the list on screen.
(function () {
  "use strict";
  const FIELD = "school-q";
  const LIST = "suggestions-list";

  function parts() {
    const field = document.getElementById(FIELD);
    const list = document.getElementById(LIST);
    const options = list ? Array.from(list.querySelectorAll('[role="option"]')) : [];
    return {field: field, list: list, options: options};
  }

  function activate(option) {
    const p = parts();
    p.options.forEach(function (o) { o.setAttribute("aria-selected", o === option ? "true" : "false"); });
    if (!p.field) return;
    if (option) {
      p.field.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({block: "nearest"});
    } else {
      p.field.removeAttribute("aria-activedescendant");
    }
  }

  function show(open) {
    const p = parts();
    if (!p.field) return;
    if (p.list) p.list.hidden = !open;
    p.field.setAttribute("aria-expanded", open && p.options.length ? "true" : "false");
    if (!open) activate(null);
  }

  document.addEventListener("keydown", function (event) {
    if (!event.target || event.target.id !== FIELD) return;
    const p = parts();
    const open = p.options.length > 0 && !p.list.hidden;
    const current = p.options.findIndex(function (o) {
      return o.id === p.field.getAttribute("aria-activedescendant");
    });
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!p.options.length) return;
      event.preventDefault();
      const down = event.key === "ArrowDown";
      if (!open) show(true);
      const last = p.options.length - 1;
      const next = !open || current < 0 ? (down ? 0 : last)
        : (current + (down ? 1 : -1) + p.options.length) % p.options.length;
      activate(p.options[next]);
    } else if (event.key === "Enter" && open && current >= 0) {
      event.preventDefault();  // no "search": the chosen school replaces the list
      p.options[current].click();
    } else if (event.key === "Escape" && open) {
      event.preventDefault();  // close the list, keep the text (a search field would clear it)
      show(false);
    }
  });

  // A new list arrived (typing) or the block was replaced (a school chosen).
  document.addEventListener("htmx:afterSettle", function () {
    const p = parts();
    if (!p.field) return;
    p.field.setAttribute("aria-expanded", p.options.length && !p.list.hidden ? "true" : "false");
    const active = p.field.getAttribute("aria-activedescendant");
    if (active && !p.options.some(function (o) { return o.id === active; })) activate(null);
  });
})();

// Menu (DSFR navigation): a sub-menu's button (fr-nav__btn) opens and closes its fr-menu
// (aria-expanded, DSFR's fr-collapse--expanded). Escape closes it and gives the focus back to
// its button; so do a click elsewhere and the focus leaving the menu's entry. One open at a time.
(function () {
  "use strict";
  function menu(button) { return document.getElementById(button.getAttribute("aria-controls")); }

  function toggle(button, open) {
    const list = menu(button);
    if (!list) return;
    button.setAttribute("aria-expanded", open ? "true" : "false");
    list.classList.toggle("fr-collapse--expanded", open);
  }

  function closeAll(except) {
    document.querySelectorAll(".fr-nav__btn[aria-expanded=true]").forEach(function (b) {
      if (b !== except) toggle(b, false);
    });
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest ? event.target.closest(".fr-nav__btn") : null;
    if (button) {
      closeAll(button);
      toggle(button, button.getAttribute("aria-expanded") !== "true");
    } else if (!event.target.closest || !event.target.closest(".fr-menu")) {
      closeAll(null);
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !event.target.closest) return;
    const item = event.target.closest(".fr-nav__item");
    const button = item && item.querySelector(".fr-nav__btn[aria-expanded=true]");
    if (!button) return;
    event.preventDefault();
    toggle(button, false);
    button.focus();
  });

  document.addEventListener("focusout", function (event) {
    const item = event.target.closest ? event.target.closest(".fr-nav__item") : null;
    const button = item && item.querySelector(".fr-nav__btn[aria-expanded=true]");
    if (button && event.relatedTarget && !item.contains(event.relatedTarget)) toggle(button, false);
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

// Tablet: the selection bar of a grid is pinned to the bottom of the screen, and the browser
// would scroll a focused cell just into view, i.e. under it (WCAG 2.2 SC 2.4.11). The page's
// scroll-padding-bottom (app.css) follows the pinned bar's height: measured here because it
// wraps with its text and the width, and the bar is swapped by htmx.
(function () {
  "use strict";
  const BARS = ".planning-panel, .creneaux-selbar";

  function pinnedHeight() {
    let height = 0;
    document.querySelectorAll(BARS).forEach(function (bar) {
      const style = getComputedStyle(bar);
      if (style.position === "sticky" && style.bottom === "0px") {
        height = Math.max(height, bar.getBoundingClientRect().height);
      }
    });
    return height;
  }

  function update() {
    document.documentElement.style.setProperty("--pinned-bar-height", Math.ceil(pinnedHeight()) + "px");
  }

  document.addEventListener("DOMContentLoaded", update);
  document.addEventListener("htmx:afterSettle", update);
  window.addEventListener("resize", update);
})();

// Focus after an action whose control is swapped away or disabled (hx-disabled-elt), which
// would leave the focus on <body> (issue 10 item 3). Unless the response put it somewhere
// itself (autofocus), it goes to what the acting element names in data-focus-after:
// "week-title" (an element id: "Semaine suivante/précédente"), or "ticked" (the first cell
// ticked in that form, i.e. the first session just planned); else, or when the action failed,
// to the message of the banner.
(function () {
  "use strict";
  let pending = null;

  document.addEventListener("htmx:beforeRequest", function (event) {
    const elt = event.detail.elt;
    const wanted = elt && elt.getAttribute ? elt.getAttribute("data-focus-after") : null;
    let cell = null;
    if (wanted === "ticked") {
      const ticked = elt.querySelector("input[type=checkbox]:checked");
      cell = ticked && ticked.closest("td[id]") ? ticked.closest("td[id]").id : null;
    }
    // Only an action the user took from that element: a chunk of the grid loading as it scrolls
    // into view must not pull the focus anywhere.
    const acted = elt && document.activeElement && elt.contains(document.activeElement);
    pending = acted ? {wanted: wanted, cell: cell} : null;
  });

  function target(request, ok) {
    if (ok && request.cell) {
      const cell = document.getElementById(request.cell);
      const control = cell && cell.querySelector("button:enabled, input:enabled");
      if (control) return control;
    }
    if (ok && request.wanted && request.wanted !== "ticked") {
      const element = document.getElementById(request.wanted);
      if (element) return element;
    }
    const alert = document.querySelector("#banner [data-testid=banner], #banner .fr-alert");
    if (alert) alert.setAttribute("tabindex", "-1");
    return alert;
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    const request = pending;
    if (!request) return;
    pending = null;
    const focused = document.activeElement;
    if (focused && focused !== document.body && document.contains(focused)) return;
    const xhr = event.detail.xhr;
    const element = target(request, !xhr || (xhr.status >= 200 && xhr.status < 300));
    if (element) element.focus();
  });
})();

// The BER grids by keyboard (issue 10 item 4): each grid is one Tab stop (roving tabindex),
// the arrow keys move inside it. A grid's controls are many (6 days x 4 tranches x each
// inspector), so the arrows move to the nearest control in their direction on screen: it
// follows both grids' layouts (a table of cells; days side by side, units one under the
// other) and crosses from one inspector to the next. Home/End: first/last of the line;
// Ctrl+Home/End: first/last of the grid. The control last focused keeps the Tab stop.
(function () {
  "use strict";
  const GRID = "#grid";
  const CONTROLS = "input[type=checkbox]:enabled, button:enabled";

  function controls(grid) {
    return Array.from(grid.querySelectorAll(CONTROLS)).filter(function (c) { return c.getClientRects().length; });
  }

  // Exactly one control of the grid in the Tab sequence: `current` if given, else the one
  // that has it already, else the first.
  function rove(grid, current) {
    const all = controls(grid);
    if (!all.length) return;
    const focused = document.activeElement;
    const stop = current || (all.indexOf(focused) >= 0 ? focused : null)
      || all.find(function (c) { return c.tabIndex === 0 && c.dataset.rove; }) || all[0];
    all.forEach(function (c) { c.tabIndex = c === stop ? 0 : -1; c.dataset.rove = "1"; });
  }

  function centre(r) { return {x: (r.left + r.right) / 2, y: (r.top + r.bottom) / 2}; }

  // The nearest control in the arrow's direction: along the axis first, then across it.
  function nearest(from, all, key) {
    const a = from.getBoundingClientRect(), ca = centre(a);
    let best = null, bestScore = Infinity;
    all.forEach(function (c) {
      if (c === from) return;
      const b = c.getBoundingClientRect(), cb = centre(b);
      let along, across;
      if (key === "ArrowRight") { along = b.left - a.right; across = Math.abs(cb.y - ca.y); }
      else if (key === "ArrowLeft") { along = a.left - b.right; across = Math.abs(cb.y - ca.y); }
      else if (key === "ArrowDown") { along = b.top - a.bottom; across = Math.abs(cb.x - ca.x); }
      else { along = a.top - b.bottom; across = Math.abs(cb.x - ca.x); }
      if (along < -1) return;  // not in that direction (1 px: borders shared)
      // A control on the same line (or column) always beats one off it.
      const offLine = (key === "ArrowRight" || key === "ArrowLeft")
        ? (b.bottom <= a.top || b.top >= a.bottom) : (b.right <= a.left || b.left >= a.right);
      const score = (offLine ? 1e6 : 0) + along + 2 * across;
      if (score < bestScore) { best = c; bestScore = score; }
    });
    return best;
  }

  function lineEnd(from, all, last) {
    const a = from.getBoundingClientRect();
    const line = all.filter(function (c) {
      const b = c.getBoundingClientRect();
      return b.bottom > a.top && b.top < a.bottom;
    });
    return last ? line[line.length - 1] : line[0];
  }

  document.addEventListener("keydown", function (event) {
    const from = event.target;
    if (!from.closest || !from.matches(CONTROLS) || event.altKey || event.metaKey) return;
    const grid = from.closest(GRID);
    if (!grid) return;
    const all = controls(grid);
    let to = null;
    if (event.key === "Home" || event.key === "End") {
      to = event.ctrlKey ? (event.key === "Home" ? all[0] : all[all.length - 1])
        : lineEnd(from, all, event.key === "End");
    } else if (/^Arrow(Up|Down|Left|Right)$/.test(event.key) && !event.ctrlKey) {
      to = nearest(from, all, event.key);
    } else {
      return;
    }
    event.preventDefault();  // no page scroll: the focus moves (and brings the control into view)
    if (to && to !== from) { rove(grid, to); to.focus(); }
  });

  document.addEventListener("focusin", function (event) {
    const grid = event.target.closest ? event.target.closest(GRID) : null;
    if (grid && event.target.matches(CONTROLS)) rove(grid, event.target);
  });

  function init() { document.querySelectorAll(GRID).forEach(function (g) { rove(g, null); }); }
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init);
})();

// Live grids (SPEC Part 2): an open BER grid shows another agent's changes within 5 seconds.
// The page knows the revision it was rendered at (data-live-revision on the grid's page); every
// 5 s, while the tab is visible, it asks data-live-url whether the department's grids changed
// (204: nothing new). When they did, the inspectors it shows are fetched again with the ticked
// units or cells (data-live-refresh): the server keeps those still free ticked, and names the
// others in the polite live region #live-notice. The focus and the scroll stay where they were.
// A refresh waits while a dialog is open or a request of the page is in flight; an answer that
// arrives after the agent ticked or unticked something, or opened a dialog, is dropped and
// asked again. The agent's own changes need none (X-Grid-Committed).
(function () {
  "use strict";
  const EVERY = 5000;
  const CONTROLS = "input[type=checkbox]:enabled, button:enabled";
  let timer = null;
  let asking = false;
  let refreshing = null;  // {ticked: "…"} while a refresh is in flight
  let kept = null;  // focus and scroll to restore after the refresh's swap

  function page() { return document.querySelector("[data-live-revision]"); }

  function ticked(grid) {
    return Array.from(grid.querySelectorAll("input[type=checkbox]:checked"))
      .map(function (box) { return [box.name, box.value]; });
  }

  function schedule(delay) {
    clearTimeout(timer);
    timer = !document.hidden && page() ? setTimeout(check, delay) : null;
  }

  function check() {
    clearTimeout(timer);
    timer = null;  // a page without a grid stops here; the next grid swapped in starts again
    const root = page();
    if (!root || document.hidden || asking) return;
    if (refreshing || document.querySelector("#dialog dialog[open], .htmx-request")) {
      schedule(EVERY);
      return;
    }
    asking = true;
    const url = root.dataset.liveUrl + "?depuis=" + encodeURIComponent(root.dataset.liveRevision);
    fetch(url, {headers: {"HX-Request": "true"}, cache: "no-store"})
      .then(function (response) {
        if (response.status === 401) window.location.reload();  // signed out: to the login page
        else if (response.status === 200 && page() === root) refresh(root);
      })
      .catch(function () {})  // offline for a moment: the next check asks again
      .finally(function () { asking = false; schedule(EVERY); });
  }

  function refresh(root) {
    const grid = document.getElementById("grid");
    if (!grid) return;
    const params = new URLSearchParams();
    ticked(grid).forEach(function (pair) { params.append(pair[0], pair[1]); });
    params.append("nombre", grid.querySelectorAll("section").length);
    refreshing = {ticked: JSON.stringify(ticked(grid))};
    const url = root.dataset.liveRefresh + "&" + params.toString();
    // From the notice's region: no form, no hx-include, and no focus to take care of there.
    htmx.ajax("GET", url, {source: "#live-notice", target: grid, swap: "outerHTML"})
      .finally(function () { refreshing = null; });
  }

  // Where the focus and the scroll are, to put them back once the rows are replaced.
  function remember(grid) {
    const focused = document.activeElement;
    let focus = null;
    if (focused && grid.contains(focused)) {
      const holder = focused.id ? focused : focused.closest("[id]");
      focus = holder ? {id: holder.id, self: holder === focused, cls: focused.classList[0]} : null;
    }
    const scrollers = Array.from(grid.querySelectorAll("section [class$='__scroll']"))
      .map(function (s) { return [s.closest("section").getAttribute("aria-labelledby"), s.scrollLeft]; });
    return {focus: focus, x: window.scrollX, y: window.scrollY, scrollers: scrollers};
  }

  function restore(state) {
    const grid = document.getElementById("grid");
    if (!grid) return;
    state.scrollers.forEach(function (pair) {
      const section = grid.querySelector("section[aria-labelledby='" + pair[0] + "']");
      const scroller = section && section.querySelector("[class$='__scroll']");
      if (scroller) scroller.scrollLeft = pair[1];
    });
    window.scrollTo(state.x, state.y);
    const focus = state.focus;
    const holder = focus && document.getElementById(focus.id);
    if (!holder) return;
    const control = (focus.self && holder.matches(CONTROLS)) ? holder
      : (focus.cls && holder.querySelector("." + focus.cls + ":enabled")) || holder.querySelector(CONTROLS)
        || (holder.matches(CONTROLS) ? holder : null);
    if (control) control.focus({preventScroll: true});
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    const xhr = event.detail.xhr;
    const revision = xhr && xhr.getResponseHeader("X-Grid-Revision");
    if (revision === null || !refreshing) return;
    const grid = document.getElementById("grid");
    if (!grid || JSON.stringify(ticked(grid)) !== refreshing.ticked
        || document.querySelector("#dialog dialog[open]")) {
      // The agent changed the selection, or opened a dialog, while the answer was on its way:
      // not swapped (a dialog's opener must stay in the page, to get the focus back); the
      // revision stays the old one, so the next check asks again.
      event.detail.shouldSwap = false;
      return;
    }
    kept = remember(grid);
    const root = page();
    if (root) root.dataset.liveRevision = revision;
  });

  // The answer to the agent's own change says the revision it committed: one past the page's
  // when nobody else changed the grids in between, and the answer shows the change already,
  // so the page takes that revision instead of refreshing its rows for its own change.
  document.addEventListener("htmx:afterRequest", function (event) {
    const xhr = event.detail.xhr;
    const committed = xhr && xhr.getResponseHeader("X-Grid-Committed");
    const root = page();
    if (committed === null || !root) return;
    if (Number(root.dataset.liveRevision) + 1 === Number(committed)) {
      root.dataset.liveRevision = committed;
    }
  });

  document.addEventListener("htmx:afterSwap", function () {
    if (!kept) return;
    const state = kept;
    kept = null;
    restore(state);
  });

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) { clearTimeout(timer); timer = null; }  // paused while hidden
    else check();  // back: ask at once
  });
  document.addEventListener("DOMContentLoaded", function () { schedule(EVERY); });
  // A grid page swapped in (filters, week): keep checking.
  document.addEventListener("htmx:afterSettle", function () { if (!timer && !asking) schedule(EVERY); });
})();
