"""CSV import of contacts: upload, then a Celery task upserts by email in bounded batches.

The contract:
- Every bad row is named (its row number as a spreadsheet shows it: the header is row 1)
  with the reason; the good rows are kept. Only a file that cannot be read at all (no
  email column, not a CSV…) fails as a whole, with a message saying why.
- Rows are upserted by email (case-insensitive): a new address makes a contact, a known
  one is updated. An empty cell leaves the existing value alone. Columns other than the
  known ones (email, name, company, external_id, locale, time_zone; a few common aliases)
  become attributes, merged into the contact's existing attributes.
- Each batch (``BATCH_SIZE`` rows) is one transaction that also advances the import's
  counters, so the progress shown is always what is committed, and a run that dies
  resumes after the last committed batch. Two runs of the same import cannot both
  advance it: each batch is guarded by the row count it started from.
- Encodings: UTF-8 (with or without BOM), UTF-16/32 (BOM), else Windows-1252, else
  Latin-1. Delimiters: comma, semicolon, tab or pipe, read from the header line. Quoted
  fields may hold delimiters, quotes and line breaks.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from cxplatform import queue
from cxplatform.models import Organization
from cxplatform.services import SYSTEM, Actor, audit
from feedback.models import Contact, ContactImport, ImportStatus
from feedback.services import contacts as contact_rules

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
MAX_STORED_ERRORS = 1000
MAX_FILE_BYTES = getattr(settings, "CX_IMPORT_MAX_BYTES", 50 * 1024 * 1024)
MAX_ATTRIBUTE_COLUMNS = contact_rules.MAX_ATTRIBUTES
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}

# Normalised header → the contact field it fills.
HEADER_ALIASES: dict[str, str] = {
    "email": "email",
    "e_mail": "email",
    "email_address": "email",
    "e_mail_address": "email",
    "mail": "email",
    "name": "name",
    "full_name": "name",
    "contact_name": "name",
    "customer_name": "name",
    "first_name": "first_name",
    "firstname": "first_name",
    "given_name": "first_name",
    "last_name": "last_name",
    "lastname": "last_name",
    "surname": "last_name",
    "family_name": "last_name",
    "company": "company",
    "company_name": "company",
    "organization": "company",
    "organisation": "company",
    "external_id": "external_id",
    "externalid": "external_id",
    "customer_id": "external_id",
    "locale": "locale",
    "language": "locale",
    "lang": "locale",
    "time_zone": "time_zone",
    "timezone": "time_zone",
    "tz": "time_zone",
    # The first two columns of the bad-rows download, so a fixed file uploads as it is.
    "import_row": "",
    "import_error": "",
}
PROFILE_UPDATE_FIELDS = ["name", "company", "external_id", "locale", "time_zone"]


class ImportFileError(Exception):
    """The whole file cannot be imported; the message says why, for the person."""


class RowError(Exception):
    """One row is bad; the message is the reason shown beside its row number."""


# --- Reading the file -------------------------------------------------------------------


def decode(content: bytes) -> tuple[str, str]:
    """The text of the file and the name of the encoding it was read with. NUL characters
    are dropped: no contact field may hold one (PostgreSQL refuses them in text)."""
    text, encoding = _decode(content)
    return text.replace("\x00", ""), encoding


def _decode(content: bytes) -> tuple[str, str]:
    if content.startswith(codecs.BOM_UTF8):
        return content[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), "UTF-8"
    if content.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return content.decode("utf-32", errors="replace"), "UTF-32"
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return content.decode("utf-16", errors="replace"), "UTF-16"
    head = content[:4096]
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise ImportFileError(
            "This looks like an Excel workbook, not a CSV file. In Excel or Numbers use "
            "“Save as… CSV” and upload that file."
        )
    zeros = head.count(0)
    if zeros > max(4, len(head) // 100):
        # UTF-16 without a BOM: text in Latin script has a zero in every other byte, on
        # the same side. Many zeros anywhere else mean a binary file (a stray one or two
        # in a text file are dropped with the other NULs).
        even_zeros, odd_zeros = head[0::2].count(0), head[1::2].count(0)
        half = len(head) // 2 or 1
        if max(even_zeros, odd_zeros) > 0.4 * half and min(even_zeros, odd_zeros) < 0.05 * half:
            encoding = "utf-16-be" if even_zeros > odd_zeros else "utf-16-le"
            return content.decode(encoding, errors="replace"), "UTF-16"
        raise ImportFileError("This is not a text file. Upload a CSV file.")
    try:
        return content.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        return content.decode("latin-1"), "ISO-8859-1"


def sniff_delimiter(text: str) -> str:
    """The delimiter used in the header line (comma if none is found)."""
    header_line = text.lstrip("\r\n").split("\n", 1)[0]
    counts = {d: _count_outside_quotes(header_line, d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _count_outside_quotes(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            count += 1
    return count


@dataclass
class Layout:
    """Which column holds what, read from the header row."""

    header: list[str]
    fields: dict[str, int] = field(default_factory=dict)  # contact field -> column index
    attributes: list[tuple[int, str]] = field(default_factory=list)  # (column, key)

    @property
    def width(self) -> int:
        return len(self.header)


def read_layout(header: list[str]) -> Layout:
    layout = Layout(header=[h.strip() for h in header])
    seen: dict[str, str] = {}
    for index, raw in enumerate(layout.header):
        key = contact_rules.attribute_key(raw)
        if not key:
            continue  # an unnamed column is ignored
        target = HEADER_ALIASES.get(key)
        if target == "":
            continue
        if target is not None:
            if target in layout.fields:
                first = layout.header[layout.fields[target]]
                raise ImportFileError(
                    f"Two columns are read as {target.replace('_', ' ')}: “{first}” and “{raw}”. "
                    "Remove or rename one of them."
                )
            layout.fields[target] = index
            continue
        if key in seen:
            raise ImportFileError(
                f"Two columns have the same name: “{seen[key]}” and “{raw}”. Rename one of them."
            )
        seen[key] = raw
        layout.attributes.append((index, key))
    if "email" not in layout.fields:
        found = ", ".join(f"“{h}”" for h in layout.header if h) or "nothing"
        raise ImportFileError(
            "The file has no email column. Its first row must name the columns, one of them "
            f"“email”. The first row has: {found[:300]}."
        )
    if "name" in layout.fields:
        # A name column wins; first/last name columns are then kept as attributes.
        for part in ("first_name", "last_name"):
            if part in layout.fields:
                layout.attributes.append((layout.fields.pop(part), part))
    if len(layout.attributes) > MAX_ATTRIBUTE_COLUMNS:
        raise ImportFileError(
            f"The file has {len(layout.attributes)} extra columns; at most "
            f"{MAX_ATTRIBUTE_COLUMNS} can become attributes."
        )
    return layout


@dataclass
class ParsedFile:
    text: str
    encoding: str
    delimiter: str
    layout: Layout

    def records(self) -> Iterator[tuple[int, list[str]]]:
        """(row number, cells) of each non-blank data row; the header is row 1."""
        reader = csv.reader(io.StringIO(self.text, newline=""), delimiter=self.delimiter)
        row_number = 0
        try:
            for row_number, cells in enumerate(reader, start=1):
                if row_number == 1 or not any(c.strip() for c in cells):
                    continue
                yield row_number, cells
        except csv.Error as exc:
            raise ImportFileError(f"Row {row_number + 1} could not be read: {exc}.") from None

    @property
    def delimiter_name(self) -> str:
        return DELIMITERS.get(self.delimiter, repr(self.delimiter))


def parse(content: bytes) -> ParsedFile:
    """Decode the file and read its header. Raises ImportFileError."""
    if not content or not content.strip():
        raise ImportFileError("The file is empty.")
    text, encoding = decode(content)
    delimiter = sniff_delimiter(text)
    csv.field_size_limit(1024 * 1024)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                header = cells
                break
            raise ImportFileError(
                "The first row is empty: it must name the columns (email, name, …)."
            )
    except csv.Error as exc:
        raise ImportFileError(f"The first row could not be read: {exc}.") from None
    if header is None:
        raise ImportFileError("The file is empty.")
    return ParsedFile(text=text, encoding=encoding, delimiter=delimiter, layout=read_layout(header))


def check_row(cells: list[str], layout: Layout) -> dict[str, Any]:
    """The contact data of one row (only its non-empty cells). Raises RowError."""
    if len(cells) > layout.width and any(c.strip() for c in cells[layout.width :]):
        raise RowError(
            f"The row has {len(cells)} cells but the header names {layout.width} columns "
            "(a stray delimiter, or a quote not closed?)."
        )

    def cell(index: int) -> str:
        return cells[index].strip() if index < len(cells) else ""

    data: dict[str, Any] = {}
    for name, index in layout.fields.items():
        value = cell(index)
        if value:
            data[name] = value
    first, last = data.pop("first_name", ""), data.pop("last_name", "")
    if (first or last) and "name" not in data:
        data["name"] = f"{first} {last}".strip()
    try:
        data["email"] = contact_rules.normalize_email(data.get("email", ""))
        if "locale" in data:
            data["locale"] = contact_rules.normalize_locale(data["locale"])
        if "time_zone" in data:
            data["time_zone"] = contact_rules.normalize_time_zone(data["time_zone"])
    except ValidationError as exc:
        raise RowError(exc.messages[0]) from None
    for name in ("name", "company", "external_id"):
        value = data.get(name, "")
        limit = contact_rules.MAX_LENGTHS[name]
        if len(value) > limit:
            label = name.replace("_", " ").capitalize()
            raise RowError(f"{label} is too long ({len(value)} characters, at most {limit}).")
    attributes = {}
    for index, key in layout.attributes:
        value = cell(index)
        if not value:
            continue
        if len(value) > contact_rules.ATTRIBUTE_VALUE_MAX:
            raise RowError(
                f"“{key}” is too long ({len(value)} characters, "
                f"at most {contact_rules.ATTRIBUTE_VALUE_MAX})."
            )
        attributes[key] = value
    if attributes:
        data["attributes"] = attributes
    return data


# --- Starting and running an import ------------------------------------------------------


@transaction.atomic
def import_create(
    *, org: Organization, actor: Actor, filename: str, content: bytes
) -> ContactImport:
    """Store the upload and queue its processing (after commit). Rejects only what is
    certainly not importable: an empty or oversized file."""
    if not content:
        raise ValidationError({"file": ["The file is empty."]})
    if len(content) > MAX_FILE_BYTES:
        raise ValidationError(
            {"file": [f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB."]}
        )
    contact_import = ContactImport.objects.create(
        organization=org,
        created_by=actor.user,
        filename=(filename or "contacts.csv")[-255:],
        content=content,
    )
    audit(org=org, actor=actor, action="contact_import.created", obj=contact_import)
    pk = contact_import.pk
    transaction.on_commit(lambda: _start(pk))
    return contact_import


def _start(import_id: int) -> None:
    """Queue the import. The embedded demo (Celery eager, ``CX_IMPORT_IN_THREAD``) runs it
    in a thread instead, so the upload returns at once and the progress shows there too."""
    if settings.CELERY_TASK_ALWAYS_EAGER and getattr(settings, "CX_IMPORT_IN_THREAD", False):
        threading.Thread(
            target=_run_in_thread, args=(import_id,), name=f"import-{import_id}", daemon=True
        ).start()
        return
    queue.send_now("feedback.tasks.contacts.contact_import_run", (import_id,))


def _run_in_thread(import_id: int) -> None:
    try:
        import_run(import_id=import_id)
    except Exception:
        logger.exception("contact import %s failed in its thread", import_id)
    finally:
        connection.close()


STALL_PENDING = timedelta(minutes=2)
STALL_RUNNING = timedelta(minutes=20)


def imports_stalled() -> list[int]:
    """Imports that should be running but show no sign of it: never picked up, or started
    long ago (a worker killed mid-file). Their rerun resumes, guarded per batch."""
    now = timezone.now()
    stalled = ContactImport.objects.filter(
        Q(status=ImportStatus.PENDING, created_at__lt=now - STALL_PENDING)
        | Q(status=ImportStatus.RUNNING, started_at__lt=now - STALL_RUNNING)
    )
    return list(stalled.order_by("id").values_list("id", flat=True)[:100])


class SupersededError(Exception):
    """Another run advanced this import first; this run stops."""


@dataclass
class _Run:
    contact_import: ContactImport
    errors: list[dict[str, Any]]
    seen: dict[str, int] = field(default_factory=dict)  # email -> row that kept it
    batch: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    batch_errors: list[dict[str, Any]] = field(default_factory=list)
    batch_rows: int = 0


def import_run(*, import_id: int) -> ContactImport:
    """Process an import to the end. Safe to repeat: a finished import is left alone, and a
    run that was interrupted continues after its last committed batch."""
    now = timezone.now()
    ContactImport.objects.filter(pk=import_id, status=ImportStatus.PENDING).update(
        status=ImportStatus.RUNNING, started_at=now
    )
    contact_import = ContactImport.objects.select_related("organization").get(pk=import_id)
    if contact_import.status != ImportStatus.RUNNING:
        return contact_import
    try:
        parsed = parse(bytes(contact_import.content))
        total = sum(1 for _ in parsed.records())
        ContactImport.objects.filter(pk=import_id).update(total_rows=total)
        contact_import.total_rows = total
        _process(contact_import, parsed)
    except ImportFileError as exc:
        _fail(contact_import, str(exc))
    except SupersededError:
        logger.info("Import %s is being processed by another run; this one stops.", import_id)
    contact_import.refresh_from_db()
    return contact_import


def _process(contact_import: ContactImport, parsed: ParsedFile) -> None:
    run = _Run(contact_import=contact_import, errors=list(contact_import.errors or []))
    already = contact_import.processed_rows
    for index, (row_number, cells) in enumerate(parsed.records(), start=1):
        try:
            data = check_row(cells, parsed.layout)
            first = run.seen.get(data["email"])
            if first is not None:
                raise RowError(f"Duplicate: the same email as row {first}, which was kept.")
        except RowError as exc:
            if index > already:
                email_index = parsed.layout.fields["email"]
                email = cells[email_index].strip()[:254] if email_index < len(cells) else ""
                run.batch_errors.append({"row": row_number, "email": email, "reason": str(exc)})
        else:
            run.seen[data["email"]] = row_number
            if index > already:
                run.batch.append((row_number, data))
        if index > already:
            run.batch_rows += 1
            if run.batch_rows >= BATCH_SIZE:
                _flush(run)
    _flush(run)
    _finish(contact_import)


def _flush(run: _Run) -> None:
    if not run.batch_rows:
        return
    contact_import = run.contact_import
    start = contact_import.processed_rows
    for attempt in range(3):
        try:
            with transaction.atomic():
                created, updated = _upsert(contact_import.organization, run.batch)
                stored = run.errors + run.batch_errors[: MAX_STORED_ERRORS - len(run.errors)]
                advanced = ContactImport.objects.filter(
                    pk=contact_import.pk, status=ImportStatus.RUNNING, processed_rows=start
                ).update(
                    processed_rows=start + run.batch_rows,
                    created_count=F("created_count") + created,
                    updated_count=F("updated_count") + updated,
                    error_count=F("error_count") + len(run.batch_errors),
                    errors=stored,
                )
                if not advanced:
                    raise SupersededError
            break
        except IntegrityError:
            # A contact with one of these addresses was created meanwhile (the API, another
            # import): read the existing rows again and redo the batch.
            if attempt == 2:
                raise
    run.errors = stored
    contact_import.processed_rows = start + run.batch_rows
    run.batch, run.batch_errors, run.batch_rows = [], [], 0


def _upsert(org: Organization, batch: list[tuple[int, dict[str, Any]]]) -> tuple[int, int]:
    """Create the new addresses and update the known ones; returns (created, updated).

    ``bulk_create(update_conflicts=...)`` cannot target the expression-based unique
    constraint on Lower(email), so existing rows are read first (emails are stored
    lower-case, so a plain ``IN`` uses the index)."""
    if not batch:
        return 0, 0
    emails = [data["email"] for _, data in batch]
    existing = {
        c.email: c
        for c in Contact.objects.filter(organization=org, email__in=emails).only(
            "id", "email", "attributes", *PROFILE_UPDATE_FIELDS
        )
    }
    now = timezone.now()
    new: list[dict[str, Any]] = []
    changed: list[Contact] = []
    for _, data in batch:
        contact = existing.get(data["email"])
        if contact is None:
            new.append(data)
            continue
        dirty = False
        for name in PROFILE_UPDATE_FIELDS:
            value = data.get(name)
            if value and getattr(contact, name) != value:
                setattr(contact, name, value)
                dirty = True
        attributes = data.get("attributes")
        if attributes:
            merged = {**(contact.attributes or {}), **attributes}
            if merged != contact.attributes:
                contact.attributes = merged
                dirty = True
        if dirty:
            contact.updated_at = now
            changed.append(contact)
    if new:
        _insert_rows(org, new, now)
    if changed:
        _update_rows(changed, [*PROFILE_UPDATE_FIELDS, "attributes", "updated_at"])
    return len(new), len(changed)


# Inserts and updates go through ``executemany`` with one parametrised statement: Django's
# bulk_create spends ~0.15 ms of Python per row compiling its multi-row INSERT, and
# bulk_update builds a CASE expression per field over the whole batch (about a second per
# thousand rows). executemany (a pipeline on PostgreSQL) keeps 100 000 rows within seconds.
# Column names come from the model; every value is a parameter.
_INSERT_FIELDS = [
    "organization",
    "email",
    *PROFILE_UPDATE_FIELDS,
    "attributes",
    "suppression_reason",
    "created_at",
    "updated_at",
]


def _insert_rows(org: Organization, rows: list[dict[str, Any]], now: Any) -> None:
    fields = [Contact._meta.get_field(name) for name in _INSERT_FIELDS]
    qn = connection.ops.quote_name
    columns = ", ".join(qn(f.column) for f in fields)
    one_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    attributes = Contact._meta.get_field("attributes")
    stamp = Contact._meta.get_field("created_at").get_db_prep_save(now, connection)
    values = [
        [
            org.pk,
            row["email"],
            *(row.get(name, "") for name in PROFILE_UPDATE_FIELDS),
            attributes.get_db_prep_save(row.get("attributes", {}), connection),
            "",
            stamp,
            stamp,
        ]
        for row in rows
    ]
    per_statement = max(1, min(500, connection.ops.bulk_batch_size(fields, values)))
    with connection.cursor() as cursor:
        for start in range(0, len(values), per_statement):
            chunk = values[start : start + per_statement]
            sql = (
                f"INSERT INTO {qn(Contact._meta.db_table)} ({columns}) "  # noqa: S608
                f"VALUES {', '.join([one_row] * len(chunk))}"
            )
            cursor.execute(sql, [value for row in chunk for value in row])


def _update_rows(contacts: list[Contact], names: list[str]) -> None:
    model_fields = [Contact._meta.get_field(name) for name in names]
    qn = connection.ops.quote_name
    assignments = ", ".join(f"{qn(f.column)} = %s" for f in model_fields)
    sql = f"UPDATE {qn(Contact._meta.db_table)} SET {assignments} WHERE {qn('id')} = %s"  # noqa: S608
    params = [
        [f.get_db_prep_save(getattr(c, f.attname), connection) for f in model_fields] + [c.pk]
        for c in contacts
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _finish(contact_import: ContactImport) -> None:
    with transaction.atomic():
        finished = ContactImport.objects.filter(
            pk=contact_import.pk, status=ImportStatus.RUNNING
        ).update(status=ImportStatus.DONE, finished_at=timezone.now())
        if finished:
            contact_import.refresh_from_db()
            audit(
                org=contact_import.organization,
                actor=_actor_of(contact_import),
                action="contact_import.finished",
                obj=contact_import,
                changes={
                    "created": [None, contact_import.created_count],
                    "updated": [None, contact_import.updated_count],
                    "errors": [None, contact_import.error_count],
                },
            )


def _fail(contact_import: ContactImport, reason: str) -> None:
    with transaction.atomic():
        failed = ContactImport.objects.filter(
            pk=contact_import.pk, status=ImportStatus.RUNNING
        ).update(status=ImportStatus.FAILED, failure=reason, finished_at=timezone.now())
        if failed:
            audit(
                org=contact_import.organization,
                actor=_actor_of(contact_import),
                action="contact_import.failed",
                obj=contact_import,
                changes={"failure": [None, reason]},
            )


def _actor_of(contact_import: ContactImport) -> Actor:
    return Actor(user=contact_import.created_by) if contact_import.created_by_id else SYSTEM


# --- The bad rows, for download ---------------------------------------------------------


def bad_rows_csv(contact_import: ContactImport) -> str:
    """The stored bad rows as CSV: ``import_row`` and ``import_error``, then the row's own
    cells under the file's own header. Fixed and uploaded again, it imports as it is (the
    two extra columns are ignored on upload)."""
    out = io.StringIO()
    writer = csv.writer(out)
    stored = contact_import.errors or []
    try:
        parsed = parse(bytes(contact_import.content))
    except ImportFileError:
        writer.writerow(["import_row", "import_error", "email"])
        for error in stored:
            writer.writerow([error["row"], error["reason"], error.get("email", "")])
        return out.getvalue()
    writer.writerow(["import_row", "import_error", *parsed.layout.header])
    reasons = {error["row"]: error["reason"] for error in stored}
    if reasons:
        last = max(reasons)
        for row_number, cells in parsed.records():
            if row_number in reasons:
                writer.writerow([row_number, reasons[row_number], *cells])
            if row_number >= last:
                break
    return out.getvalue()
