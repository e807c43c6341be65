"""CurrentHealth: each account's latest score, for the CSM lists; filled from the stored scores."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Exists, OuterRef, Subquery


def current_health_fill(apps, schema_editor):
    """Copy each account's latest HealthScore row (one INSERT ... SELECT, as health.services does)."""
    Account = apps.get_model("accounts", "Account")
    CurrentHealth = apps.get_model("health", "CurrentHealth")
    HealthScore = apps.get_model("health", "HealthScore")
    connection = schema_editor.connection
    latest = HealthScore.objects.filter(account_id=OuterRef("pk")).order_by("-date").values("pk")[:1]
    missing = Account.objects.filter(~Exists(CurrentHealth.objects.filter(account_id=OuterRef("pk"))))
    rows = HealthScore.objects.filter(pk__in=missing.values(latest_pk=Subquery(latest))).order_by()
    sql, params = rows.values_list("account_id", "date", "score", "label").query.sql_with_params()
    q = connection.ops.quote_name
    table = q(CurrentHealth._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (account_id, date, score, label) {sql}", params)  # noqa: S608


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_last_activity_and_event_indexes'),
        ('health', '0002_default_config'),
    ]

    operations = [
        migrations.CreateModel(
            name='CurrentHealth',
            fields=[
                ('account', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='current_health', serialize=False, to='accounts.account')),
                ('date', models.DateField()),
                ('score', models.PositiveSmallIntegerField(null=True)),
                ('label', models.CharField(blank=True, choices=[('good', 'Good'), ('average', 'Average'), ('poor', 'Poor')], max_length=10)),
            ],
            options={
                'verbose_name': 'current health',
                'verbose_name_plural': 'current health',
                'indexes': [models.Index(fields=['score', 'account'], name='currenthealth_score_idx'), models.Index(fields=['label', 'account'], name='currenthealth_label_idx')],
            },
        ),
        migrations.RunPython(current_health_fill, migrations.RunPython.noop, elidable=True),
    ]
