"""Create the (empty) Data officers group: who may export and erase besides superusers."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

DATA_OFFICER_PERMISSIONS = [
    ("privacy", "personaldatarequest", "export_personal_data"),
    ("privacy", "personaldatarequest", "erase_personal_data"),
    ("privacy", "personaldatarequest", "view_personaldatarequest"),
    ("privacy", "erasedconsent", "view_erasedconsent"),
    ("privacy", "suppressedhash", "view_suppressedhash"),
    ("comments", "comment", "view_comment"),
    ("subscriptions", "subscriber", "view_subscriber"),
]


def _ensure_permissions(apps, app_label):
    # Permissions are normally created after all migrations ran; these are needed now.
    app_config = apps.get_app_config(app_label)
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None


def create_group(apps, schema_editor):
    for app_label in ("privacy", "comments", "subscriptions"):
        _ensure_permissions(apps, app_label)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Data officers")
    for app_label, model, codename in DATA_OFFICER_PERMISSIONS:
        permission = Permission.objects.get(
            content_type__app_label=app_label, content_type__model=model, codename=codename
        )
        group.permissions.add(permission)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Data officers").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0001_initial"),
        ("comments", "0004_moderators_spam_filter"),
        ("subscriptions", "0002_create_daily_list"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
