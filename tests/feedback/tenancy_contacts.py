"""Staff URLs of the contact pages, for the tenant-isolation walk."""

from __future__ import annotations

from tests.feedback.factories import ContactFactory, ContactImportFactory
from tests.test_tenant_isolation import register_staff_rows

register_staff_rows(
    {
        "feedback:contact_detail": lambda org: {"pk": ContactFactory(organization=org).pk},
        "feedback:contact_edit": lambda org: {"pk": ContactFactory(organization=org).pk},
        "feedback:contact_invite": lambda org: {"pk": ContactFactory(organization=org).pk},
        "feedback:contact_import_detail": lambda org: {
            "pk": ContactImportFactory(organization=org).pk
        },
        "feedback:contact_import_errors": lambda org: {
            "pk": ContactImportFactory(organization=org).pk
        },
    }
)
