from django.db import migrations

# The expression Django's SearchVector("text", config="english") produces, so that
# full-text search over quotes on PostgreSQL can use the index.
CREATE = (
    "CREATE INDEX IF NOT EXISTS studies_quote_text_search ON studies_quote "
    "USING gin (to_tsvector('english'::regconfig, COALESCE(text, '')))"
)
DROP = "DROP INDEX IF EXISTS studies_quote_text_search"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("studies", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
