"""Haven: a secure, self-hostable help desk for human-rights and humanitarian networks."""

__version__ = "0.1.0"
