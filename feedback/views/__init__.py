"""Staff and respondent pages of the feedback domain, one module per sub-domain."""
