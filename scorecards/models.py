"""Scorecards: metric rollups, incentive programs, the points ledger, leaderboards and
recognition (later milestones). Employees, whom they reward, live in the core
(``cxplatform.models.Employee``)."""
