"""Employee moves from scorecards to the core, keeping every row: the table is renamed
(scorecards_employee → cxplatform_employee) and the model state moves; the foreign keys
of feedback follow in feedback.0008, then scorecards drops its state (scorecards.0002)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cxplatform", "0003_api_key_directory_and_org_first_keys"),
        ("scorecards", "0001_initial"),
        # Every migration that points at scorecards_employee by its old name runs first.
        ("feedback", "0007_response_invitation_unique_per_org"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE scorecards_employee RENAME TO cxplatform_employee",
                    reverse_sql="ALTER TABLE cxplatform_employee RENAME TO scorecards_employee",
                ),
            ],
            state_operations=[
                migrations.CreateModel(
                    name="Employee",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("name", models.CharField(max_length=200)),
                        ("email", models.EmailField(blank=True, max_length=254)),
                        ("external_id", models.CharField(blank=True, max_length=100)),
                        ("active", models.BooleanField(default=True)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "organization",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="cxplatform.organization",
                            ),
                        ),
                        (
                            "team",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="employees",
                                to="cxplatform.team",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["name", "id"],
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("external_id", ""), _negated=True),
                                fields=("organization", "external_id"),
                                name="employee_external_id_unique_per_org",
                            )
                        ],
                    },
                ),
            ],
        ),
        migrations.AddField(
            model_name="employee",
            name="manager",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="reports",
                to="cxplatform.employee",
            ),
        ),
        migrations.AlterField(
            model_name="employee",
            name="external_id",
            field=models.CharField(
                blank=True,
                help_text="The id of this person in your HR or CRM system (unique when given).",
                max_length=100,
            ),
        ),
    ]
