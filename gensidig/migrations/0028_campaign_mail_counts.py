"""Counts of each campaign's invitation e-mails by status, kept by the database (CampaignMailCount).

Triggers on the e-mails keep the counts in the same statement that changes them, whoever runs
it: the outbox, the demo's bulk updates, a cascade deleting rounds, teams or a campaign. Application
code that keeps a counter by hand would have to remember every one of those, and stay exact
through the deletions Django makes on its own. A trigger on the campaigns removes a campaign's
counts when the campaign itself goes (its e-mails are gone by then, whatever the order).

PostgreSQL: one trigger per statement, over the statement's changed rows (transition tables), so a
sender's claim of 50 e-mails changes two count rows once, not fifty times; each connection writes
to its own share of the count (`slot`, its server process number modulo 8), so eight senders
seldom wait for each other's counts. SQLite: a trigger per row (it has no statement triggers),
one slot, one writer at a time anyway.

E-mails of rounds outside any campaign (a chief's own round) are not counted here; their pages
count their few e-mails directly.
"""

# ruff: noqa: S608 - the SQL is built from our own table names only; no value comes from outside.

import django.db.models.deletion
from django.db import migrations, models

# Shares of each count on PostgreSQL: one per connection's process number modulo this, so that
# eight senders (GENSIDIG_MAIL_SENDERS) seldom add to the same row at the same moment.
SLOTS = 8

COUNTS = "gensidig_campaignmailcount"
MAILS = "gensidig_invitationmail"
ROUNDS = "gensidig_round"
CAMPAIGNS = "gensidig_campaign"

FILL = f"""
INSERT INTO {COUNTS} (campaign_id, status, slot, n)
SELECT r.campaign_id, m.status, 0, COUNT(*)
FROM {MAILS} m JOIN {ROUNDS} r ON r.id = m.round_id
WHERE r.campaign_id IS NOT NULL
GROUP BY r.campaign_id, m.status
"""

# --- PostgreSQL -------------------------------------------------------------------------------

# Changes (round, status, +1 or -1) in, counts added per campaign and status. In a fixed order, so
# two statements adding to the same rows lock them in the same order and never deadlock.
_PG_ADD = f"""
    INSERT INTO {COUNTS} AS kept (campaign_id, status, slot, n)
    SELECT r.campaign_id, change.status, pg_backend_pid() % {SLOTS}, SUM(change.n)
    FROM (CHANGES) AS change JOIN {ROUNDS} r ON r.id = change.round_id
    WHERE r.campaign_id IS NOT NULL
    GROUP BY r.campaign_id, change.status
    HAVING SUM(change.n) <> 0
    ORDER BY r.campaign_id, change.status
    ON CONFLICT (campaign_id, status, slot) DO UPDATE SET n = kept.n + EXCLUDED.n;
"""

_PG_CHANGES = {
    "insert": "SELECT round_id, status, 1 AS n FROM new_rows",
    "update": "SELECT round_id, status, 1 AS n FROM new_rows UNION ALL SELECT round_id, status, -1 FROM old_rows",
    "delete": "SELECT round_id, status, -1 AS n FROM old_rows",
}
_PG_TABLES = {
    "insert": "NEW TABLE AS new_rows",
    "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "OLD TABLE AS old_rows",
}


def _postgres_create() -> list[str]:
    statements = []
    for event, changes in _PG_CHANGES.items():
        function = f"gensidig_mail_counts_{event}"
        statements += [
            f"""CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                {_PG_ADD.replace("CHANGES", changes)}
                RETURN NULL;
            END $$""",
            f"""CREATE TRIGGER {function} AFTER {event.upper()} ON {MAILS}
            REFERENCING {_PG_TABLES[event]} FOR EACH STATEMENT EXECUTE FUNCTION {function}()""",
        ]
    statements += [
        f"""CREATE FUNCTION gensidig_mail_counts_campaign_gone() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM {COUNTS} WHERE campaign_id = OLD.id;
            RETURN NULL;
        END $$""",
        f"""CREATE TRIGGER gensidig_mail_counts_campaign_gone AFTER DELETE ON {CAMPAIGNS}
        FOR EACH ROW EXECUTE FUNCTION gensidig_mail_counts_campaign_gone()""",
    ]
    return statements


def _postgres_drop() -> list[str]:
    statements = [f"DROP TRIGGER IF EXISTS gensidig_mail_counts_{event} ON {MAILS}" for event in _PG_CHANGES]
    statements += [f"DROP FUNCTION IF EXISTS gensidig_mail_counts_{event}()" for event in _PG_CHANGES]
    statements += [
        f"DROP TRIGGER IF EXISTS gensidig_mail_counts_campaign_gone ON {CAMPAIGNS}",
        "DROP FUNCTION IF EXISTS gensidig_mail_counts_campaign_gone()",
    ]
    return statements


# --- SQLite -----------------------------------------------------------------------------------


def _sqlite_add(row: str, n: int) -> str:
    """Add n to the count of the e-mail `row` (NEW or OLD) if its round belongs to a campaign."""
    return f"""
        INSERT INTO {COUNTS} (campaign_id, status, slot, n)
        SELECT campaign_id, {row}.status, 0, {n} FROM {ROUNDS}
        WHERE id = {row}.round_id AND campaign_id IS NOT NULL
        ON CONFLICT (campaign_id, status, slot) DO UPDATE SET n = n + excluded.n;
    """


def _sqlite_create() -> list[str]:
    return [
        f"""CREATE TRIGGER gensidig_mail_counts_insert AFTER INSERT ON {MAILS}
        BEGIN {_sqlite_add("NEW", 1)} END""",
        f"""CREATE TRIGGER gensidig_mail_counts_update AFTER UPDATE OF status, round_id ON {MAILS}
        WHEN OLD.status IS NOT NEW.status OR OLD.round_id IS NOT NEW.round_id
        BEGIN {_sqlite_add("OLD", -1)} {_sqlite_add("NEW", 1)} END""",
        f"""CREATE TRIGGER gensidig_mail_counts_delete AFTER DELETE ON {MAILS}
        BEGIN {_sqlite_add("OLD", -1)} END""",
        f"""CREATE TRIGGER gensidig_mail_counts_campaign_gone AFTER DELETE ON {CAMPAIGNS}
        BEGIN DELETE FROM {COUNTS} WHERE campaign_id = OLD.id; END""",
    ]


def _sqlite_drop() -> list[str]:
    names = ["insert", "update", "delete", "campaign_gone"]
    return [f"DROP TRIGGER IF EXISTS gensidig_mail_counts_{name}" for name in names]


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": _postgres_create, "sqlite": _sqlite_create}[vendor]()
    # The counts so far first, then the triggers that keep them, in the migration's transaction.
    for statement in [FILL, *statements]:
        schema_editor.execute(statement, params=None)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": _postgres_drop, "sqlite": _sqlite_drop}[vendor]():
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("gensidig", "0027_invitation_mail_round")]

    operations = [
        migrations.CreateModel(
            name="CampaignMailCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Waiting to be sent"),
                            ("sending", "Interrupted while being sent"),
                            ("sent", "Sent"),
                            ("failed", "Could not be delivered"),
                        ],
                        max_length=10,
                    ),
                ),
                ("slot", models.PositiveSmallIntegerField(default=0)),
                ("n", models.IntegerField(default=0)),
                (
                    "campaign",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="gensidig.campaign",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("campaign", "status", "slot"), name="campaign_mail_count_unique")
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
