"""Events: the external_id unique and the user index only where the value is given.

Most events have neither an external_id nor a user; full indexes took an
entry for each of their NULLs, written on every imported event for nothing
(docs/decisions.md, "Partial indexes on events"). On SQLite removing the
column's UNIQUE rebuilds the events table once.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_lean_indexes'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='event',
            name='event_user_time_idx',
        ),
        migrations.AlterField(
            model_name='event',
            name='external_id',
            field=models.CharField(blank=True, max_length=100, null=True),
        ),
        migrations.AddIndex(
            model_name='event',
            index=models.Index(condition=models.Q(('user__isnull', False)), fields=['user', 'occurred_at'], name='event_user_time_idx'),
        ),
        migrations.AddConstraint(
            model_name='event',
            constraint=models.UniqueConstraint(condition=models.Q(('external_id__isnull', False)), fields=('external_id',), name='event_external_id_unique'),
        ),
    ]
