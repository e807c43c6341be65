"""import_csv on bad input: exit status 1, every bad row named by line and column, nothing written."""

import functools
from decimal import Decimal

import pytest

from accounts.csvio import engine
from accounts.models import Account, Event
from tests.accounts.test_csv_support import import_file, table_counts
from tests.factories import AccountFactory, CustomAttributeFactory, EndUserFactory, StaffFactory

pytestmark = pytest.mark.django_db

ACCOUNTS = "external_id,name,mrr\n"


@pytest.fixture
def run_import(tmp_path):
    return functools.partial(import_file, tmp_path)


@pytest.fixture
def refuses(run_import):
    """refuses(entity, data, *messages): the import fails, says each message, and changes no table."""

    def check(entity: str, data: str | bytes, *messages: str):
        before = table_counts()
        outcome = run_import(entity, data)
        assert outcome.status == 1, outcome.out
        assert "Traceback" not in outcome.err
        for message in messages:
            assert message in outcome.err, outcome.err
        assert "nothing written" in outcome.err
        assert table_counts() == before
        return outcome

    return check


def test_the_spec_examples_word_for_word(refuses):
    AccountFactory(external_id="A-1")
    data = "external_id,account,start_date\n" + "".join(f"S-{n},A-1,\n" for n in range(2, 17))
    data += "S-17,A-1,2026-13-01\n" + "".join(f"S-{n},A-1,\n" for n in range(18, 40)) + "S-40,A-999,\n"
    outcome = refuses("subscriptions", data.replace("start_date", "end_date").replace(",A-1,\n", ",A-1,\n"))
    assert outcome.errors == [
        'line 17, column end_date: "2026-13-01" is not a date (YYYY-MM-DD)',
        'line 40, column account: no account with external_id "A-999"',
    ]


def test_a_key_twice_in_one_file_names_the_later_line(refuses):
    outcome = refuses("accounts", "external_id,name\nA-1,x\nA-1,y\n")
    assert outcome.errors == ['line 3: external_id "A-1" appears twice in this file']


def test_one_bad_row_and_nothing_is_written(refuses):
    AccountFactory(external_id="A-1", name="Before")
    refuses("accounts", ACCOUNTS + "A-1,After,1\nA-2,New,2\nA-3,Bad,-5\n", 'line 4, column mrr: "-5" is negative')
    assert Account.objects.get(external_id="A-1").name == "Before"


def test_a_bad_row_after_batches_already_written_rolls_them_back(refuses, monkeypatch):
    monkeypatch.setattr(engine, "BATCH_ROWS", 3)
    rows = "".join(f"A-{n},Name {n},1\n" for n in range(10))
    refuses("accounts", ACCOUNTS + rows + "A-99,Bad,1.001\n", "line 12, column mrr")


def test_every_bad_row_is_listed(refuses):
    outcome = refuses("accounts", ACCOUNTS + "A-1,,1\nA-2,ok,x\nA-3,ok,1\nA-4,ok,-1\n")
    where = [e.split(":")[0] for e in outcome.errors]
    assert where == ["line 2, column name", "line 3, column mrr", "line 5, column mrr"]
    assert "3 rejected" in outcome.err


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("1.000", '"1.000" has more than 2 decimal places'),
        ("-0.5", '"-0.5" is negative'),
        ("1e3", '"1e3" is not a number'),
        ("ten", '"ten" is not a number'),
    ],
)
def test_bad_money(refuses, cell, message):
    refuses("accounts", ACCOUNTS + f"A-1,Acme,{cell}\n", f"line 2, column mrr: {message}")


def test_non_utf8_bytes(refuses):
    data = ACCOUNTS.encode() + b"A-1,Caf\xe9,1\n"
    outcome = refuses("accounts", data, "line 2, column name: is not UTF-8 (byte 0xE9)")
    assert len(outcome.errors) == 1


def test_a_nul_character(refuses):
    refuses("accounts", ACCOUNTS + "A-1,A\x00B,1\n", "line 2, column name: contains a NUL character")


def test_an_unterminated_quote(refuses):
    refuses("accounts", ACCOUNTS + 'A-1,ok,1\nA-2,"open,1\nA-3,x,1\n', "line 3: malformed CSV")


def test_text_after_a_closing_quote(refuses):
    refuses("accounts", ACCOUNTS + 'A-1,"Acme"Inc,1\n', "line 2: malformed CSV")


@pytest.mark.parametrize("data", [b"", b"\n\n  \n", b"\xef\xbb\xbf"])
def test_a_file_without_header_is_an_error(refuses, data):
    refuses("accounts", data, "the file is empty")


def test_rows_with_more_or_fewer_cells_than_the_header(refuses):
    outcome = refuses("accounts", ACCOUNTS + "A-1,x,1,extra\nA-2,y\n")
    assert outcome.errors == [
        "line 2: 4 cells, but the header has 3 columns",
        "line 3: 2 cells, but the header has 3 columns",
    ]


def test_unknown_and_duplicate_and_missing_columns(refuses):
    outcome = refuses("accounts", "name,NAME,colour,custom.nps,\nx,y,z,1,\n")
    assert outcome.errors == [
        "line 1, column name: appears twice in the header (column names ignore case)",
        "line 1, column colour: unknown column (the columns of accounts are external_id, name, domain, industry, "
        "region, lifecycle_stage, plan, licenses, employees, mrr, potential_arr, renewal_date, customer_since, csm, "
        "referenceable, use_case, custom.<key>)",
        'line 1, column custom.nps: no custom attribute "nps"',
        "line 1: column 5 has no name",
        "line 1: missing required column external_id",
    ]


def test_custom_columns_are_unknown_for_other_entities(refuses):
    CustomAttributeFactory(key="nps", type="number")
    refuses("users", "external_id,custom.nps\nU-1,1\n", "line 1, column custom.nps: unknown column")


def test_unknown_choices_and_booleans(refuses):
    outcome = refuses("accounts", "external_id,name,plan,referenceable\nA-1,x,gold,maybe\n")
    assert outcome.errors == [
        'line 2, column plan: "gold" is not one of starter, business, enterprise',
        'line 2, column referenceable: "maybe" is not a boolean (true/false, yes/no, 1/0)',
    ]


def test_unknown_staff_username_and_usernames_are_exact(refuses):
    StaffFactory(username="jane")
    message = 'line 2, column csm: no staff member with username "Jane"'
    refuses("accounts", "external_id,name,csm\nA-1,x,Jane\n", message)


def test_custom_values_are_checked_against_their_definition(refuses):
    CustomAttributeFactory(key="nps", type="number")
    CustomAttributeFactory(key="tier", type="choice", choices=["gold"])
    CustomAttributeFactory(key="kickoff", type="date")
    data = "external_id,name,custom.nps,custom.tier,custom.kickoff\nA-1,x,1e2,silver,2026-02-30\n"
    outcome = refuses("accounts", data)
    assert outcome.errors == [
        'line 2, column custom.nps: "1e2" is not a number',
        'line 2, column custom.tier: "silver" is not one of gold',
        'line 2, column custom.kickoff: "2026-02-30" is not a date (YYYY-MM-DD)',
    ]


def test_required_cells(refuses):
    AccountFactory(external_id="A-1")
    outcome = refuses("accounts", "external_id,name\nA-1,\nA-2,\n,x\n")
    assert outcome.errors == [
        "line 2, column name: is required and cannot be emptied",
        "line 3, column name: is required to create a new account",
        "line 4, column external_id: is empty; every row needs one",
    ]


def test_a_new_row_needs_its_required_columns_even_when_the_file_has_none(refuses):
    refuses(
        "touchpoints", "external_id,account\nT-1,\n", "line 2, column account: is required to create a new touchpoint",
        "line 2, column kind: is required", "line 2, column occurred_at: is required",
    )


def test_events_without_keys_need_their_required_columns_in_the_header(refuses):
    refuses("events", "account,name\nA-1,login\n", "line 1: missing required column occurred_at")


def test_event_rules(refuses):
    first, other = AccountFactory(external_id="A-1"), AccountFactory(external_id="A-2")
    EndUserFactory(external_id="U-2", account=other)
    outcome = refuses(
        "events",
        "account,user,name,occurred_at,quantity\n"
        "A-1,U-2,login,2026-03-01T09:00:00Z,1\n"
        "A-1,,login,2026-03-01T09:00:00Z,0\n"
        "A-1,,login,2026-03-01T09:00:00Z,1.5\n"
        "A-1,U-9,login,2026-03-01,1\n",
    )
    assert outcome.errors == [
        'line 2, column user: user "U-2" does not belong to account "A-1"',
        'line 3, column quantity: "0" is less than 1',
        'line 4, column quantity: "1.5" is not a whole number',
        'line 5, column occurred_at: "2026-03-01" is not a date and time (ISO 8601, e.g. 2026-03-01T09:30:00Z)',
        'line 5, column user: no user with external_id "U-9"',
    ]
    assert first.events.count() == 0


def test_event_names_must_fit(refuses):
    AccountFactory(external_id="A-1")
    refuses("events", f"account,name,occurred_at\nA-1,{'x' * 101},2026-03-01T09:00:00Z\n",
            "line 2, column name:", "is longer than 100 characters")


def test_a_text_longer_than_its_field(refuses):
    refuses("accounts", ACCOUNTS + f"{'A' * 101},x,1\n", "line 2, column external_id:", "is longer than 100 characters")


def test_custom_attribute_definitions_are_validated(refuses):
    outcome = refuses("custom_attributes", "key,type,choices\nNPS,number,\ntier,choice,\nnps,number,a|b\nx,colour,\n")
    assert outcome.errors == [
        'line 2, column key: "NPS" is not a key (lower-case letters, digits and _, starting with a letter)',
        "line 3, column choices: a choice attribute needs at least one choice",
        "line 4, column choices: only choice attributes have choices",
        'line 5, column type: "colour" is not one of text, number, date, boolean, choice',
    ]


def test_custom_attribute_choices_must_be_distinct_and_not_empty(refuses):
    outcome = refuses("custom_attributes", "key,type,choices\na,choice,x||y\nb,choice,Gold|gold\n")
    assert outcome.errors == [
        'line 2, column choices: "x||y" has an empty choice',
        'line 3, column choices: "Gold|gold" names "gold" twice',
    ]


def test_staff_rows_are_validated(refuses):
    outcome = refuses("staff", "username,email,role\nann smith,a@x.test,ops\nbob,not-an-email,boss\n")
    assert outcome.errors == [
        'line 2, column username: "ann smith" is not a valid username (letters, digits and @.+-_)',
        'line 3, column email: "not-an-email" is not an email address',
        'line 3, column role: "boss" is not one of ops, csm, viewer',
    ]


def test_a_dry_run_reports_exactly_what_the_real_run_does_and_writes_nothing(run_import):
    AccountFactory(external_id="A-1", name="Old", mrr=Decimal("1"))
    AccountFactory(external_id="A-2", name="Same", mrr=Decimal("2"))
    data = ACCOUNTS + "A-1,New,1\nA-2,Same,2.00\nA-3,Third,3\n"
    dry = run_import("accounts", data, dry_run=True)
    assert dry.status == 0
    assert "dry run, nothing written: 1 created, 1 updated, 1 unchanged, 0 rejected" in dry.out
    assert Account.objects.get(external_id="A-1").name == "Old" and Account.objects.count() == 2
    real = run_import("accounts", data)
    assert "accounts: 1 created, 1 updated, 1 unchanged, 0 rejected" in real.out


def test_a_dry_run_of_a_bad_file_fails_the_same_way(run_import):
    outcome = run_import("events", "account,name,occurred_at\nA-404,login,2026-03-01T09:00:00Z\n", dry_run=True)
    assert outcome.status == 1
    assert outcome.errors == ['line 2, column account: no account with external_id "A-404"']
    assert Event.objects.count() == 0


def test_an_unreadable_file_is_a_clear_error(tmp_path):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_csv", "accounts", str(tmp_path / "missing.csv"))
