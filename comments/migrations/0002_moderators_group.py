"""Create the Moderators group with just the permissions moderation needs."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MODERATOR_PERMISSIONS = [
    ("comments", "article", "view_article"),
    ("comments", "article", "change_article"),
    ("comments", "comment", "view_comment"),
    ("comments", "comment", "moderate_comment"),
    ("comments", "moderationevent", "view_moderationevent"),
    ("comments", "moderationword", "view_moderationword"),
    ("comments", "moderationword", "add_moderationword"),
    ("comments", "moderationword", "change_moderationword"),
    ("comments", "moderationword", "delete_moderationword"),
]


def _ensure_permissions(apps):
    # Permissions are normally created after all migrations ran; this one needs them now.
    app_config = apps.get_app_config("comments")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None


def create_group(apps, schema_editor):
    _ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Moderators")
    for app_label, model, codename in MODERATOR_PERMISSIONS:
        permission = Permission.objects.get(
            content_type__app_label=app_label, content_type__model=model, codename=codename
        )
        group.permissions.add(permission)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Moderators").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("comments", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
