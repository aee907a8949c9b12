"""An organisation's people, teams and admins: the org-chart import and HR's changes one at a time.

`chart` reads, checks, plans and applies an org chart; every change HR makes to one person or one
team (`people`, `team_admin`) is applied through it, so teams follow a manager's move exactly as
they do on import. `admins` adds and removes HR admins, `people_export` writes the people list in
the import's own columns, and `teams` holds the small helpers for setting up a team by hand.
"""
