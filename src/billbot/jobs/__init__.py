"""Background work as jobs: one catalog of job functions, two drivers.

`catalog` names every job (a digest for one channel and day, one channel's reminders, the
recovery steps) and the sweeps that find due work and defer it. `local` runs them in the one
process from APScheduler ticks (SQLite, the embedded default); `queue` runs them on
procrastinate's PostgreSQL queue, shared by every replica (locks, deduplication, retries,
periodic sweeps fired once). The claim rows under them still make each effect happen once.
"""
