"""A campaign's uploaded list gets its own link model, CampaignContact, which carries
organization_id like every tenant table (Django's automatic link table had none).

Django cannot add ``through=`` to an existing many-to-many field, so the rows move: the
new table is made, filled from the old one (each link in its campaign's organization),
the old field and its table go, and the field comes back through the new model.
"""

import django.db.models.deletion
from django.db import migrations, models


def copy_links(apps, schema_editor):
    Campaign = apps.get_model("feedback", "Campaign")
    CampaignContact = apps.get_model("feedback", "CampaignContact")
    Old = Campaign.listed_contacts.through
    CampaignContact.objects.bulk_create(
        (
            CampaignContact(organization_id=org_id, campaign_id=campaign_id, contact_id=contact_id)
            for campaign_id, contact_id, org_id in Old.objects.values_list(
                "campaign_id", "contact_id", "campaign__organization_id"
            ).iterator(chunk_size=5000)
        ),
        batch_size=5000,
    )


def copy_back(apps, schema_editor):
    Campaign = apps.get_model("feedback", "Campaign")
    CampaignContact = apps.get_model("feedback", "CampaignContact")
    Old = Campaign.listed_contacts.through
    Old.objects.bulk_create(
        (
            Old(campaign_id=campaign_id, contact_id=contact_id)
            for campaign_id, contact_id in CampaignContact.objects.values_list(
                "campaign_id", "contact_id"
            ).iterator(chunk_size=5000)
        ),
        batch_size=5000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cxplatform", "0002_organization_language_choices"),
        ("feedback", "0005_org_first_constraints_and_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="CampaignContact",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "campaign",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="feedback.campaign",
                    ),
                ),
                (
                    "contact",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="feedback.contact",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="cxplatform.organization",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("organization", "campaign", "contact"),
                        name="one_listing_per_contact",
                    )
                ],
            },
        ),
        migrations.RunPython(copy_links, copy_back),
        migrations.RemoveField(model_name="campaign", name="listed_contacts"),
        migrations.AddField(
            model_name="campaign",
            name="listed_contacts",
            field=models.ManyToManyField(
                blank=True,
                related_name="listed_in_campaigns",
                through="feedback.CampaignContact",
                through_fields=("campaign", "contact"),
                to="feedback.contact",
            ),
        ),
    ]
