from django.db import migrations


def create_daily(apps, schema_editor):
    MailingList = apps.get_model("subscriptions", "MailingList")
    MailingList.objects.get_or_create(
        slug="daily",
        defaults={
            "name": "Daily News Update",
            "description": "The day's rare earth news, straight into your inbox every morning.",
            "is_public": True,
        },
    )


def remove_daily(apps, schema_editor):
    MailingList = apps.get_model("subscriptions", "MailingList")
    MailingList.objects.filter(slug="daily", subscriptions__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("subscriptions", "0001_initial")]

    operations = [migrations.RunPython(create_daily, remove_daily)]
