"""Pytest glue over ``devstack`` and helpers the tests of several apps share."""
