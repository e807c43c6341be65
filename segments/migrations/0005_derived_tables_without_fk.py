"""No database foreign keys on the membership and change-log tables.

They are written only by the refresh's set-based statements (ids read from the
accounts and users tables in the same statement) and the ORM still cascades
deletes; the per-row deferred key checks were ~45% of a first refresh on
PostgreSQL. On SQLite each table is rebuilt once (its constraints live in
CREATE TABLE).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_lean_indexes'),
        ('segments', '0004_lean_indexes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='accountmembership',
            name='account',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='accounts.account'),
        ),
        migrations.AlterField(
            model_name='accountmembership',
            name='segment',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='account_memberships', to='segments.segment'),
        ),
        migrations.AlterField(
            model_name='membershipchange',
            name='account',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.account'),
        ),
        migrations.AlterField(
            model_name='membershipchange',
            name='segment',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='changes', to='segments.segment'),
        ),
        migrations.AlterField(
            model_name='membershipchange',
            name='user',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.enduser'),
        ),
        migrations.AlterField(
            model_name='usermembership',
            name='segment',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='user_memberships', to='segments.segment'),
        ),
        migrations.AlterField(
            model_name='usermembership',
            name='user',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='accounts.enduser'),
        ),
    ]
