"""Accessibility checks for the e2e tests: axe-core in the page, and the tap-target rule.

axe-core is vendored (e2e/vendor/axe-core-<version>/, from npm's ``axe-core`` package, MPL-2.0):
the tests never download it, and the app does not serve it. The page under audit is opened in a
browser context with ``bypass_csp=True``, so that the app's Content-Security-Policy does not
block the injected script.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

AXE_VERSION = "4.14.1"
AXE = Path(__file__).resolve().parent / "vendor" / f"axe-core-{AXE_VERSION}" / "axe.min.js"
# WCAG 2.0 and 2.1, levels A and AA (what RGAA 4.1 maps to), plus axe's best practices.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING = ("serious", "critical")

_RUN = """async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => n.target.join(' '))}));
}"""


def axe_violations(page) -> list[dict]:
    """Every axe violation on the page as it is now: id, impact, help, targets (selectors)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(_RUN, TAGS)


def blocking(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v["impact"] in BLOCKING]


def describe(violations: list[dict]) -> str:
    """A readable list: one paragraph per rule, the selectors of its nodes below."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}, {len(v['targets'])} node(s)): {v['help']}")
        lines.extend(f"    {target}" for target in v["targets"][:10])
        if len(v["targets"]) > 10:
            lines.append(f"    ... and {len(v['targets']) - 10} more")
    return "\n".join(lines)


def audit(page) -> list[dict]:
    """The serious and critical violations of the page. With A11Y_REPORT=<file>, every
    violation (any impact) is also appended to that file, one JSON line per page."""
    violations = axe_violations(page)
    if os.environ.get("A11Y_REPORT"):
        with open(os.environ["A11Y_REPORT"], "a", encoding="utf-8") as report:
            name = os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]
            report.write(json.dumps({"test": name, "url": page.url,
                                     "violations": violations}) + "\n")
    return blocking(violations)


def assert_no_serious_violation(page) -> None:
    """Fail on any serious or critical axe violation, listing them."""
    found = audit(page)
    assert not found, "axe-core found serious/critical violations:\n" + describe(found)


def small_tap_targets(page, scope: str = "body") -> list[str]:
    """The visible controls in ``scope`` less than 44 CSS pixels high (links inside a sentence
    excepted: WCAG 2.5.8 exempts inline targets; a checkbox or radio counts with its label)."""
    return page.evaluate("""(scope) => {
      // A checkbox or radio button is tapped through its label too (DSFR draws the box in the
      // label, the input itself is transparent): its target is both boxes together.
      const target = e => {
        const r = e.getBoundingClientRect();
        const label = /^(checkbox|radio)$/.test(e.type) && e.labels && e.labels[0];
        if (!label) return r;
        const l = label.getBoundingClientRect();
        const top = Math.min(r.top, l.top), bottom = Math.max(r.bottom, l.bottom);
        return {height: bottom - top, width: Math.max(r.right, l.right) - Math.min(r.left, l.left)};
      };
      return [...document.querySelectorAll(scope)].flatMap(root =>
        [...root.querySelectorAll('button, a[href], input, select, textarea, [role=button]')])
      .filter(e => e.type !== 'hidden' && e.getClientRects().length)
      .filter(e => !(e.tagName === 'A' && getComputedStyle(e).display === 'inline'
                     && e.parentElement.closest('p, li, td, dd')
                     && e.parentElement.textContent.trim() !== e.textContent.trim()))
      .map(e => [e, target(e)])
      .filter(([e, r]) => r.height < 44)
      .map(([e, r]) => `${e.getAttribute('aria-label') || e.textContent.trim()}`
                       + ` ${r.width}x${r.height}`);
    }""", scope)
