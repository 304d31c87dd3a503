"""A slow step: it takes a while (so a worker can be killed in the middle of one) and
writes one audit event per run, in the step's transaction. It does not check whether it
ran before: that the event exists once per response is the pipeline's guarantee (a
killed or superseded attempt commits nothing)."""

from __future__ import annotations

import time

from cxplatform.services import SYSTEM, audit

STEP_SECONDS = 0.05


def slow_rollup(response) -> None:
    time.sleep(STEP_SECONDS)
    audit(org=response.organization, actor=SYSTEM, action="test.rollup", obj=response)
