"""Prepare a local demo: demo data when the database is empty, a demo superuser, the schedule."""

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from accounts.models import Account
from accounts.services import staff_set_role
from csbox.pipeline import nightly_schedule_ensure

DEMO_USERNAME = "admin"
DEMO_PASSWORD = "csbox-demo"  # noqa: S105 - a local demo account, printed to the console on purpose


class Command(BaseCommand):
    help = "Load demo data if the database is empty, create the local demo superuser and the nightly schedule."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000", help="where serve_all will listen (printed only)")

    def handle(self, *args, **options):
        if not Account.objects.exists():
            self.stdout.write("Empty database: loading demo data (seed_demo)...")
            call_command("seed_demo")
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=DEMO_USERNAME, defaults={"is_superuser": True, "is_staff": True, "email": "admin@example.com"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
            staff_set_role(user=user, role="ops")
        nightly_schedule_ensure()
        self.stdout.write(self.style.SUCCESS(
            f"Demo superuser: {DEMO_USERNAME} / {DEMO_PASSWORD}  ->  http://{options['addr']}/admin/"
        ))
