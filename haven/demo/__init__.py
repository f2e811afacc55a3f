"""Demo seeding and ``haven demo``: the composition layer above every feature package.

It imports accounts, funds, intake, knowledge and telegram to fill a fresh data
folder with example organizations, members, cases and articles; nothing imports it.
"""
