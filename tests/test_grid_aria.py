"""The two BER grids follow the WAI-ARIA grid pattern (issue 10): each inspector's week is a
`grid` whose `row`s own only cells (`gridcell`, `rowheader`, `columnheader`), and every control
of the grid is inside a cell. Checked on the page and on a chunk (the next inspectors, appended
as they scroll into view), so that appending keeps the structure valid; and the roles cost
bytes per inspector, not per cell (issue 9 measures the grids' weight)."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

from rdvpl import creneaux, dates
from rdvpl.models import Tranche
from rdvpl.planning_grid import GRID_CHUNK
from tests.helpers import AGENT_PASSWORD, department_with

HX = {"HX-Request": "true"}
NEXT_MONDAY = dates.monday_of(dates.today()) + dt.timedelta(weeks=1)
THURSDAY = NEXT_MONDAY + dt.timedelta(days=3)
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
CELLS = {"gridcell", "rowheader", "columnheader"}
GENERIC = {"#root", "div", "span", "b", "i", "strong", "em"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children = tag, dict(attrs), parent, []
        role = self.attrs.get("role") or self._implicit()
        # Generic elements are transparent; any other element counts (its tag as its role).
        transparent = tag in GENERIC if role is None else role in ("none", "presentation")
        self.role = None if transparent else role or tag

    def _implicit(self):
        """The roles a table's elements take inside a table whose role is grid."""
        table = self.parent
        while table is not None and table.tag != "table":
            table = table.parent
        if table is None or table.role != "grid":
            return None
        return {"tr": "row", "thead": "rowgroup", "tbody": "rowgroup", "tfoot": "rowgroup",
                "td": "gridcell", "caption": "caption",
                "th": "rowheader" if self.attrs.get("scope") == "row" else "columnheader",
                }.get(self.tag)

    def owner(self):
        """The nearest ancestor with a role (generic elements are transparent)."""
        up = self.parent
        while up is not None and not up.role:
            up = up.parent
        return up

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


class Tree(HTMLParser):
    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.root = self.current = Node("#root", [], None)
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_endtag(self, tag):
        up = self.current
        while up is not None and up.tag != tag:
            up = up.parent
        if up is not None:
            self.current = up.parent


def grid_errors(page: str) -> tuple[int, list[str]]:
    """How many grids the page has, and every break of the grid pattern's structure."""
    nodes = list(Tree(page).root.walk())
    errors, grids = [], [n for n in nodes if n.role == "grid"]
    for n in nodes:
        owner = n.owner()
        where = f"<{n.tag} {n.attrs}>"
        if n.role in CELLS and (owner is None or owner.role != "row"):
            errors.append(f"{where}: a cell outside a row")
        if n.role == "row":
            grid = owner.owner() if owner is not None and owner.role == "rowgroup" else owner
            if grid is None or grid.role != "grid":
                errors.append(f"{where}: a row outside a grid")
        if owner is not None and owner.role == "row" and n.role not in CELLS:
            errors.append(f"{where}: owned by a row but not a cell")
        if owner is not None and owner.role == "grid" and n.role not in {"row", "rowgroup",
                                                                          "caption"}:
            errors.append(f"{where}: owned by a grid but not a row")
        control = (n.tag == "input" and n.attrs.get("type") == "checkbox") or n.tag == "button"
        if control and any(g in _ancestors(n) for g in grids):
            cell = n.owner()
            while cell is not None and cell.role not in CELLS:
                cell = cell.owner()
            if cell is None:
                errors.append(f"{where}: a grid control outside any cell")
    for grid in grids:
        if not any(n.role == "row" for n in grid.walk()):
            errors.append(f"<{grid.tag} {grid.attrs}>: a grid without rows")
    return len(grids), errors


def _ancestors(node):
    up = node.parent
    while up is not None:
        yield up
        up = up.parent


def sign_in(app, client, n, code, sessions):
    with app.app_context():
        email = department_with(n, code, sessions)
    client.post("/connexion", data={"email": email, "password": AGENT_PASSWORD})


def test_the_planning_grid_and_its_chunks_are_aria_grids(app, client):
    monday = dates.monday_of(dates.today()) + dt.timedelta(weeks=3)
    sign_in(app, client, GRID_CHUNK + 3, "931", [(monday + dt.timedelta(days=1), Tranche.M1)])
    page = client.get("/ber/planification", query_string={"date": dates.ddmmyyyy(monday)})
    body = page.get_data(as_text=True)
    assert grid_errors(body) == (GRID_CHUNK, [])
    assert body.count('role="grid"') == GRID_CHUNK  # one per inspector, none per cell
    chunk = client.get("/ber/planification/grille", headers=HX, query_string={
        "date": dates.ddmmyyyy(monday), "depuis": GRID_CHUNK}).get_data(as_text=True)
    assert "<html" not in chunk
    assert grid_errors(chunk) == (3, [])


def test_the_unit_grid_and_its_chunks_are_aria_grids(app, client):
    sign_in(app, client, creneaux.CHUNK + 2, "932", [(THURSDAY, Tranche.M1)])
    week = {"date": dates.ddmmyyyy(NEXT_MONDAY), "inspecteur": "tous"}
    body = client.get("/ber/creneaux", query_string=week).get_data(as_text=True)
    assert grid_errors(body) == (creneaux.CHUNK, [])
    # One row per inspector, one cell per day: the roles cost nothing per unit.
    assert body.count('role="gridcell"') == creneaux.CHUNK * 6
    chunk = client.get("/ber/creneaux/grille", headers=HX,
                       query_string={**week, "depuis": creneaux.CHUNK}).get_data(as_text=True)
    assert "<html" not in chunk
    assert grid_errors(chunk) == (2, [])


def test_the_checker_sees_a_broken_grid():
    broken = ('<div role="grid"><h3>x</h3><div role="row"><span>t</span>'
              '<div role="gridcell"><button>b</button></div></div><button>c</button></div>')
    count, errors = grid_errors(broken)
    assert count == 1
    assert any("owned by a grid but not a row" in e and "<h3" in e for e in errors)
    assert any("a grid control outside any cell" in e for e in errors)
