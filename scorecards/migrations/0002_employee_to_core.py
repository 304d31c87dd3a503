"""Employee now lives in the core (cxplatform.0004 renamed its table): drop the state."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("scorecards", "0001_initial"),
        ("cxplatform", "0004_employee"),
        ("feedback", "0008_employee_in_core"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Employee")],
        ),
    ]
