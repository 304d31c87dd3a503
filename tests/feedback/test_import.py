"""The CSV import of contacts: bad rows named and the good ones kept, upserts by email,
encodings, delimiters, quoted fields, whole-file failures, resuming, and 100 000 rows
through the task."""

from __future__ import annotations

import csv
import io
import time

import pytest

from cxplatform.models import AuditEvent
from cxplatform.services import Actor
from feedback.models import Contact, ContactImport, ImportStatus
from feedback.services import imports
from feedback.tasks import contacts as tasks
from tests.feedback.factories import ContactFactory

pytestmark = pytest.mark.django_db


def run_import(org, content: bytes | str, filename: str = "contacts.csv") -> ContactImport:
    if isinstance(content, str):
        content = content.encode()
    contact_import = ContactImport.objects.create(
        organization=org, filename=filename, content=content
    )
    tasks.contact_import_run(contact_import.pk)
    contact_import.refresh_from_db()
    return contact_import


def reasons(contact_import: ContactImport) -> dict[int, str]:
    return {e["row"]: e["reason"] for e in contact_import.errors}


def test_a_clean_file_creates_every_contact_with_its_attributes(org):
    result = run_import(
        org,
        "email,name,company,external_id,locale,time_zone,plan,Customer since\n"
        "Ann@Example.com,Ann Lee,Lee Ltd,crm-1,de_ch,europe/zurich,pro,2021-04-01\n"
        "bob@example.com,Bob,,,,,basic,\n",
    )

    assert result.status == ImportStatus.DONE
    assert (result.total_rows, result.processed_rows) == (2, 2)
    assert (result.created_count, result.updated_count, result.error_count) == (2, 0, 0)
    ann = Contact.objects.get(organization=org, email="ann@example.com")
    assert (ann.name, ann.company, ann.external_id) == ("Ann Lee", "Lee Ltd", "crm-1")
    assert (ann.locale, ann.time_zone) == ("de-CH", "Europe/Zurich")
    assert ann.attributes == {"plan": "pro", "customer_since": "2021-04-01"}
    bob = Contact.objects.get(organization=org, email="bob@example.com")
    assert bob.attributes == {"plan": "basic"}, "an empty cell sets no attribute"


def test_every_bad_row_is_named_with_its_reason_and_the_good_rows_are_kept(org):
    result = run_import(
        org,
        "email,name,locale,time_zone\n"
        "good1@example.com,Good One,en,\n"  # row 2
        ",No Email,,\n"  # row 3
        "not-an-email,Bad Address,,\n"  # row 4
        "GOOD1@example.com,Duplicate,,\n"  # row 5
        "lang@example.com,Bad Locale,english please,\n"  # row 6
        "tz@example.com,Bad Zone,,Mars/Olympus\n"  # row 7
        f"long@example.com,{'x' * 201},,\n"  # row 8
        "good2@example.com,Good Two,fr,Europe/Paris\n",  # row 9
    )

    assert result.status == ImportStatus.DONE
    assert result.created_count == 2
    assert result.error_count == 6
    found = reasons(result)
    assert set(found) == {3, 4, 5, 6, 7, 8}
    assert "Missing email" in found[3]
    assert "Invalid email address “not-an-email”" in found[4]
    assert found[5] == "Duplicate: the same email as row 2, which was kept."
    assert "Unknown locale" in found[6]
    assert "Unknown time zone “Mars/Olympus”" in found[7]
    assert "Name is too long (201 characters, at most 200)" in found[8]
    assert set(Contact.objects.for_org(org).values_list("email", flat=True)) == {
        "good1@example.com",
        "good2@example.com",
    }
    assert {e["email"] for e in result.errors if e["row"] == 4} == {"not-an-email"}


def test_a_long_bad_value_is_quoted_shortened_with_an_ellipsis(org):
    result = run_import(org, "email,locale\nann@example.com,xx-yy-zz-far-too-long-a-locale\n")

    assert "Unknown locale “xx-yy-zz-far-too-lon…” (use" in reasons(result)[2]


def test_a_row_with_more_cells_than_the_header_is_named(org):
    result = run_import(org, "email,name\na@example.com,Ann,extra\nb@example.com,Bob,,\n")

    assert reasons(result) == {
        2: "The row has 3 cells but the header names 2 columns (a stray delimiter, or a "
        "quote not closed?)."
    }
    assert result.created_count == 1, "trailing empty cells are harmless"


def test_a_known_email_is_updated_in_any_letter_case_and_empty_cells_keep_values(org):
    ContactFactory(
        organization=org,
        email="ann@example.com",
        name="Ann",
        company="Old Co",
        attributes={"plan": "basic", "region": "north"},
    )

    result = run_import(org, "email,name,company,plan\nANN@Example.COM,Ann Lee,,pro\n")

    assert (result.created_count, result.updated_count) == (0, 1)
    ann = Contact.objects.get(organization=org)
    assert ann.email == "ann@example.com"
    assert ann.name == "Ann Lee"
    assert ann.company == "Old Co", "an empty cell does not erase"
    assert ann.attributes == {"plan": "pro", "region": "north"}, "attributes are merged"


def test_importing_the_same_file_twice_changes_nothing_the_second_time(org):
    content = "email,name,plan\na@example.com,Ann,pro\nb@example.com,Bob,basic\n"
    run_import(org, content)

    again = run_import(org, content)

    assert (again.created_count, again.updated_count, again.error_count) == (0, 0, 0)
    assert again.processed_rows == 2
    assert Contact.objects.for_org(org).count() == 2


def test_the_import_touches_only_its_own_organization(org, other_org):
    ContactFactory(organization=other_org, email="ann@example.com", name="Theirs")

    result = run_import(org, "email,name\nann@example.com,Ours\n")

    assert result.created_count == 1
    assert Contact.objects.get(organization=other_org).name == "Theirs"
    assert Contact.objects.get(organization=org).name == "Ours"


@pytest.mark.parametrize(
    ("encoding", "label"),
    [
        ("utf-8", "UTF-8"),
        ("utf-8-sig", "UTF-8 with BOM"),
        ("utf-16", "UTF-16 with BOM"),
        ("utf-16-le", "UTF-16 LE without BOM"),
        ("cp1252", "Windows-1252"),
        ("latin-1", "Latin-1"),
    ],
)
def test_files_in_common_encodings_keep_their_accents(org, encoding, label):
    text = "email;name;company\r\nzoe@example.com;Zoë Müller;Café Crème\r\n"
    if encoding == "latin-1":
        text = "email;name;company\r\nzoe@example.com;Zoë Müller;Ménage\r\n"

    result = run_import(org, text.encode(encoding))

    assert result.status == ImportStatus.DONE, result.failure
    assert result.created_count == 1, label
    zoe = Contact.objects.get(organization=org)
    assert zoe.name == "Zoë Müller"
    assert zoe.company in {"Café Crème", "Ménage"}


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_read_from_the_header(org, delimiter):
    text = delimiter.join(["email", "name", "city"]) + "\n"
    text += delimiter.join(["a@example.com", "Ann", "Berlin"]) + "\n"

    result = run_import(org, text)

    assert result.created_count == 1
    assert Contact.objects.get(organization=org).attributes == {"city": "Berlin"}


def test_quoted_fields_may_hold_delimiters_quotes_and_line_breaks(org):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "name", "company", "note"])
    writer.writerow(["a@example.com", 'Ann "Nan" Lee', "Lee, Sons & Co", "line one\nline two"])
    writer.writerow(["bad", "Bob", "", ""])
    writer.writerow(["c@example.com", "Cy", "", ""])

    result = run_import(org, out.getvalue())

    ann = Contact.objects.get(organization=org, email="a@example.com")
    assert ann.name == 'Ann "Nan" Lee'
    assert ann.company == "Lee, Sons & Co"
    assert ann.attributes == {"note": "line one\nline two"}
    assert reasons(result).keys() == {3}, "a quoted line break stays in its row"


def test_blank_lines_are_skipped_and_row_numbers_match_the_spreadsheet(org):
    result = run_import(org, "email,name\n\na@example.com,Ann\n,,\nbad-email,Bob\n")

    assert result.total_rows == 2
    assert reasons(result).keys() == {5}


def test_nul_characters_are_dropped_rather_than_stored(org):
    result = run_import(org, b"email,name\nann@exam\x00ple.com,A\x00nn\n")

    assert result.created_count == 1
    assert Contact.objects.get(organization=org).name == "Ann"


def test_first_and_last_name_columns_make_the_name(org):
    run_import(org, "E-mail,First name,Last name\na@example.com,Ann,Lee\n")

    assert Contact.objects.get(organization=org).name == "Ann Lee"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"name,company\nAnn,Lee Ltd\n", "no email column"),
        (b"email,name,Email\na@example.com,Ann,b@example.com\n", "Two columns are read as email"),
        (b"email,plan,Plan\na@example.com,pro,basic\n", "Two columns have the same name"),
        (b"PK\x03\x04\x14\x00\x06\x00binary", "Excel workbook"),
        (b"\x00\x01\x02" * 100, "not a text file"),
        (b"   \n\n", "empty"),
        (b"\n\nemail\na@example.com\n", "first row is empty"),
    ],
)
def test_a_file_that_cannot_be_read_fails_as_a_whole_with_a_clear_message(org, content, message):
    result = run_import(org, content)

    assert result.status == ImportStatus.FAILED
    assert message in result.failure
    assert Contact.objects.for_org(org).count() == 0
    assert AuditEvent.objects.filter(action="contact_import.failed").exists()


def test_only_the_first_thousand_bad_rows_are_kept_but_all_are_counted(org):
    lines = ["email"] + [f"bad-{i}" for i in range(1500)] + ["ok@example.com"]

    result = run_import(org, "\n".join(lines))

    assert result.error_count == 1500
    assert len(result.errors) == imports.MAX_STORED_ERRORS
    assert result.errors[0]["row"] == 2
    assert result.created_count == 1


def test_the_bad_rows_download_can_be_fixed_and_uploaded_again(org):
    result = run_import(org, "email,name,plan\nok@example.com,Ok,pro\nnope,Bad,basic\n")

    download = imports.bad_rows_csv(result)

    rows = list(csv.reader(io.StringIO(download)))
    assert rows == [
        ["import_row", "import_error", "email", "name", "plan"],
        ["3", "Invalid email address “nope”.", "nope", "Bad", "basic"],
    ]
    fixed = download.replace("nope,", "fixed@example.com,")
    again = run_import(org, fixed)
    assert again.created_count == 1
    fixed_contact = Contact.objects.get(organization=org, email="fixed@example.com")
    assert fixed_contact.attributes == {"plan": "basic"}, "import_row/import_error are ignored"


def test_a_finished_import_run_again_changes_nothing(org):
    result = run_import(org, "email\na@example.com\n")

    tasks.contact_import_run(result.pk)

    result.refresh_from_db()
    assert (result.status, result.created_count, result.processed_rows) == ("done", 1, 1)


def test_an_interrupted_import_resumes_after_its_last_committed_batch(org, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_SIZE", 2)
    content = "email\n" + "".join(f"c{i}@example.com\n" for i in range(5)) + "c0@example.com\n"
    contact_import = ContactImport.objects.create(
        organization=org, filename="x.csv", content=content.encode()
    )
    calls = {"n": 0}
    real_upsert = imports._upsert

    def crash_on_second_batch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        return real_upsert(*args, **kwargs)

    monkeypatch.setattr(imports, "_upsert", crash_on_second_batch)
    with pytest.raises(RuntimeError):
        tasks.contact_import_run(contact_import.pk)
    contact_import.refresh_from_db()
    assert (contact_import.status, contact_import.processed_rows) == ("running", 2)

    monkeypatch.setattr(imports, "_upsert", real_upsert)
    tasks.contact_import_run(contact_import.pk)

    contact_import.refresh_from_db()
    assert contact_import.status == ImportStatus.DONE
    assert (contact_import.created_count, contact_import.error_count) == (5, 1)
    assert "same email as row 2" in contact_import.errors[0]["reason"], (
        "duplicates are found across the resume"
    )
    assert Contact.objects.for_org(org).count() == 5


def test_stalled_imports_are_found_by_the_sweep(org):
    from datetime import timedelta

    from django.utils import timezone

    waiting = ContactImport.objects.create(organization=org, filename="a.csv", content=b"email\n")
    fresh = ContactImport.objects.create(organization=org, filename="b.csv", content=b"email\n")
    ContactImport.objects.filter(pk=waiting.pk).update(
        created_at=timezone.now() - timedelta(minutes=10)
    )

    assert imports.imports_stalled() == [waiting.pk]
    tasks.contact_import_sweep()

    waiting.refresh_from_db()
    assert waiting.status == ImportStatus.DONE
    fresh.refresh_from_db()
    assert fresh.status == ImportStatus.PENDING


def test_uploading_stores_the_file_audits_and_queues_the_import(
    org, admin_user_, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        contact_import = imports.import_create(
            org=org,
            actor=Actor(user=admin_user_),
            filename="people.csv",
            content=b"email\na@example.com\n",
        )

    assert len(callbacks) == 1, "queued after commit"
    contact_import.refresh_from_db()
    assert contact_import.status == ImportStatus.DONE, "eager Celery ran it after commit"
    assert contact_import.created_by == admin_user_
    assert AuditEvent.objects.filter(
        action="contact_import.finished", actor_user=admin_user_
    ).exists()


def test_one_hundred_thousand_rows_go_through_the_task_in_bounded_time(org):
    ContactFactory(organization=org, email="row50000@example.com", name="Before")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "name", "company", "locale", "plan", "region"])
    for i in range(100_000):
        email = "not an email" if i % 10_000 == 9_999 else f"row{i}@example.com"
        writer.writerow([email, f"Person {i}", f"Company {i % 700}", "de", "pro", "EU"])
    contact_import = ContactImport.objects.create(
        organization=org, filename="big.csv", content=out.getvalue().encode()
    )

    started = time.monotonic()
    tasks.contact_import_run(contact_import.pk)
    elapsed = time.monotonic() - started

    contact_import.refresh_from_db()
    assert contact_import.status == ImportStatus.DONE
    assert contact_import.total_rows == contact_import.processed_rows == 100_000
    assert contact_import.created_count == 100_000 - 10 - 1
    assert contact_import.updated_count == 1
    assert contact_import.error_count == 10
    assert contact_import.errors[0] == {
        "row": 10_001,
        "email": "not an email",
        "reason": "Invalid email address “not an email”.",
    }
    assert Contact.objects.for_org(org).count() == 100_000 - 10
    assert Contact.objects.get(organization=org, email="row50000@example.com").name == (
        "Person 50000"
    )
    assert elapsed < 60, f"100 000 rows took {elapsed:.1f}s"


def test_the_embedded_demo_imports_in_a_thread_so_the_upload_returns_at_once(
    org, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.CX_IMPORT_IN_THREAD = True
    started = []

    class FakeThread:
        def __init__(self, *, target, args, name, daemon):
            started.append((name, daemon))
            self.run = lambda: target(*args)

        def start(self):
            self.run()

    monkeypatch.setattr(imports.threading, "Thread", FakeThread)
    monkeypatch.setattr(imports.connection, "close", lambda: None)  # the test's connection

    with django_capture_on_commit_callbacks(execute=True):
        contact_import = imports.import_create(
            org=org, actor=Actor(), filename="a.csv", content=b"email\na@example.com\n"
        )

    contact_import.refresh_from_db()
    assert started == [(f"import-{contact_import.pk}", True)]
    assert contact_import.status == ImportStatus.DONE
