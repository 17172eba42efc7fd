"""`make bench`: the production shape on loopback, loaded by wrk, reported as ratios.

Every web figure is compared with a bare Django view served by the same gunicorn in the
same run, in interleaved rounds, because the machines it runs on are shared and noisy.
"""
