"""A test app contributing a slow pipeline step, installed in the integration workers
(tests/integration/settings_pipeline.py), the way scorecards will contribute its own."""
