"""Real-process test support: free ports, managed processes, an SMTP sink, the stacks."""
