"""Partner organizations, referrals the requester agrees to, and published figures.

See docs/architecture.md, "The network". Nothing here reads a case without a
member's keys: a referral is built and signed while the caseworker proposes it and
only released by the requester's answer; figures are counted from clear metadata.
"""
