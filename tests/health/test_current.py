"""CurrentHealth: each account's latest score, written with the day's scores, read by the CSM pages for today."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from accounts.models import Account
from health.models import CurrentHealth, HealthScore
from health.selectors import (
    health_is_current,
    health_label_expression,
    health_list_label_expression,
    health_list_score_expression,
    health_score_expression,
)
from health.services import current_health_refresh, health_score_all
from tests.factories import AccountFactory
from tests.health.conftest import AS_OF
from tests.health.factories import HealthParameterFactory
from tests.health.helpers import account_with_utilisation

pytestmark = pytest.mark.django_db
DAY = AS_OF.date()


def _current() -> dict[int, tuple]:
    return {c.account_id: (c.date, c.score, c.label) for c in CurrentHealth.objects.all()}


def _latest_rows() -> dict[int, tuple]:
    """Each account's latest HealthScore row, the slow way (the reference)."""
    latest = {}
    for row in HealthScore.objects.order_by("account_id", "date"):
        latest[row.account_id] = (row.date, row.score, row.label)
    return latest


def _score(account, day, score, label):
    return HealthScore.objects.create(account=account, date=day, score=score, label=label)


def test_scoring_writes_each_accounts_current_health(default_config):
    HealthParameterFactory(config=default_config)
    good = account_with_utilisation(licenses=10, active=9)
    poor = account_with_utilisation(licenses=10, active=0)
    unscored = AccountFactory(licenses=None)
    health_score_all(as_of=AS_OF)
    current = _current()
    assert current[good.pk] == (DAY, 100, "good")
    assert current[poor.pk] == (DAY, 0, "poor")
    assert current[unscored.pk] == (DAY, None, "")  # scored, but every parameter missing
    assert current == _latest_rows()


def test_the_next_day_replaces_and_an_older_day_does_not(default_config):
    HealthParameterFactory(config=default_config)
    account = account_with_utilisation(licenses=10, active=9)
    health_score_all(as_of=AS_OF)
    health_score_all(as_of=AS_OF + dt.timedelta(days=1))
    assert _current()[account.pk][0] == DAY + dt.timedelta(days=1)
    health_score_all(as_of=AS_OF - dt.timedelta(days=5))  # a backfill of an earlier day
    assert _current()[account.pk][0] == DAY + dt.timedelta(days=1)
    assert _current() == _latest_rows()


def test_refreshing_a_day_whose_row_was_removed_falls_back_to_the_previous_row():
    account, other = AccountFactory(), AccountFactory()
    _score(account, DAY - dt.timedelta(days=1), 55, "average")
    today = _score(account, DAY, 80, "good")
    _score(other, DAY - dt.timedelta(days=3), 20, "poor")
    assert current_health_refresh() == 2
    assert _current()[account.pk] == (DAY, 80, "good")
    today.delete()
    assert current_health_refresh(day=DAY) == 1  # only the account whose current row was that day's
    assert _current() == {account.pk: (DAY - dt.timedelta(days=1), 55, "average"),
                          other.pk: (DAY - dt.timedelta(days=3), 20, "poor")}


def test_an_account_never_scored_has_no_current_health_and_deleting_it_cascades():
    account, never = AccountFactory(), AccountFactory()
    _score(account, DAY, 80, "good")
    current_health_refresh()
    assert never.pk not in _current()
    account.delete()
    assert not CurrentHealth.objects.exists()


def test_the_pages_metrics_read_current_health_for_today_with_the_engines_values():
    today = timezone.now().date()
    accounts = [AccountFactory() for _ in range(4)]
    _score(accounts[0], today - dt.timedelta(days=2), 30, "poor")
    _score(accounts[0], today, 75, "good")
    _score(accounts[1], today - dt.timedelta(days=9), 50, "average")
    _score(accounts[2], today, None, "")
    current_health_refresh()
    now = timezone.now()
    assert health_is_current(now) and not health_is_current(now - dt.timedelta(days=1))
    rows = Account.objects.annotate(
        page_score=health_list_score_expression(as_of=now), engine_score=health_score_expression(as_of=now),
        page_label=health_list_label_expression(as_of=now), engine_label=health_label_expression(as_of=now),
    ).order_by("pk")
    values = [(r.page_score, r.engine_score, r.page_label or "", r.engine_label or "") for r in rows]
    assert values == [(75, 75, "good", "good"), (50, 50, "average", "average"), (None, None, "", ""),
                      (None, None, "", "")]


def test_the_pages_metrics_read_the_history_for_an_earlier_day():
    today = timezone.now().date()
    account = AccountFactory()
    _score(account, today - dt.timedelta(days=3), 30, "poor")
    _score(account, today, 75, "good")
    current_health_refresh()
    earlier = timezone.now() - dt.timedelta(days=2)
    row = Account.objects.annotate(score=health_list_score_expression(as_of=earlier),
                                   label=health_list_label_expression(as_of=earlier)).get()
    assert (row.score, row.label) == (30, "poor")


def test_accounts_360_filters_and_sorts_on_current_health(client, csm_user):
    today = timezone.now().date()
    poor, good = AccountFactory(name="Poorly Ltd"), AccountFactory(name="Goodly Ltd")
    AccountFactory(name="Neverscored Ltd")
    _score(poor, today - dt.timedelta(days=1), 80, "good")  # yesterday's row no longer counts
    _score(poor, today, 12, "poor")
    _score(good, today, 90, "good")
    current_health_refresh()
    client.force_login(csm_user)
    html = client.get("/accounts/?health_label=poor").content.decode()
    assert "Poorly Ltd" in html and "Goodly Ltd" not in html and "Neverscored Ltd" not in html
    html = client.get("/accounts/?sort=-health").content.decode()
    assert html.index("Goodly Ltd") < html.index("Poorly Ltd") < html.index("Neverscored Ltd")  # unscored last


@pytest.mark.parametrize("descending", [False, True])
def test_sorting_by_health_pages_through_scored_unscored_and_never_scored_accounts(client, csm_user, descending):
    today = timezone.now().date()
    accounts = [AccountFactory(name=f"Acct-{n:03d}") for n in range(34)]
    for n, account in enumerate(accounts[:30]):
        score = None if n % 7 == 0 else (n * 37) % 11 * 10  # ties, and unscored rows
        _score(account, today, score, "" if score is None else "good" if score >= 70 else "poor" if score < 40
               else "average")
    current_health_refresh()  # the last four accounts were created since: no CurrentHealth row
    scores = {a.pk: s for a, s in zip(accounts[:30], CurrentHealth.objects.order_by("account_id").values_list(
        "score", flat=True), strict=True)}

    def key(account):
        score = scores.get(account.pk)
        if descending:
            return (score is None, -(score or 0), -account.pk)
        return (score is None, score or 0, account.pk)

    expected = [a.name for a in sorted(accounts, key=key)]
    client.force_login(csm_user)
    shown = []
    for page in (1, 2):
        html = client.get(f"/accounts/?sort={'-' if descending else ''}health&per_page=25&page={page}").content
        shown += re.findall(r"Acct-\d{3}", html.decode())
    assert list(dict.fromkeys(shown)) == expected


@pytest.mark.parametrize("descending", [False, True])
def test_a_full_page_of_missing_scores_keeps_never_scored_accounts_in_their_place(client, csm_user, descending):
    # Never scored accounts first (lowest ids), then two scored and many with a NULL score: a page of
    # missing values interleaves both kinds by id, as the full ordering does; pages neither repeat nor skip.
    today = timezone.now().date()
    never = [AccountFactory(name=f"Acct-{n:03d}") for n in range(4)]
    scored = [AccountFactory(name=f"Acct-{n:03d}") for n in range(4, 34)]
    for n, account in enumerate(scored):
        score = (50, 90)[n] if n < 2 else None
        _score(account, today, score, "" if score is None else "good" if score >= 70 else "average")
    current_health_refresh()
    ranked = sorted(scored[:2], key=lambda a: a.pk == scored[1].pk, reverse=descending)
    missing = sorted(never + scored[2:], key=lambda a: a.pk, reverse=descending)
    expected = [a.name for a in ranked + missing]

    client.force_login(csm_user)
    shown = []
    for page in (1, 2):
        html = client.get(f"/accounts/?sort={'-' if descending else ''}health&per_page=25&page={page}").content
        shown += re.findall(r"Acct-\d{3}", html.decode())
    assert shown == expected
