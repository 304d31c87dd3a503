"""Invitations and responses point at cxplatform.Employee (its table was renamed by
cxplatform.0004). On PostgreSQL this swaps the foreign-key constraint only (no rewrite of
the large tables); SQLite rebuilds the two tables, which is what it needs to follow the
rename."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cxplatform", "0004_employee"),
        ("feedback", "0007_response_invitation_unique_per_org"),
    ]

    operations = [
        migrations.AlterField(
            model_name="invitation",
            name="employee",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="invitations",
                to="cxplatform.employee",
            ),
        ),
        migrations.AlterField(
            model_name="response",
            name="employee",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="responses",
                to="cxplatform.employee",
            ),
        ),
    ]
