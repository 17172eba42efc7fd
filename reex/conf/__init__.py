"""The sections of reex's settings, assembled in order by ``reex/settings.py``."""
