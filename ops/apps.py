from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class OpsConfig(AppConfig):
    default = True
    name = "ops"
    verbose_name = "Ops"


class OpsAdminConfig(admin_apps.AdminConfig):
    """Django's admin, on the Takes admin site (ops pages included), found by `admin.site`."""

    default = False
    default_site = "ops.site.TakesAdminSite"
