"""Let the Moderators group see the spam filter's page and queue a retraining."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PERMISSIONS = ["view_spammodelversion", "retrain_spam_filter"]


def _ensure_permissions(apps):
    # Permissions are normally created after all migrations ran; these are needed now.
    app_config = apps.get_app_config("comments")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None


def grant(apps, schema_editor):
    _ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Moderators")
    permissions = Permission.objects.filter(
        content_type__app_label="comments",
        content_type__model="spammodelversion",
        codename__in=PERMISSIONS,
    )
    group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group").objects.filter(name="Moderators").first()
    if group is not None:
        group.permissions.remove(*Permission.objects.filter(codename__in=PERMISSIONS))


class Migration(migrations.Migration):
    dependencies = [("comments", "0003_spam_model_version")]

    operations = [migrations.RunPython(grant, revoke)]
