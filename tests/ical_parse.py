"""A small RFC 5545 reader written for the tests, independent of the ``icalendar`` package the
app writes with: unfolds lines, splits names, parameters (quoted or not) and values, nests
components, unescapes TEXT, and turns DATE-TIME values into aware datetimes (TZID through the
tz database, "Z" as UTC)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo


@dataclass
class Prop:
    name: str
    params: dict[str, str]
    value: str

    @property
    def text(self) -> str:
        """The value as TEXT (RFC 5545 3.3.11 escapes undone)."""
        out, chars = [], iter(self.value)
        for c in chars:
            if c == "\\":
                nxt = next(chars, "")
                out.append("\n" if nxt in "nN" else nxt)
            else:
                out.append(c)
        return "".join(out)

    @property
    def moment(self) -> dt.datetime:
        """A DATE-TIME value, aware."""
        if self.value.endswith("Z"):
            return dt.datetime.strptime(self.value, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
        local = dt.datetime.strptime(self.value, "%Y%m%dT%H%M%S")
        assert "TZID" in self.params, f"floating time: {self}"
        return local.replace(tzinfo=ZoneInfo(self.params["TZID"]))


@dataclass
class Component:
    name: str
    props: list[Prop] = field(default_factory=list)
    children: list[Component] = field(default_factory=list)

    def all(self, name: str) -> list[Prop]:
        return [p for p in self.props if p.name == name]

    def one(self, name: str) -> Prop:
        [prop] = self.all(name)
        return prop

    def __getitem__(self, name: str) -> str:
        return self.one(name).value

    def sub(self, name: str) -> list[Component]:
        return [c for c in self.children if c.name == name]


def unfold(text: str) -> list[str]:
    """Content lines: CRLF-separated, a line starting with a space or tab continues the last."""
    assert "\r\n" in text, "RFC 5545 lines end with CRLF"
    lines: list[str] = []
    for raw in text.split("\r\n"):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += raw[1:]
        elif raw:
            lines.append(raw)
    return lines


def _split_line(line: str) -> Prop:
    # name *(";" param) ":" value; a parameter value may be quoted and hold ":" or ";".
    i, quoted, parts, start = 0, False, [], 0
    while i < len(line):
        c = line[i]
        if c == '"':
            quoted = not quoted
        elif not quoted and c in ";:":
            parts.append(line[start:i])
            start = i + 1
            if c == ":":
                break
        i += 1
    value = line[start:]
    name, *raw_params = parts
    params = {}
    for raw in raw_params:
        key, _, val = raw.partition("=")
        params[key.upper()] = val.strip('"')
    return Prop(name.upper(), params, value)


def parse(text: str) -> list[Component]:
    """Every top-level component (VCALENDAR) of an iCalendar stream."""
    roots: list[Component] = []
    stack: list[Component] = []
    for line in unfold(text):
        prop = _split_line(line)
        if prop.name == "BEGIN":
            comp = Component(prop.value.upper())
            (stack[-1].children if stack else roots).append(comp)
            stack.append(comp)
        elif prop.name == "END":
            assert stack and stack[-1].name == prop.value.upper(), f"unbalanced END {line}"
            stack.pop()
        else:
            assert stack, f"property outside a component: {line}"
            stack[-1].props.append(prop)
    assert not stack, "unterminated component"
    return roots


def events(text: str) -> tuple[Component, list[Component]]:
    """The one VCALENDAR of ``text`` and its VEVENTs."""
    [calendar] = parse(text)
    assert calendar.name == "VCALENDAR"
    return calendar, calendar.sub("VEVENT")
