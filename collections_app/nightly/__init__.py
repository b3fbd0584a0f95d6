"""The nightly jobs: one registry, the runner recording JobRun rows, the jobs page."""
