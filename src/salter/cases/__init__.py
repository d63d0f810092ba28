"""Cases (predmeti): submission, registry number, timeline, tasks, transitions, deadlines."""
