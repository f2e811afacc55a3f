"""Notifications without content: a member hears that something waits on the desk.

See docs/architecture.md ("Notifications") for the flow: audit entries and due
deadlines become counts per address (:mod:`.collect`), counts become one outbox
row per address when due (:mod:`.dispatch`, quiet hours and digests), the outbox
sends them through the organization's bot or SMTP server (:mod:`.channels`).
"""
