import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0009_outbox_claim_token'),
    ]

    operations = [
        migrations.AddField(
            model_name='savedreply',
            name='category',
            field=models.CharField(blank=True, default='', max_length=40),
        ),
        migrations.AddField(
            model_name='savedreply',
            name='version',
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.AddField(
            model_name='savedreply',
            name='updated',
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
    ]
