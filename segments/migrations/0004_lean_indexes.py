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
        ('segments', '0003_membershipchange_migration_indexes'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='accountmembership',
                    name='account',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='accounts.account'),
                ),
            ],
            database_operations=[migrations.RunSQL(
                'DROP INDEX IF EXISTS "segments_accountmembership_account_id_03d6cb6e"',
                'CREATE INDEX "segments_accountmembership_account_id_03d6cb6e" ON "segments_accountmembership" ("account_id")',
            )],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='accountmembership',
                    name='segment',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='account_memberships', to='segments.segment'),
                ),
            ],
            database_operations=[migrations.RunSQL(
                'DROP INDEX IF EXISTS "segments_accountmembership_segment_id_92c7a76b"',
                'CREATE INDEX "segments_accountmembership_segment_id_92c7a76b" ON "segments_accountmembership" ("segment_id")',
            )],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='membershipchange',
                    name='account',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.account'),
                ),
            ],
            database_operations=[migrations.RunSQL(
                'DROP INDEX IF EXISTS "segments_membershipchange_account_id_fb115f2d"',
                'CREATE INDEX "segments_membershipchange_account_id_fb115f2d" ON "segments_membershipchange" ("account_id")',
            )],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='membershipchange',
                    name='segment',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='changes', to='segments.segment'),
                ),
            ],
            database_operations=[migrations.RunSQL(
                'DROP INDEX IF EXISTS "segments_membershipchange_segment_id_02db815f"',
                'CREATE INDEX "segments_membershipchange_segment_id_02db815f" ON "segments_membershipchange" ("segment_id")',
            )],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='membershipchange',
                    name='user',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.enduser'),
                ),
            ],
            database_operations=[migrations.RunSQL(
                'DROP INDEX IF EXISTS "segments_membershipchange_user_id_eb97e4f1"',
                'CREATE INDEX "segments_membershipchange_user_id_eb97e4f1" ON "segments_membershipchange" ("user_id")',
            )],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='segmentsnapshot',
                    name='segment',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='snapshots', to='segments.segment'),
                ),
            ],
            database_operations=[migrations.RunSQL(
                'DROP INDEX IF EXISTS "segments_segmentsnapshot_segment_id_2f443f98"',
                'CREATE INDEX "segments_segmentsnapshot_segment_id_2f443f98" ON "segments_segmentsnapshot" ("segment_id")',
            )],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='usermembership',
                    name='segment',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='user_memberships', to='segments.segment'),
                ),
            ],
            database_operations=[migrations.RunSQL(
                'DROP INDEX IF EXISTS "segments_usermembership_segment_id_bfaad975"',
                'CREATE INDEX "segments_usermembership_segment_id_bfaad975" ON "segments_usermembership" ("segment_id")',
            )],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='usermembership',
                    name='user',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='accounts.enduser'),
                ),
            ],
            database_operations=[migrations.RunSQL(
                'DROP INDEX IF EXISTS "segments_usermembership_user_id_7f627709"',
                'CREATE INDEX "segments_usermembership_user_id_7f627709" ON "segments_usermembership" ("user_id")',
            )],
        ),
        migrations.AddIndex(
            model_name='membershipchange',
            index=models.Index(condition=models.Q(('user__isnull', False)), fields=['user', 'at'], name='change_user_at_idx'),
        ),
    ]
