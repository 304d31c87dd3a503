from cxplatform.formats import (  # noqa: F401  (the one date format, see the package)
    DATE_FORMAT,
    DATETIME_FORMAT,
    SHORT_DATE_FORMAT,
    SHORT_DATETIME_FORMAT,
)
