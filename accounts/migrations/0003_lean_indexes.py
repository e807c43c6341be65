"""Drop foreign-key indexes that another index already leads with.

Each of these columns also leads a composite index or a unique constraint,
so Django's own single-column index only cost writes (a refresh writes every
index of the membership and change tables once per change). The state
changes to db_index=False; the database only drops the index by name
(Django names it the same way on SQLite and PostgreSQL), so no table is
rebuilt on SQLite.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_last_activity_and_event_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='account',
                    name='csm',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='managed_accounts', to=settings.AUTH_USER_MODEL, verbose_name='CSM'),
                ),
            ],
            database_operations=[migrations.RunSQL(
                'DROP INDEX IF EXISTS "accounts_account_csm_id_124572e2"',
                'CREATE INDEX "accounts_account_csm_id_124572e2" ON "accounts_account" ("csm_id")',
            )],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='enduser',
                    name='account',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='end_users', to='accounts.account'),
                ),
            ],
            database_operations=[migrations.RunSQL(
                'DROP INDEX IF EXISTS "accounts_enduser_account_id_7de9b610"',
                'CREATE INDEX "accounts_enduser_account_id_7de9b610" ON "accounts_enduser" ("account_id")',
            )],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='supportticket',
                    name='account',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='tickets', to='accounts.account'),
                ),
            ],
            database_operations=[migrations.RunSQL(
                'DROP INDEX IF EXISTS "accounts_supportticket_account_id_855d3b12"',
                'CREATE INDEX "accounts_supportticket_account_id_855d3b12" ON "accounts_supportticket" ("account_id")',
            )],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='touchpoint',
                    name='account',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='touchpoints', to='accounts.account'),
                ),
            ],
            database_operations=[migrations.RunSQL(
                'DROP INDEX IF EXISTS "accounts_touchpoint_account_id_45f62e85"',
                'CREATE INDEX "accounts_touchpoint_account_id_45f62e85" ON "accounts_touchpoint" ("account_id")',
            )],
        ),
    ]
