"""Drop foreign-key indexes that another index already leads with.

Each of these columns also leads a composite index or a unique constraint,
so Django's own single-column index only cost writes (a refresh writes every
index of the membership and change tables once per change). The state
changes to db_index=False; the database only drops the index by name
(Django names it the same way on SQLite and PostgreSQL), so no table is
rebuilt on SQLite.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_lean_indexes'),
        ('health', '0003_current_health'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='healthscore',
                    name='account',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='health_scores', to='accounts.account'),
                ),
            ],
            database_operations=[migrations.RunSQL(
                'DROP INDEX IF EXISTS "health_healthscore_account_id_a7843cfa"',
                'CREATE INDEX "health_healthscore_account_id_a7843cfa" ON "health_healthscore" ("account_id")',
            )],
        ),
    ]
