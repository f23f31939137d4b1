import datetime

from django.db import migrations


def fill_dashboard_columns(apps, schema_editor):
    """Referrals saved before these columns existed: read them from profile and menu."""
    Referral = apps.get_model("referrals", "Referral")
    for referral in Referral.objects.iterator(chunk_size=2000):
        options = referral.menu.get("options", [])
        referral.country = referral.profile.get("country", "") or ""
        referral.first_ranked = options[0]["group"] if options else ""
        referral.offered_non_twelve_step = any(o.get("kind") != "twelve_step" for o in options)
        if referral.chosen_group:
            referral.follow_up_due_on = referral.created_at.date() + datetime.timedelta(days=14)
        referral.save(
            update_fields=["country", "first_ranked", "offered_non_twelve_step", "follow_up_due_on"]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0002_follow_ups"),
    ]

    operations = [
        migrations.RunPython(fill_dashboard_columns, migrations.RunPython.noop),
    ]
