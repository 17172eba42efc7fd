"""Let the Moderators group add, list and lift bans and see readers' reports."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PERMISSIONS = {"ban": ["add_ban", "change_ban", "view_ban"], "flag": ["view_flag"]}


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
    for model, codenames in PERMISSIONS.items():
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="comments",
                content_type__model=model,
                codename__in=codenames,
            )
        )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group").objects.filter(name="Moderators").first()
    if group is not None:
        codenames = [name for names in PERMISSIONS.values() for name in names]
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="comments", codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [("comments", "0007_flags_and_bans")]

    operations = [migrations.RunPython(grant, revoke)]
