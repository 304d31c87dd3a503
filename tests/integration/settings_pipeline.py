"""Worker settings for the pipeline integration test: the project's, plus a test app that
contributes a slow step."""

from cxplatform.settings import *  # noqa: F403
from cxplatform.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.integration.pipeline_app"]
