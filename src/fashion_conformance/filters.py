"""The search filter grammar (`filter.<field>=[equal:|!equal:]v1,v2,...`): parse, render, evaluate.

Semantics follow erratum E10: `a,b` and `equal:a,b` keep documents whose field is one of the values;
`!equal:a,b` keeps documents whose field is none of them; several clauses are ANDed; an unknown field,
an unknown operator or an empty value is an error (-40000 InvalidParam). The emulator evaluates filters
with this module and the suite uses it as its oracle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

PREFIX = "filter."
OPERATORS = {"equal": False, "!equal": True}


class FilterError(ValueError):
    """A filter parameter that the grammar rejects."""


@dataclass(frozen=True)
class Clause:
    field: str
    negate: bool
    values: tuple[str, ...]

    def matches(self, record: Mapping[str, str]) -> bool:
        return (str(record.get(self.field, "")) in self.values) != self.negate

    def render(self) -> tuple[str, str]:
        """The (query name, query value) pair that expresses this clause."""
        op = "!equal" if self.negate else "equal"
        return PREFIX + self.field, f"{op}:{','.join(self.values)}"


def parse_value(field: str, raw: str) -> Clause:
    op, sep, rest = raw.partition(":")
    if sep and op in OPERATORS:
        negate, body = OPERATORS[op], rest
    elif sep and (op.startswith("!") or op.isalpha()):
        raise FilterError(f"unknown filter operator {op!r} on {field}")
    else:
        negate, body = False, raw
    values = tuple(body.split(","))
    if not body or any(v == "" for v in values):
        raise FilterError(f"empty filter value on {field}")
    return Clause(field, negate, values)


def parse(params: Iterable[tuple[str, str]], fields: Sequence[str]) -> list[Clause]:
    """Clauses from every `filter.*` item of a query (name, value) list; other names are ignored."""
    clauses = []
    for name, raw in params:
        if not name.startswith(PREFIX):
            continue
        field = name[len(PREFIX):]
        if field not in fields:
            raise FilterError(f"unknown filter field {field!r}")
        clauses.append(parse_value(field, raw))
    return clauses


def matches(clauses: Sequence[Clause], record: Mapping[str, str]) -> bool:
    return all(c.matches(record) for c in clauses)
