from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0010_replies_language_versions'),
    ]

    operations = [
        migrations.AlterField(
            model_name='caserecord',
            name='kind',
            field=models.CharField(choices=[('answers', 'Answers to the questionnaire'), ('inbound', 'Message from the requester'), ('outbound', 'Reply to the requester'), ('note', 'Private note'), ('attachment', 'Attachment'), ('draft', 'Drafted document')], max_length=20),
        ),
    ]
