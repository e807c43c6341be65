"""Portable SQL for health scores (SQLite and PostgreSQL).

The parameter values come from one ORM query (health.scorecard); the
scores are computed around it in SQL, so that each metric subquery is
written (and evaluated) once per account, and the database does all the
work: no row travels to Python.

SQL text here is built only from fixed fragments and from aliases that we
generate (`p0`, `s0`, parameter ids as integers); every threshold, weight
and cut-off is a query parameter.
"""

from collections.abc import Sequence
from dataclasses import dataclass

# Rounding half up of a double: the scores of real configs are sums of
# products of doubles, so an exact .5 may come out as .4999999999999; the
# epsilon keeps it .5 without moving any other score.
ROUND_EPSILON = 1e-9
DETAIL_DECIMALS = 4
JSON_CHUNK = 40


@dataclass(frozen=True)
class ParameterSQL:
    """What the SQL needs of one parameter: its details key, direction, thresholds and weight."""

    key: int
    higher_is_better: bool
    good: float
    poor: float
    weight: float


def score_select(*, values_sql: str, values_params: Sequence, parameters: Sequence[ParameterSQL],
                 good_cutoff: int, poor_cutoff: int, vendor: str) -> tuple[str, list]:
    """SELECT account_id, score, score_exact, label, details over the values query.

    `values_sql` selects `aid` and one double `p<i>` per parameter (NULL when missing).
    """
    params: list = []
    scores = []
    for index, parameter in enumerate(parameters):
        sql, more = _parameter_score(f"v.p{index}", parameter)
        scores.append(f"v.p{index}, {sql} AS s{index}")
        params += more
    # OFFSET 0 fences the values query: without it both databases inline ("flatten") it
    # and re-run each metric subquery at every reference to its column (measured 20x slower).
    fence = " OFFSET 0" if vendor == "postgresql" else " LIMIT -1 OFFSET 0"
    first = f"SELECT v.aid{''.join(', ' + s for s in scores)} FROM ({values_sql}{fence}) v"  # noqa: S608
    params += list(values_params)
    exact, exact_params = _weighted_average(parameters)
    second = f"SELECT s.*, {exact} AS exact FROM ({first}) s"  # noqa: S608
    threshold = f"w.exact + {0.5 + ROUND_EPSILON!r}"
    label = (f"CASE WHEN w.exact IS NULL THEN '' WHEN {threshold} >= %s THEN 'good' "
             f"WHEN {threshold} < %s THEN 'poor' ELSE 'average' END")
    details = _details(parameters, vendor)
    outer = (
        f"SELECT w.aid AS account_id, {_floor(threshold, vendor)} AS score, w.exact AS score_exact, "  # noqa: S608
        f"{label} AS label, {details} AS details FROM ({second}) w"
    )
    # Parameters in the order their placeholders appear in the text: outer, then inwards.
    return outer, [good_cutoff, poor_cutoff, *exact_params, *params]


def _floor(value: str, vendor: str) -> str:
    """floor() of a non-negative double as an integer (PostgreSQL's CAST rounds; SQLite's truncates)."""
    if vendor == "postgresql":
        return f"CAST(FLOOR({value}) AS INTEGER)"
    return f"CAST({value} AS INTEGER)"


def _parameter_score(value: str, parameter: ParameterSQL) -> tuple[str, list]:
    """100 at or beyond Good, 0 at or beyond Poor, linear in between; NULL when missing."""
    good, poor = float(parameter.good), float(parameter.poor)
    if parameter.higher_is_better:
        sql = (f"CASE WHEN {value} IS NULL THEN NULL WHEN {value} >= %s THEN 100.0 WHEN {value} <= %s THEN 0.0 "
               f"ELSE 100.0 * ({value} - %s) / %s END")
        return sql, [good, poor, poor, good - poor]
    sql = (f"CASE WHEN {value} IS NULL THEN NULL WHEN {value} <= %s THEN 100.0 WHEN {value} >= %s THEN 0.0 "
           f"ELSE 100.0 * (%s - {value}) / %s END")
    return sql, [good, poor, poor, poor - good]


def _weighted_average(parameters: Sequence[ParameterSQL]) -> tuple[str, list]:
    """sum(weight * score) / sum(weight) over the parameters that have a score; NULL when none has."""
    if not parameters:
        return "CAST(NULL AS DOUBLE PRECISION)", []
    total = " + ".join(f"COALESCE(s.s{i} * %s, 0.0)" for i in range(len(parameters)))
    weights = " + ".join(f"CASE WHEN s.s{i} IS NULL THEN 0.0 ELSE %s END" for i in range(len(parameters)))
    values = [float(p.weight) for p in parameters]
    return f"(({total}) / NULLIF({weights}, 0.0))", [*values, *values]


def _details(parameters: Sequence[ParameterSQL], vendor: str) -> str:
    """{"<parameter id>": [value, score], ...} with values and scores rounded to 4 places.

    Functions take at most 100 (PostgreSQL) or 127 (SQLite) arguments: objects of
    JSON_CHUNK pairs are merged, so a config may have any number of parameters.
    """
    postgres = vendor == "postgresql"
    build, array = ("jsonb_build_object", "jsonb_build_array") if postgres else ("json_object", "json_array")
    pairs = []
    for index, parameter in enumerate(parameters):
        key = int(parameter.key)  # an integer id: safe as a literal
        pairs.append(f"'{key}', {array}({_rounded(f'w.p{index}', vendor)}, {_rounded(f'w.s{index}', vendor)})")
    chunks = [f"{build}({', '.join(pairs[i:i + JSON_CHUNK])})" for i in range(0, len(pairs), JSON_CHUNK)]
    if not chunks:
        return f"{build}()"
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = f"({merged} || {chunk})" if postgres else f"json_patch({merged}, {chunk})"
    return merged


def _rounded(column: str, vendor: str) -> str:
    if vendor == "postgresql":
        return f"ROUND(CAST({column} AS NUMERIC), {DETAIL_DECIMALS})"
    return f"ROUND({column}, {DETAIL_DECIMALS})"
